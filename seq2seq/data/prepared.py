"""Prepared corpora: a task's training pairs encoded once into memory-mapped token arrays, shared by every run,
resume, sweep member and data-parallel rank that reads the same text with the same SentencePiece models.

A corpus is a folder PREPARED/corpus/KEY/ (KEY: a hash of what made it) holding, per side, `SIDE.bin` (the token
ids of all pairs, back to back, as uint16 or uint32) and `SIDE.idx` (int64 offsets: pair i is
bin[idx[i]:idx[i+1]]), and `manifest.json` (format version, the identity it was made from, file sizes). It is
written beside its place under a lock and renamed into place when complete (seq2seq.atomic), so a folder that
exists is whole; one whose manifest or sizes disagree is made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Sequence, Tuple

import numpy as np

from seq2seq.atomic import write_folder
from seq2seq.errors import DataError

log = logging.getLogger(__name__)

FORMAT = 1
SIDES = ("src", "tgt")
SCAN = 1 << 22  # elements read at a time when checking a memory-mapped array


def key_of(identity: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:24]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on PATH.lock for the block: a second process preparing the same thing waits, then finds
    it made. (POSIX flock: on a filesystem shared by machines, prepare once before starting them.)"""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("%s: another process is preparing it; waiting", path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.uint32)


class PairCorpus:
    """Sentence pairs as flat token arrays and offsets (memory-mapped or in memory), restricted to `rows` (the
    pairs within the length limit; None: all). Position j means the j-th kept pair."""

    def __init__(self, tokens: Dict[str, np.ndarray], offsets: Dict[str, np.ndarray], rows: np.ndarray | None,
                 lengths: Dict[str, np.ndarray]):
        self.tokens, self.offsets, self.rows = tokens, offsets, rows
        self.src_lengths, self.tgt_lengths = lengths["src"], lengths["tgt"]  # int32 per kept pair

    @classmethod
    def from_lists(cls, src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]]) -> PairCorpus:
        tokens, offsets, lengths = {}, {}, {}
        for side, seqs in zip(SIDES, (src, tgt)):
            lengths[side] = np.fromiter((len(s) for s in seqs), np.int32, len(seqs))
            offsets[side] = np.zeros(len(seqs) + 1, np.int64)
            np.cumsum(lengths[side], out=offsets[side][1:])
            tokens[side] = np.fromiter(itertools.chain.from_iterable(seqs), np.int64, int(offsets[side][-1]))
        return cls(tokens, offsets, None, lengths)

    def __len__(self) -> int:
        return len(self.src_lengths)

    def within(self, max_src: int, max_tgt: int) -> PairCorpus:
        """The pairs whose sides are at most `max_src` / `max_tgt` tokens long (the same arrays, other rows)."""
        keep = (self.src_lengths <= max_src) & (self.tgt_lengths <= max_tgt)
        if keep.all():
            return self
        rows = np.flatnonzero(keep).astype(np.int64 if len(keep) >= 1 << 31 else np.int32)
        return PairCorpus(self.tokens, self.offsets, self._rows(rows),
                          {"src": self.src_lengths[rows], "tgt": self.tgt_lengths[rows]})

    def _rows(self, positions: np.ndarray) -> np.ndarray:
        return positions if self.rows is None else self.rows[positions]

    def padded(self, side: str, positions: np.ndarray, width: int, pad: int) -> Tuple[np.ndarray, np.ndarray]:
        """[B, width] ids of the pairs at `positions` (int64, padded with `pad`) and their lengths."""
        rows = self._rows(positions)
        starts = self.offsets[side][rows]
        lengths = self.offsets[side][rows + 1] - starts
        columns = np.arange(width)
        inside = columns < lengths[:, None]
        out = np.full((len(rows), len(columns)), pad, dtype=np.int64)
        out[inside] = self.tokens[side][(starts[:, None] + columns)[inside]]
        return out, lengths

    def ids(self, side: str) -> List[List[int]]:
        """Every kept pair's ids of one side as lists (for small corpora: tests, inspection)."""
        tokens, offsets = self.tokens[side], self.offsets[side]
        return [tokens[offsets[r]:offsets[r + 1]].tolist() for r in self._rows(np.arange(len(self)))]


def _lengths(offsets: np.ndarray) -> np.ndarray:
    """int32 lengths from (memory-mapped) int64 offsets, a block at a time; negative ones mean corruption."""
    out = np.empty(len(offsets) - 1, np.int32)
    for start in range(0, len(out), SCAN):
        block = np.diff(offsets[start:start + SCAN + 1])
        if len(block) and block.min() < 0:
            raise ValueError("offsets decrease")
        out[start:start + SCAN] = block
    return out


