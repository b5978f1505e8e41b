"""Prepared corpora: exactly the pairs and ids of the files, made once and shared, rebuilt when stale or broken,
safe under concurrent preparation and a full disk; data-parallel ranks read their share of one map."""

from __future__ import annotations

import errno
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seq2seq.config import TrainConfig
from seq2seq.data import prepared
from seq2seq.data.batching import EpochIterator
from seq2seq.data.corpus import load_task_data
from seq2seq.data.files import clean_line, read_lines, write_lines
from seq2seq.errors import DataError

from conftest import ROOT, TINY_TOY, train_config

TINY_MODEL = [o for o in TINY_TOY if o.startswith(("model.", "trainer."))]
SRC = ["Ein Hund läuft.", "  ", "Zwei\tKatzen schlafen.", "Ein \u200bMann liest.", "Kinder spielen im Park.",
       "Die Sonne scheint.", "Ein sehr, sehr langer Satz mit vielen Wörtern, der länger ist als erlaubt.", "Ja."]
TGT = ["A dog runs.", "Nobody.", "Two cats sleep.", "A man reads.", "", "The sun shines.",
       "A very, very long sentence with many words that is longer than allowed.", "Yes."]


def corpus(root: Path, gz_target: bool = True) -> None:
    """A small de-en corpus with blank sides, tabs and zero-width characters; the English side gzipped."""
    folder = root / "c"
    write_lines(folder / "train.de", SRC * 5)
    if gz_target:
        with gzip.open(folder / "train.en.gz", "wt", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in TGT * 5))
    else:
        write_lines(folder / "train.en", TGT * 5)
    for split in ("val", "test"):
        write_lines(folder / f"{split}.de", SRC[:1])
        write_lines(folder / f"{split}.en", TGT[:1])


def config(root: Path, *overrides: str) -> TrainConfig:
    return train_config([*TINY_MODEL, "data=files", f"data.root={root}", "data.dir=c", "data.train=train",
                         "data.valid=val", "data.test=test", "data.src=de", "data.tgt=en", "data.spm.vocab_size=60",
                         f"data.prepared={root / 'prepared'}", "data.max_length=16", *overrides])


def load(cfg: TrainConfig, run: Path):
    return load_task_data(cfg.data, cfg.tasks, run, cfg.trainer.seed)


def test_the_prepared_corpus_holds_exactly_the_pairs_and_ids_of_the_files(tmp_path):
    corpus(tmp_path)
    cfg = config(tmp_path, "data.train_lines=2:37")
    data, vocabs = load(cfg, tmp_path / "run")
    lines = list(zip(read_lines(tmp_path / "c" / "train.de"), read_lines(tmp_path / "c" / "train.en.gz")))[2:37]
    pairs = [(clean_line(s), clean_line(t)) for s, t in lines]
    pairs = [(s, t) for s, t in pairs if s and t]
    src_ids, tgt_ids = vocabs["de"].encode([s for s, _ in pairs]), vocabs["en"].encode([t for _, t in pairs])
    within = [(s, t) for s, t in zip(src_ids, tgt_ids) if len(s) <= 16 and len(t) + 1 <= 16]
    train = data["de-en"].train
    assert 0 < len(within) < len(pairs)  # the length filter took some: the test sees both sides of it
    assert list(zip(train.ids("src"), train.ids("tgt"))) == within
    manifest = json.loads((data["de-en"].prepared / "manifest.json").read_text())
    assert manifest["pairs"] == len(pairs) and manifest["dtype"] == {"src": "uint16", "tgt": "uint16"}


def test_a_run_a_resume_and_another_run_share_one_prepared_corpus(tmp_path, caplog):
    corpus(tmp_path)
    cfg = config(tmp_path)
    first, _ = load(cfg, tmp_path / "run")
    with caplog.at_level("INFO", logger="seq2seq"):
        again, _ = load(cfg, tmp_path / "run")  # a resume
        other, _ = load(config(tmp_path, "trainer.seed=9"), tmp_path / "other")  # a sweep member
    assert first["de-en"].prepared == again["de-en"].prepared == other["de-en"].prepared
    assert not any("pairs in" in r.message for r in caplog.records)  # nothing encoded again
    assert (tmp_path / "other" / "spm.de-en.model").read_bytes() == (tmp_path / "run" / "spm.de-en.model").read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "format", "garbage", "manifest"])
def test_a_broken_or_stale_prepared_corpus_is_made_again(tmp_path, damage, caplog):
    corpus(tmp_path)
    cfg = config(tmp_path)
    data, _ = load(cfg, tmp_path / "run")
    folder, expected = data["de-en"].prepared, data["de-en"].train.ids("tgt")
    manifest = json.loads((folder / "manifest.json").read_text())
    if damage == "truncate":  # a copy cut short
        with open(folder / "tgt.bin", "r+b") as handle:
            handle.truncate(manifest["bytes"]["tgt.bin"] - 2)
    elif damage == "format":  # written by an older version
        (folder / "manifest.json").write_text(json.dumps({**manifest, "format": 0}))
    elif damage == "garbage":  # ids beyond the vocabulary
        (folder / "src.bin").write_bytes(b"\xff" * manifest["bytes"]["src.bin"])
    else:
        (folder / "manifest.json").write_text("{not json")
    with caplog.at_level("WARNING", logger="seq2seq"):
        again, _ = load(cfg, tmp_path / "run")
    assert any("not used" in r.message and "preparing it again" in r.message for r in caplog.records)
    assert again["de-en"].prepared == folder and again["de-en"].train.ids("tgt") == expected


