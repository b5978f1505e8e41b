"""seq2seq-data offline: corpora fetched from a local file:// mirror, checked by sha256, never left half-written."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List

import pytest

from seq2seq.data.download import MULTI30K, TATOEBA_DEU_ENG, TATOEBA_FRA_ENG, TatoebaSplits, write_splits
from seq2seq.errors import DataError

SHARED = Path("/work/shared/data")
needs_multi30k = pytest.mark.skipif(not (SHARED / "multi30k").is_dir(), reason=f"no {SHARED}/multi30k")


def run_data(args: List[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    # SEQ2SEQ_DATA is always set, so that a test can never write into the user's real data root
    full_env = {**os.environ, "SEQ2SEQ_DATA": str(cwd / "default-root"), **env}
    return subprocess.run([sys.executable, "-m", "seq2seq.cli.data", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=full_env)


def one_error_line(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    message = result.stderr.strip()
    assert "Traceback" not in message and "\n" not in message and message.startswith("error: "), message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> List[str]:
    """Temporary or hidden files that a failed download must not leave behind."""
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or p.suffix in (".part", ".tmp"))


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in MULTI30K.downloads:
        shutil.copyfile(SHARED / "multi30k" / name, folder / name)
    return folder


def test_list_names_every_corpus(tmp_path):
    result = run_data(["--list"], tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("multi30k", "tatoeba-deu-eng", "tatoeba-fra-eng"):
        assert name in result.stdout


def test_the_table_holds_one_hash_per_multi30k_file():
    splits, langs = ("train", "val", "test_2016_flickr"), ("en", "de", "fr", "cs")
    names = {f"{split}.{lang}.gz" for split in splits for lang in langs}
    assert set(MULTI30K.downloads) == names
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in MULTI30K.downloads.values())


@needs_multi30k
def test_multi30k_lands_in_the_data_root_and_is_not_fetched_twice(tmp_path, mirror):
    root = tmp_path / "data"
    result = run_data(["multi30k", "--root", str(root), "--base-url", mirror.as_uri()], tmp_path)
    assert result.returncode == 0, result.stderr
    for name, expected in MULTI30K.downloads.items():
        path = root / "multi30k" / name
        assert sha256(path) == expected and path.read_bytes() == (SHARED / "multi30k" / name).read_bytes(), name
    assert gzip.decompress((root / "multi30k" / "val.en.gz").read_bytes()).count(b"\n") == 1014
    assert result.stdout.count("downloaded ") == 12 and str(root / "multi30k") in result.stdout
    assert leftovers(root) == []

    stamps = {p.name: p.stat().st_mtime_ns for p in (root / "multi30k").iterdir()}
    # the data root from SEQ2SEQ_DATA this time, and a mirror that no longer exists: nothing may be fetched
    again = run_data(["multi30k", "--base-url", "file:///nonexistent"], tmp_path, SEQ2SEQ_DATA=str(root))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already there") == 12 and "downloaded" not in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in (root / "multi30k").iterdir()} == stamps


@needs_multi30k
def test_a_corrupted_file_is_refused_and_leaves_nothing_behind(tmp_path, mirror):
    bad = mirror / "val.de.gz"
    bad.write_bytes(bad.read_bytes() + b"x")
    root = tmp_path / "data"
    result = run_data(["multi30k", "--root", str(root), "--base-url", mirror.as_uri()], tmp_path)
    one_error_line(result, bad.as_uri(), MULTI30K.downloads["val.de.gz"], sha256(bad))
    folder = root / "multi30k"
    assert not (folder / "val.de.gz").exists() and leftovers(root) == []
    fetched = [name for name in MULTI30K.downloads if name != "val.de.gz"]  # the others are tried and kept
    assert sorted(p.name for p in folder.iterdir()) == sorted(fetched)
    assert all(sha256(folder / name) == MULTI30K.downloads[name] for name in fetched)


@needs_multi30k
def test_a_wrong_file_already_there_is_replaced(tmp_path, mirror):
    folder = tmp_path / "data" / "multi30k"
    folder.mkdir(parents=True)
    (folder / "val.cs.gz").write_bytes(b"not the release")
    result = run_data(["multi30k", "--root", str(tmp_path / "data"), "--base-url", str(mirror)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert sha256(folder / "val.cs.gz") == MULTI30K.downloads["val.cs.gz"]


def test_an_unreachable_mirror_says_what_to_download_by_hand(tmp_path):
    root = tmp_path / "data"
    result = run_data(["multi30k", "--root", str(root), "--base-url", "file:///nonexistent"], tmp_path)
    target = root / "multi30k" / "train.en.gz"
    # every one of the release's files is named, not only the first that failed
    one_error_line(result, "could not fetch 12 of the 12 files of multi30k", "file:///nonexistent/",
                   f"by hand into {root / 'multi30k'}", *MULTI30K.downloads)
    assert not target.exists() and leftovers(root) == []


def test_an_unknown_corpus_lists_the_known_ones(tmp_path):
    result = run_data(["wmt14"], tmp_path)
    one_error_line(result, "wmt14", "multi30k", "tatoeba-deu-eng", "tatoeba-fra-eng")


def test_a_bad_option_is_one_line(tmp_path):
    one_error_line(run_data(["multi30k", "--bogus"], tmp_path), "--bogus")
    one_error_line(run_data([], tmp_path), "--list")


@pytest.mark.parametrize("corpus", [TATOEBA_DEU_ENG, TATOEBA_FRA_ENG], ids=lambda c: c.name)
def test_tatoeba_splits_are_rebuilt_from_the_original_zip(tmp_path, corpus):
    shared = SHARED / corpus.name
    if not (shared / "orig").is_dir():
        pytest.skip(f"no {shared}/orig")
    root = tmp_path / "data"
    result = run_data([corpus.name, "--root", str(root), "--base-url", (shared / "orig").as_uri()], tmp_path)
    assert result.returncode == 0, result.stderr
    folder = root / corpus.name
    (archive,) = corpus.downloads
    assert sha256(folder / "orig" / archive) == corpus.downloads[archive]
    for stem in corpus.splits.content_sha256:
        ours = gzip.decompress((folder / f"{stem}.gz").read_bytes())
        assert ours == gzip.decompress((shared / f"{stem}.gz").read_bytes()), stem
    assert leftovers(root) == []
    again = run_data([corpus.name, "--root", str(root), "--base-url", "file:///nonexistent"], tmp_path)
    assert again.returncode == 0 and again.stdout.count("already there") == 6, again.stderr


def test_a_rebuild_that_differs_writes_nothing_and_says_what_to_put_where(tmp_path):
    archive = tmp_path / "orig.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("deu.txt", "".join(f"Sentence {i}.\tSatz {i}.\n" for i in range(6000)))
    splits = TatoebaSplits(member="deu.txt", lang="de", content_sha256=TATOEBA_DEU_ENG.splits.content_sha256)
    with pytest.raises(DataError) as caught:
        write_splits(splits, archive, tmp_path / "out", log=lambda _: None)
    message = str(caught.value)
    assert "\n" not in message and "by hand" in message
    assert "train.en.gz" in message and str(tmp_path / "out") in message
    assert not (tmp_path / "out").exists()