def open_prepared(folder: Path, identity: Dict[str, Any],
                  vocab_sizes: Dict[str, int]) -> Tuple[PairCorpus, Dict[str, Any]] | None:
    """A complete corpus made from `identity`, memory-mapped, and its manifest; None when the folder is
    missing, from an older format or other sources, truncated or corrupt (said why)."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')}, this version reads {FORMAT}")
        if manifest.get("identity") != identity:
            raise ValueError("made from other sources or options")
        tokens, offsets, lengths = {}, {}, {}
        for side in SIDES:
            for suffix in ("bin", "idx"):
                name = f"{side}.{suffix}"
                size = (folder / name).stat().st_size
                if size != manifest["bytes"][name]:
                    raise ValueError(f"{name} has {size} bytes, the manifest says {manifest['bytes'][name]}")
            dtype = np.dtype(manifest["dtype"][side])
            tokens[side] = np.memmap(folder / f"{side}.bin", dtype=dtype, mode="r") \
                if manifest["bytes"][f"{side}.bin"] else np.zeros(0, dtype)
            offsets[side] = np.memmap(folder / f"{side}.idx", dtype=np.int64, mode="r")
            if len(offsets[side]) != manifest["pairs"] + 1 or offsets[side][0] != 0 \
                    or offsets[side][-1] != len(tokens[side]):
                raise ValueError(f"{side}.idx does not match {side}.bin")
            lengths[side] = _lengths(offsets[side])
            largest = max((int(tokens[side][i:i + SCAN].max()) for i in range(0, len(tokens[side]), SCAN)),
                          default=0)
            if largest >= vocab_sizes[side]:
                raise ValueError(f"{side}.bin has id {largest}, beyond its vocabulary of {vocab_sizes[side]}")
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("%s: not used (%s); preparing it again", folder, err)
        return None
    return PairCorpus(tokens, offsets, None, lengths), manifest


def write_prepared(folder: Path, identity: Dict[str, Any], chunks: Iterable[Tuple[List[str], List[str], int]],
                   encoders: Dict[str, Callable[[List[str]], List[List[int]]]], vocab_sizes: Dict[str, int],
                   where: str) -> Dict[str, Any]:
    """Encode `chunks` of (sources, targets, pairs dropped) into FOLDER, made beside it and renamed when whole
    (the caller holds the lock); any failure, a full disk included, leaves nothing behind that is trusted."""
    started = time.perf_counter()
    dtypes = {side: token_dtype(vocab_sizes[side]) for side in SIDES}
    made: Dict[str, Any] = {}

    def fill(tmp: Path) -> None:
        pairs, dropped = 0, 0
        handles = {f"{side}.{suffix}": open(tmp / f"{side}.{suffix}", "wb") for side in SIDES
                   for suffix in ("bin", "idx")}
        ends = {side: 0 for side in SIDES}
        try:
            for side in SIDES:
                np.zeros(1, np.int64).tofile(handles[f"{side}.idx"])
            for chunk in chunks:
                dropped += chunk[2]
                pairs += len(chunk[0])
                for side, lines in zip(SIDES, chunk[:2]):
                    ids = encoders[side](lines)
                    lengths = np.fromiter(map(len, ids), np.int64, len(ids))
                    flat = np.fromiter(itertools.chain.from_iterable(ids), dtypes[side], int(lengths.sum()))
                    flat.tofile(handles[f"{side}.bin"])
                    (ends[side] + np.cumsum(lengths)).tofile(handles[f"{side}.idx"])
                    ends[side] += int(lengths.sum())
            for handle in handles.values():
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            for handle in handles.values():
                handle.close()
        made.update({"format": FORMAT, "identity": identity, "pairs": pairs, "dropped_empty": dropped,
                     "dtype": {side: dtypes[side].name for side in SIDES}, "tokens": ends,
                     "bytes": {name: (tmp / name).stat().st_size for name in handles},
                     "seconds": round(time.perf_counter() - started, 1)})
        (tmp / "manifest.json").write_text(json.dumps(made, indent=2) + "\n", encoding="utf-8")  # last

    write_folder(folder, fill, error=DataError,
                 kept=f"nothing half-made of {where} is kept; free space there or set data.prepared=DIR")
    return made


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def prepared_corpus(root: Path, identity: Dict[str, Any], chunks: Callable[[], Iterable],
                    encoders: Dict[str, Callable[[List[str]], List[List[int]]]], vocab_sizes: Dict[str, int],
                    where: str) -> Tuple[PairCorpus, Dict[str, Any], Path]:
    """The prepared corpus of `identity` under ROOT/corpus, its manifest and folder: opened if it is there and
    whole, else made from `chunks()` (one process at a time) and opened."""
    folder = root / "corpus" / key_of(identity)
    opened = open_prepared(folder, identity, vocab_sizes)
    if opened is not None:
        return (*opened, folder)
    with locked(folder):
        opened = open_prepared(folder, identity, vocab_sizes)  # made by the process we waited for
        if opened is None:
            manifest = write_prepared(folder, identity, chunks(), encoders, vocab_sizes, where)
            log.info("%s: prepared %s pairs in %.1f s (%.0f pairs/s), %.1f MB in %s", where, f"{manifest['pairs']:,}",
                     manifest["seconds"], manifest["pairs"] / max(manifest["seconds"], 1e-3),
                     folder_bytes(folder) / 1e6, folder)
            opened = open_prepared(folder, identity, vocab_sizes)
            if opened is None:
                raise DataError(f"{folder}: the corpus just prepared does not read back; check the disk")
    return (*opened, folder)