def test_changed_sources_or_options_are_never_read_from_the_old_corpus(tmp_path):
    corpus(tmp_path, gz_target=False)
    cfg = config(tmp_path)
    before, _ = load(cfg, tmp_path / "run")
    write_lines(tmp_path / "c" / "train.en", [line.upper() or "X" for line in TGT * 5])  # same size, other text
    after, vocabs = load(cfg, tmp_path / "new")
    assert after["de-en"].prepared != before["de-en"].prepared
    assert vocabs["en"].decode(after["de-en"].train.ids("tgt"))[0] == "A DOG RUNS."
    sampled, _ = load(config(tmp_path, "data.max_train_pairs=10"), tmp_path / "new")
    assert sampled["de-en"].prepared not in (before["de-en"].prepared, after["de-en"].prepared)


def test_unequal_line_counts_are_refused_before_any_encoding(tmp_path):
    corpus(tmp_path, gz_target=False)
    write_lines(tmp_path / "c" / "train.en", TGT * 4)
    with pytest.raises(DataError, match=r"train\.de has 40 lines but .*train\.en has 32: parallel files"):
        load(config(tmp_path), tmp_path / "run")
    assert not (tmp_path / "prepared" / "corpus").exists() and not list((tmp_path / "run").glob("spm.*"))


def test_a_full_disk_while_preparing_leaves_nothing_that_is_trusted(tmp_path, monkeypatch):
    corpus(tmp_path)
    cfg = config(tmp_path)
    real = prepared.write_prepared

    def failing(folder, identity, chunks, encoders, sizes, where):
        def full(lines):
            raise OSError(errno.ENOSPC, "No space left on device", str(folder / "src.bin"))
        return real(folder, identity, chunks, {"src": full, "tgt": full}, sizes, where)

    monkeypatch.setattr(prepared, "write_prepared", failing)
    with pytest.raises(DataError, match=r"could not be written \(No space left on device\); nothing half-made of "
                                        r"task de-en .* is kept; free space there or set data\.prepared"):
        load(cfg, tmp_path / "run")
    assert [p.name for p in (tmp_path / "prepared" / "corpus").iterdir() if not p.name.endswith(".lock")] == []
    monkeypatch.setattr(prepared, "write_prepared", real)
    data, _ = load(cfg, tmp_path / "run")  # the next start prepares it whole
    assert len(data["de-en"].train) > 0


CONCURRENT = """
import json, sys
sys.path.insert(0, {tests!r})
from conftest import train_config
from seq2seq.data.corpus import load_task_data
cfg = train_config({overrides!r})
data, _ = load_task_data(cfg.data, cfg.tasks, __import__("pathlib").Path(sys.argv[1]), 1)
print(json.dumps({{"folder": str(data["de-en"].prepared), "tgt": data["de-en"].train.ids("tgt")}}))
"""


def test_two_processes_preparing_one_corpus_at_once_agree(tmp_path):
    """Both start before either has finished: one prepares under the lock, the other waits and reads its corpus."""
    corpus(tmp_path)
    write_lines(tmp_path / "c" / "train.de", SRC * 4000)  # big enough that the two overlap
    with gzip.open(tmp_path / "c" / "train.en.gz", "wt", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in TGT * 4000))
    overrides = [*TINY_MODEL, "data=files", f"data.root={tmp_path}", "data.dir=c", "data.train=train",
                 "data.valid=val", "data.test=test", "data.src=de", "data.tgt=en", "data.spm.vocab_size=60",
                 f"data.prepared={tmp_path / 'prepared'}"]
    script = CONCURRENT.format(tests=str(ROOT / "tests"), overrides=overrides)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"run{i}")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT) for i in range(2)]
    results = []
    for process in runs:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0] == results[1] and len(results[0]["tgt"]) == 4000 * 6
    made = [p.name for p in (tmp_path / "prepared" / "corpus").iterdir() if not p.name.endswith(".lock")]
    assert made == [Path(results[0]["folder"]).name]  # one corpus, no temporary left


def test_data_parallel_ranks_read_their_share_of_each_global_batch(tmp_path):
    corpus(tmp_path)
    data, _ = load(config(tmp_path, "data.max_length=100"), tmp_path / "run")
    train = data["de-en"].train
    whole = EpochIterator(train, 60, seed=3, stream=0)
    ranks = [EpochIterator(train, 60, seed=3, stream=0, rank=r, world=2) for r in range(2)]
    for _ in range(12):
        batch, tokens = whole.next_share()
        shares = [it.next_share() for it in ranks]
        assert shares[0][1] == shares[1][1] == tokens == batch.n_tgt_tokens
        assert sum(s.n_tgt_tokens for s, _ in shares) == tokens
        for rank, (share, _) in enumerate(shares):  # every rank's share padded as the global batch
            assert torch.equal(share.src, batch.src[rank::2]) and torch.equal(share.tgt_in, batch.tgt_in[rank::2])
            assert torch.equal(share.tgt_out, batch.tgt_out[rank::2])
    assert np.array_equal(ranks[0].corpus.src_lengths, train.src_lengths)  # one map, not a copy per rank
