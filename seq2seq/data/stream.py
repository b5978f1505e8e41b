"""Training text as streams, never as a whole: a file's identity (size, content hash, lines), the pairs a task
keeps (its line selection, cleaned) read in blocks, and the bounded, seeded sample SentencePiece trains on."""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np

from seq2seq.atomic import write_atomic
from seq2seq.data.files import clean_text, invalid_utf8, open_binary, unreadable

log = logging.getLogger(__name__)

BLOCK_BYTES = 1 << 22  # read size; a block of lines is decoded and cleaned at once
CHUNK_PAIRS = 20_000  # pairs handed on at a time: what preparation holds in Python objects


def line_blocks(path: Path) -> Iterator[List[str]]:
    """The file's lines in blocks, decoded and cleaned (`files.clean_line`: tabs become spaces, zero-width
    characters go, ends are stripped); invalid UTF-8 names the file and line, as `files.decode_lines` does."""
    number = 0  # lines handed out so far
    rest = b""
    try:
        with open_binary(path) as handle:
            while True:
                data = handle.read(BLOCK_BYTES)
                if not data:
                    break
                data = rest + data
                cut = data.rfind(b"\n")
                if cut < 0:
                    rest = data
                    continue
                rest = data[cut + 1:]
                yield _decode_block(data[:cut], path, number)
                number += data.count(b"\n", 0, cut + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise unreadable(str(path), number + 1, err) from None
    if rest:
        yield _decode_block(rest, path, number)


def _decode_block(raw: bytes, path: Path, first: int) -> List[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = first + raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1)
        raise invalid_utf8(str(path), line, column) from None
    return [line.strip() for line in clean_text(text).split("\n")]  # clean_line, a block at a time


def count_lines(path: Path) -> int:
    """Lines as `line_blocks` reads them (a last line without a line end counts)."""
    count, last = 0, b"\n"
    try:
        with open_binary(path) as handle:
            while data := handle.read(BLOCK_BYTES):
                count += data.count(b"\n")
                last = data[-1:]
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise unreadable(str(path), count + 1, err) from None
    return count + (last != b"\n")


def file_identity(path: Path, cache: Path) -> Dict[str, Any]:
    """{"size", "sha256", "lines"} of a file as stored (the compressed bytes of a .gz). Hashing a corpus of
    millions of lines takes seconds, so the answer is kept in CACHE/identity under the file's real path, size,
    modification time and inode: an unchanged file is read once, a rewritten one again."""
    stat = path.stat()
    where = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}"
    note = cache / "identity" / f"{hashlib.sha256(where.encode('utf-8')).hexdigest()[:32]}.json"
    try:
        return json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while data := handle.read(BLOCK_BYTES):
            digest.update(data)
    identity = {"size": stat.st_size, "sha256": digest.hexdigest(), "lines": count_lines(path)}
    try:
        write_atomic(note, json.dumps(identity))
    except OSError as err:  # an unwritable cache costs time, not correctness
        log.warning("%s: cannot keep the file's identity (%s)", note, err.strerror)
    return identity


@dataclass(frozen=True)
class Selection:
    """The training pairs of a file a task keeps, in file order: lines START..END-1 (`data.train_lines`), then a
    seeded sample of `sample` of them (`data.max_train_pairs`, seeded by trainer.seed)."""

    start: int = 0
    end: int | None = None
    sample: int = 0
    seed: int = 0

    def describe(self, lines: int) -> Dict[str, Any]:
        """What decides the selected lines of a file of `lines` lines (the seed only when it matters)."""
        start, end = self.bounds(lines)
        sampled = 0 < self.sample < end - start
        return {"start": start, "end": end, **({"sample": self.sample, "seed": self.seed} if sampled else {})}

    def bounds(self, lines: int) -> Tuple[int, int]:
        end = lines if self.end is None else min(self.end, lines)
        return min(self.start, end), end

    def rows(self, lines: int) -> np.ndarray | None:
        """The sampled line numbers, sorted (None: every line of the range)."""
        start, end = self.bounds(lines)
        if not 0 < self.sample < end - start:
            return None
        # random.sample over a range draws the same lines as over the list of the range, without the list
        picked = random.Random(f"{self.seed}/train-pairs").sample(range(start, end), self.sample)
        return np.sort(np.asarray(picked, dtype=np.int64))


