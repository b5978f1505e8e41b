"""Known public corpora and how to put them into the data root: sha256-checked downloads, rebuilt Tatoeba splits."""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import unicodedata
import urllib.request
import zipfile
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Callable, Dict, List, Tuple
from urllib.error import HTTPError

from seq2seq.atomic import write_atomic
from seq2seq.errors import DataError

TIMEOUT_S = 60  # per connection attempt and per read, not for the whole file
CHUNK = 1 << 16
SEED = 20240601  # the seed the published Tatoeba splits were made with
SPLIT_SIZES = (("test", 3000), ("valid", 2000))  # filled in this order, each to at least this many pairs
GITHUB = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class TatoebaSplits:
    """How the train/valid/test files are made from the ManyThings.org `English<TAB>other` file inside a zip."""

    member: str  # the tab-separated file inside the zip, e.g. deu.txt
    lang: str  # ISO 639-1 code of the second column
    content_sha256: Dict[str, str]  # "train.en" -> sha256 of the decompressed file


@dataclass(frozen=True)
class Corpus:
    name: str  # also the folder under the data root
    about: str
    base_url: str  # every download is base_url/FILE
    downloads: Dict[str, str]  # FILE -> sha256 of the file as published
    subfolder: str = ""  # where downloads go inside ROOT/name
    splits: TatoebaSplits | None = None


MULTI30K = Corpus(
    name="multi30k",
    about="Multi30k task 1, raw release (en, de, fr, cs; train, val, test_2016_flickr)",
    base_url=f"{GITHUB}/multi30k/dataset/a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1/raw",
    downloads={
        "train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
        "train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
        "train.fr.gz": "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
        "train.cs.gz": "a65adb8b32e3bc664f21ecba7a6e7f6950fd1f405e135f7c312faabdb6255077",
        "val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
        "val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
        "val.fr.gz": "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
        "val.cs.gz": "b63226e05c4bd5dd6a42897d74b86a1b9d2c31498252c572b1ea7f7996927fcc",
        "test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
        "test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
        "test_2016_flickr.fr.gz": "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
        "test_2016_flickr.cs.gz": "200a4a74cc9560f051924abb9803be008d1908d77f747e9141aeb86dfd2797f1",
    },
)

TATOEBA_DEU_ENG = Corpus(
    name="tatoeba-deu-eng",
    about="Tatoeba en-de pairs (ManyThings.org deu-eng.zip, 2018-05-13), split into train/valid/test here",
    base_url=f"{GITHUB}/rioyshky/translation/de48b7027f7318d77010a6e08ed928c10748c23d",
    downloads={"deu-eng.zip": "b7688f84f99fa33c17397c14d8bd9cef1fdeb2ee0bf50074767023aee8926e28"},
    subfolder="orig",
    splits=TatoebaSplits(member="deu.txt", lang="de", content_sha256={
        "train.en": "59ebb59bd3ac0a49bd4af2a6bbd99109d26426101dd780a3e285e150e306b455",
        "train.de": "41e8d4a1cc4d6641c415368c1b17f360f5bf4526526236fa4d0d7ac2a6a0572d",
        "valid.en": "30ee7a2d501c27f1eb4b4ee0e3e403cfc1840ace402faa60f3a1061310ed5fa8",
        "valid.de": "4f80a7f06b1187ca467b3243e03accf0285261d4d5cf52cbcba85d06eeac5292",
        "test.en": "aca694d95dfd249fd656cb5ec6f8cdae8f1edd172f58f2d8bd04ec4e15826a9b",
        "test.de": "845cc8c0505f7f1d84a563195225efa052db78ab21b582ef712c2a3b9b4291e9",
    }),
)

