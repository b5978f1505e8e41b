"""Reading and checking parallel text files: PREFIX.LANG or PREFIX.LANG.gz, UTF-8, one sentence per line."""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path
from typing import IO, Iterator, List, Tuple

from seq2seq.atomic import write_atomic
from seq2seq.config import ToyConfig
from seq2seq.errors import DataError

# Zero-width characters carry no text but split SentencePiece pieces; tabs would break TSV-minded tools downstream.
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str) -> str:
    """Tabs become spaces and zero-width characters go: the part of cleaning that works on many lines at once."""
    return INVISIBLE.sub("", text.replace("\t", " "))


def clean_line(line: str) -> str:
    """The sentence as the model sees it: tabs become spaces, zero-width characters go, ends are stripped."""
    return clean_text(line).strip()


def invalid_utf8(name: str, line: int, column: int) -> DataError:
    return DataError(f"{name}:{line}: invalid UTF-8 (byte {column} of the line); convert the file to UTF-8, "
                     "e.g. with iconv")


def unreadable(name: str, line: int, err: BaseException) -> DataError:
    return DataError(f"{name}:{line}: cannot read ({err})")


def find_file(folder: Path, prefix: str, lang: str) -> Path:
    plain = folder / f"{prefix}.{lang}"
    for path in (plain, plain.with_name(plain.name + ".gz")):
        if path.is_file():
            return path
    raise DataError(f"{plain}: file not found (also tried {plain.name}.gz); check data.root "
                    "(default: the SEQ2SEQ_DATA environment variable), data.dir and the split prefix")


def open_binary(path: Path) -> IO[bytes]:
    """A text file's bytes (decompressed for .gz); a missing file or a folder is one clear error."""
    if not path.is_file():
        raise DataError(f"{path}: " + ("a folder, not a file" if path.is_dir() else "file not found"))
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def decode_lines(handle: IO[bytes], name: str) -> Iterator[str]:
    """Decoded lines without their line ends; a decoding error names the file (or stream) and line."""
    number = 0
    try:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise invalid_utf8(name, number, err.start) from None
            yield text.rstrip("\r\n")
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise unreadable(name, number + 1, err) from None


def iter_lines(path: Path) -> Iterator[str]:
    with open_binary(path) as handle:
        yield from decode_lines(handle, str(path))


def read_lines(path: Path) -> List[str]:
    return list(iter_lines(path))


def read_parallel(src_path: Path, tgt_path: Path) -> Tuple[List[str], List[str]]:
    src, tgt = read_lines(src_path), read_lines(tgt_path)
    if len(src) != len(tgt):
        raise DataError(f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}: "
                        "parallel files must have one line per sentence pair")
    return src, tgt


def write_lines(path: Path, lines: List[str]) -> None:
    write_atomic(path, "".join(line + "\n" for line in lines))


TOY_LANGUAGES = ("in", "alt", "reverse", "copy", "sort")


def generate_toy(folder: Path, cfg: ToyConfig) -> None:
    """Write train/val/test files of the generated languages (see ToyConfig), line-aligned like Multi30k."""
    rng = random.Random(cfg.seed)
    lower = [f"{chr(ord('a') + i % 26)}{i // 26 or ''}" for i in range(cfg.symbols)]
    upper = {symbol: symbol.upper() for symbol in lower}
    for split, size in (("train", cfg.train_size), ("val", cfg.valid_size), ("test", cfg.test_size)):
        sources = [[rng.choice(lower) for _ in range(rng.randint(cfg.min_length, cfg.max_length))]
                   for _ in range(size)]
        sides = {"in": sources, "alt": [[upper[s] for s in seq] for seq in sources],
                 "reverse": [seq[::-1] for seq in sources], "copy": sources, "sort": [sorted(s) for s in sources]}
        for lang in TOY_LANGUAGES:
            write_lines(folder / f"{split}.{lang}", [" ".join(seq) for seq in sides[lang]])