def _aligned(src: Path, tgt: Path | None) -> Iterator[Tuple[List[str], List[str]]]:
    """Blocks of (source lines, target lines) of equal length; tgt None reads one file as both sides."""
    if tgt is None:
        for block in line_blocks(src):
            yield block, block
        return
    tgt_blocks = line_blocks(tgt)
    pending: List[str] = []
    for block in line_blocks(src):
        while len(pending) < len(block):
            more = next(tgt_blocks, None)
            if more is None:
                break
            pending.extend(more)
        n = min(len(block), len(pending))
        yield block[:n], pending[:n]
        pending = pending[n:]


def selected_pairs(src: Path, tgt: Path | None, selection: Selection, lines: int
                   ) -> Iterator[Tuple[List[str], List[str], int]]:
    """The selected pairs with both sides non-empty after cleaning, in chunks of at most CHUNK_PAIRS:
    (sources, targets, pairs dropped for an empty side)."""
    start, end = selection.bounds(lines)
    rows = selection.rows(lines)
    first = 0  # file line number of the block's first line
    out_src: List[str] = []
    out_tgt: List[str] = []
    empty = 0
    for src_block, tgt_block in _aligned(src, tgt):
        n = len(src_block)
        lo, hi = max(start, first) - first, min(end, first + n) - first
        if lo < hi:
            if rows is None:
                picks: Sequence[int] = range(lo, hi)
            else:
                a, b = np.searchsorted(rows, [first + lo, first + hi])
                picks = (rows[a:b] - first).tolist()
            for i in picks:
                s, t = src_block[i], tgt_block[i]
                if s and t:
                    out_src.append(s)
                    out_tgt.append(t)
                else:
                    empty += 1
            while len(out_src) >= CHUNK_PAIRS:
                yield out_src[:CHUNK_PAIRS], out_tgt[:CHUNK_PAIRS], empty
                out_src, out_tgt, empty = out_src[CHUNK_PAIRS:], out_tgt[CHUNK_PAIRS:], 0
        first += n
        if first >= end:
            break
    if out_src or empty:
        yield out_src, out_tgt, empty


class SentenceSample:
    """A seeded, uniform sample of the sentences streamed through `add`, within `max_sentences` and
    `max_characters`: those with the smallest random keys that fit (a bottom-k sample), handed back in the order
    of their `place` (so all of them, when they fit, come back exactly as streamed)."""

    def __init__(self, max_sentences: int, max_characters: int, seed: int):
        self.max_sentences, self.max_characters = max_sentences, max_characters
        self.rng = np.random.default_rng(seed)
        self.heap: List[Tuple[float, Tuple, str]] = []  # (-key, place, sentence): the largest key on top
        self.characters = 0
        self.seen = 0
        self.full = False

    def add(self, sentences: Sequence[str], place: Tuple) -> None:
        """Offer `sentences`; sentence i is ordered by (*place, i)."""
        keys = self.rng.random(len(sentences)).tolist()
        heap = self.heap
        for i, (key, sentence) in enumerate(zip(keys, sentences)):
            if self.full and key >= -heap[0][0]:
                continue
            heapq.heappush(heap, (-key, (*place, i), sentence))
            self.characters += len(sentence)
            while len(heap) > self.max_sentences or self.characters > self.max_characters:
                self.characters -= len(heapq.heappop(heap)[2])
                self.full = True
        self.seen += len(sentences)

    def sentences(self) -> List[str]:
        return [sentence for _, _, sentence in sorted(self.heap, key=lambda item: item[1])]