TATOEBA_FRA_ENG = Corpus(
    name="tatoeba-fra-eng",
    about="Tatoeba en-fr pairs (ManyThings.org fra-eng.zip, 2017-09-29), split into train/valid/test here",
    base_url=f"{GITHUB}/genimind/seq2seq/4f3f8eb0adde54fcc8b89394336b002e7961244c",
    downloads={"fra-eng.zip": "16c4f7d0df9e7c5e6c54cdb0447f3f4a18a55052ff5e2e0b27dd4a06c0e49d04"},
    subfolder="orig",
    splits=TatoebaSplits(member="fra.txt", lang="fr", content_sha256={
        "train.en": "1ff77baa420ffdc0026f7af5f019943dd005b568525054514517c5e965642e3f",
        "train.fr": "146444b498a89de5da4c9ba6b8ce8e11794899cf121c28c41a4c333e12fd6938",
        "valid.en": "4093666928bee6b29bb3a747ce00efc42a6dd2d1af809932d1744baf986c0b73",
        "valid.fr": "fd40865a9729b72c0277dcf59c8f84b04fb05c0188bfd0a6b773b4accaed616a",
        "test.en": "4dba793248c4116e0662ced9ea8af0aa5de457bc54ba5138410784724259667d",
        "test.fr": "866e921f97dc5c8a4cc789ecc47bb85089debc58651015b026252a2bab573a0e",
    }),
)

CORPORA: Dict[str, Corpus] = {c.name: c for c in (MULTI30K, TATOEBA_DEU_ENG, TATOEBA_FRA_ENG)}

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def corpus_named(name: str) -> Corpus:
    if name not in CORPORA:
        raise DataError(f"unknown corpus {name!r}; known corpora: {', '.join(CORPORA)}")
    return CORPORA[name]


def fetch(name: str, root: Path, base_url: str | None = None, log: Log = _quiet) -> Path:
    """Put corpus `name` into ROOT/NAME (files already there with the right hash are kept) and return that folder.
    `base_url` replaces the corpus's URL prefix (a mirror, or a local folder as a path or file:// URL)."""
    corpus = corpus_named(name)
    folder = Path(root) / corpus.name
    if corpus.splits is not None and _splits_present(corpus.splits, folder, log):
        return folder
    _make_folder(folder / corpus.subfolder)
    prefix = _url_prefix(base_url or corpus.base_url)
    failed = []  # every file is tried, so that one message names all that must be fetched by hand
    for file_name, sha256 in corpus.downloads.items():
        try:
            fetch_file(f"{prefix}/{file_name}", folder / corpus.subfolder / file_name, sha256, log)
        except DataError as err:
            failed.append((file_name, err))
    if len(failed) == 1:
        raise failed[0][1]
    if failed:
        names = ", ".join(name for name, _ in failed)
        raise DataError(f"could not fetch {len(failed)} of the {len(corpus.downloads)} files of {name} (the first: "
                        f"{failed[0][1]}); download {names} from {prefix}/ by hand into {folder / corpus.subfolder} "
                        "(or give --base-url a mirror or a local folder) and run the command again")
    if corpus.splits is not None:
        (archive,) = corpus.downloads
        write_splits(corpus.splits, folder / corpus.subfolder / archive, folder, log)
    return folder


def _url_prefix(base: str) -> str:
    """A URL without its trailing slash; a plain path is taken as a local folder."""
    if "://" not in base:
        base = Path(base).resolve().as_uri()
    return base.rstrip("/")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"{folder}: cannot create the folder ({_one_line(err)}); choose another --root") from None


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


# ---- checked downloads


def fetch_file(url: str, target: Path, sha256: str, log: Log = _quiet) -> None:
    """Download `url` to `target` unless it is there with this sha256; a bad download leaves nothing behind."""
    if target.is_file() and sha256_of_file(target) == sha256:
        log(f"already there: {target}")
        return
    # a temporary name in the same folder, so the rename is atomic and never leaves a half file under `target`
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        actual = _download(url, tmp, target)
        if actual != sha256:
            raise DataError(f"{url}: sha256 {actual} but expected {sha256}; the download was deleted (a damaged "
                            f"copy or a changed upstream file: retry, or check the file and put it at {target})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    log(f"downloaded {url} -> {target}")


def _download(url: str, tmp: Path, target: Path) -> str:
    """Copy `url` into `tmp` and return the sha256 of what was copied."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, HTTPException, ValueError) as err:  # URLError and timeouts are OSErrors; ValueError: bad URL
        reason = err if isinstance(err, HTTPError) else getattr(err, "reason", err)  # "<urlopen error ...>" unwrapped
        raise DataError(f"could not fetch {url} ({_one_line(reason)}); download it by hand to {target} "
                        "and run the command again") from None
    return digest.hexdigest()


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of_gzip_content(path: Path) -> str | None:
    """sha256 of the decompressed content (gzip bytes carry a timestamp), or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except (OSError, EOFError):
        return None
    return digest.hexdigest()


# ---- Tatoeba: the split files are rebuilt from the published zip (split_indices: whole groups of pairs that share a
# sentence, in SEED order, fill test, then valid; the rest is train)


def _splits_present(splits: TatoebaSplits, folder: Path, log: Log) -> bool:
    paths = [folder / f"{stem}.gz" for stem in splits.content_sha256]
    if all(p.is_file() and sha256_of_gzip_content(p) == h for p, h in zip(paths, splits.content_sha256.values())):
        for path in paths:
            log(f"already there: {path}")
        return True
    return False


def write_splits(splits: TatoebaSplits, archive: Path, folder: Path, log: Log = _quiet) -> None:
    """Rebuild the split files from `archive` and write the gzip files whose content is not already right.
    Every file is checked against its published content hash before any is written."""
    contents = split_contents(read_pairs(archive, splits.member), splits.lang)
    for stem, expected in splits.content_sha256.items():
        actual = hashlib.sha256(contents[stem]).hexdigest()
        if actual != expected:
            names = ", ".join(f"{name}.gz" for name in splits.content_sha256)
            raise DataError(f"{folder / stem}.gz: rebuilt from {archive.name} with content sha256 {actual} but "
                            f"expected {expected}; nothing was written (put {names} into {folder} by hand)")
    for stem, expected in splits.content_sha256.items():
        path = folder / f"{stem}.gz"
        if path.is_file() and sha256_of_gzip_content(path) == expected:
            log(f"already there: {path}")
            continue
        write_atomic(path, _gzip(contents[stem]))
        log(f"rebuilt {path} from {archive}")


def _gzip(content: bytes) -> bytes:
    """Gzip bytes that depend only on the content and zlib: no timestamp, and the OS byte 255 ("unknown")."""
    data = gzip.compress(content, mtime=0)
    return data[:9] + b"\xff" + data[10:]


def read_pairs(archive: Path, member: str) -> List[Tuple[str, str]]:
    """The `English<TAB>other` lines of `member` inside the zip `archive`, in file order."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            text = zipped.read(member).decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise DataError(f"{archive}: cannot read {member} ({_one_line(err)}); delete it and run again") from None
    pairs = []
    for number, line in enumerate(text.split("\n")[:-1], start=1):  # the text ends with "\n"
        english, tab, other = line.partition("\t")
        if not tab or "\t" in other:
            raise DataError(f"{archive}:{member}:{number}: expected 'English<TAB>translation'")
        pairs.append((english, other))
    return pairs


def normalised(sentence: str) -> str:
    """The key under which two sentences count as the same: NFKC, casefolded, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKC", sentence).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def components(pairs: List[Tuple[str, str]]) -> List[List[int]]:
    """Groups of pair indices linked by an equal normalised English or other side, by first index."""
    parent = list(range(len(pairs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps the trees flat
            i = parent[i]
        return i

    for side in (0, 1):
        first: Dict[str, int] = {}
        for i, pair in enumerate(pairs):
            j = first.setdefault(normalised(pair[side]), i)
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: Dict[int, List[int]] = {}
    for i in range(len(pairs)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda group: group[0])


def split_indices(pairs: List[Tuple[str, str]]) -> Dict[str, List[int]]:
    """Whole components, in seeded random order, fill test then valid; the rest is train. Each split is shuffled
    with its own seed so that its order does not depend on the other splits."""
    groups = components(pairs)
    random.Random(SEED).shuffle(groups)
    splits: Dict[str, List[int]] = {"test": [], "valid": [], "train": []}
    for group in groups:
        name = next((name for name, size in SPLIT_SIZES if len(splits[name]) < size), "train")
        splits[name].extend(group)
    for name, indices in splits.items():
        indices.sort()
        random.Random(f"{SEED}-{name}").shuffle(indices)
    return splits


def split_contents(pairs: List[Tuple[str, str]], lang: str) -> Dict[str, bytes]:
    """"train.en" -> the UTF-8 text of that file, one sentence per line."""
    contents = {}
    for name, indices in split_indices(pairs).items():
        for side, code in ((0, "en"), (1, lang)):
            contents[f"{name}.{code}"] = "".join(pairs[i][side] + "\n" for i in indices).encode("utf-8")
    return contents
