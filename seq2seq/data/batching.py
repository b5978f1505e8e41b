"""Length-bucketed token batches, padded tensors, per-task epoch iterators and the mixing-ratio task sampler.

Every random choice is a pure function of (seed, task, epoch) or (seed, step), so a resumed run sees exactly the
batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from seq2seq.data.prepared import PairCorpus
from seq2seq.text import BOS, EOS, PAD


@dataclass
class Batch:
    src: torch.Tensor  # [B, S] source ids, padded with PAD
    src_lengths: torch.Tensor  # [B]
    tgt_in: torch.Tensor  # [B, T] BOS y1 .. yn (teacher-forcing input)
    tgt_out: torch.Tensor  # [B, T] y1 .. yn EOS (prediction targets), padded with PAD
    n_tgt_tokens: int  # real target tokens incl. EOS

    def to(self, device: torch.device) -> Batch:
        return Batch(self.src.to(device), self.src_lengths.to(device), self.tgt_in.to(device),
                     self.tgt_out.to(device), self.n_tgt_tokens)


def pad(seqs: Sequence[Sequence[int]], value: int = PAD) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    return torch.tensor([list(s) + [value] * (width - len(s)) for s in seqs], dtype=torch.long)


def corpus_batch(corpus: PairCorpus, positions: np.ndarray, like: np.ndarray | None = None) -> Batch:
    """The padded tensors of the pairs at `positions`, gathered from the corpus's (mapped) arrays, as wide as the
    pairs at `like` need (a data-parallel rank's share is padded as its global batch: the same arithmetic)."""
    like = positions if like is None else like
    src_width = int(corpus.src_lengths[like].max(initial=0))
    tgt_width = int(corpus.tgt_lengths[like].max(initial=0)) + 1  # one column more: EOS / BOS
    src, src_lengths = corpus.padded("src", positions, src_width, PAD)
    tgt, tgt_lengths = corpus.padded("tgt", positions, tgt_width, PAD)
    rows = np.arange(len(positions))
    tgt_out = tgt.copy()
    tgt_out[rows, tgt_lengths] = EOS
    tgt_in = np.empty_like(tgt)
    tgt_in[:, 0] = BOS
    tgt_in[:, 1:] = tgt[:, :-1]
    return Batch(torch.from_numpy(src), torch.from_numpy(src_lengths.astype(np.int64)), torch.from_numpy(tgt_in),
                 torch.from_numpy(tgt_out), int(tgt_lengths.sum()) + len(positions))


def collate(src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]]) -> Batch:
    """A batch of id lists (validation, scoring): the same tensors as the training corpus gives."""
    return corpus_batch(PairCorpus.from_lists(src, tgt), np.arange(len(src)))


def seeded(*parts: object) -> np.random.Generator:
    """A generator that is a pure function of `parts` (seed, task stream, epoch, ...)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@dataclass
class Plan:
    """An epoch's batches: the pairs sorted by length into `positions`, cut at `starts` (which ends with
    len(positions)), taken in the random `order`; batch i of the epoch is positions[starts[b]:starts[b + 1]]
    with b = order[i]."""

    positions: np.ndarray
    starts: np.ndarray
    order: np.ndarray

    def __len__(self) -> int:
        return len(self.order)

    def batch(self, i: int) -> np.ndarray:
        b = self.order[i]
        return self.positions[self.starts[b]:self.starts[b + 1]]

    def batches(self) -> List[np.ndarray]:
        return [self.batch(i) for i in range(len(self))]


def token_batches(src_lengths: np.ndarray, tgt_lengths: np.ndarray, batch_tokens: int, rng: np.random.Generator,
                  pool: int = 0) -> Plan:
    """Batches whose padded size (sentences * longest side) stays within `batch_tokens`, in random order.

    Sorting by length (ties broken at random) keeps padding small; with `pool` > 0 the pairs are shuffled and
    sorted only within pools of that many pairs, so batches mix differently from epoch to epoch. Memory is a few
    bytes a pair (numpy), so an epoch of millions of pairs is planned in seconds.
    """
    src_lengths, tgt_lengths = np.asarray(src_lengths), np.asarray(tgt_lengths)
    n = len(src_lengths)
    index = np.int32 if n < 1 << 31 else np.int64
    shuffled = rng.permutation(n).astype(index)  # a stable sort of a shuffled order breaks ties at random
    width = int(max(src_lengths.max(initial=0), tgt_lengths.max(initial=0))) + 2
    key = src_lengths[shuffled].astype(np.int64) * width + tgt_lengths[shuffled]
    if pool > 0:
        key += (np.arange(n, dtype=np.int64) // pool) * (width * width)
    positions = shuffled[np.argsort(key, kind="stable")]
    del shuffled, key
    starts = _cut(positions, src_lengths, tgt_lengths, batch_tokens)
    return Plan(positions, starts, rng.permutation(len(starts) - 1))


def _cut(positions: np.ndarray, src_lengths: np.ndarray, tgt_lengths: np.ndarray, batch_tokens: int) -> np.ndarray:
    """Greedy cut points of the sorted pairs: a batch closes when one more pair would pass the budget."""
    starts = [0]
    longest, count, at = 0, 0, 0
    for block in range(0, len(positions), 1 << 20):
        chosen = positions[block:block + (1 << 20)]
        for size in np.maximum(src_lengths[chosen], tgt_lengths[chosen] + 1).tolist():
            if count and max(longest, size) * (count + 1) > batch_tokens:
                starts.append(at)
                longest, count = 0, 0
            count += 1
            longest = max(longest, size)
            at += 1
    if count:
        starts.append(at)
    return np.asarray(starts, dtype=np.int64)


class EpochIterator:
    """Endless batches of one task's training pairs; (epoch, position) is its whole state. Under data
    parallelism every rank plans the same global batch and gathers only its share of the pairs (every world-th
    pair from its rank), so the corpus is read once over all ranks."""

    def __init__(self, corpus: PairCorpus, batch_tokens: int, seed: int, stream: int, pool: int = 0,
                 rank: int = 0, world: int = 1):
        self.corpus, self.pool = corpus, pool
        self.batch_tokens, self.seed, self.stream = batch_tokens, seed, stream
        self.rank, self.world = rank, world
        self.epoch, self.position = 0, 0
        self._plan = Plan(np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int64))
        self._built_for = -1

    def _plan_of(self, epoch: int) -> Plan:
        if self._built_for != epoch:
            self._plan = token_batches(self.corpus.src_lengths, self.corpus.tgt_lengths, self.batch_tokens,
                                       seeded(self.seed, self.stream, epoch), self.pool)
            self._built_for = epoch
        return self._plan

    def batches(self) -> int:
        """Batches in the current epoch."""
        return len(self._plan_of(self.epoch))

    def next_share(self) -> Tuple[Batch, int]:
        """This rank's share of the next global batch, and the global batch's target tokens (incl. EOS)."""
        if self.position >= self.batches():
            self.epoch, self.position = self.epoch + 1, 0
        chosen = self._plan_of(self.epoch).batch(self.position)
        self.position += 1
        tokens = int(self.corpus.tgt_lengths[chosen].sum()) + len(chosen)
        return corpus_batch(self.corpus, chosen[self.rank::self.world], like=chosen), tokens

    def __next__(self) -> Batch:
        return self.next_share()[0]

    def epochs_done(self) -> float:
        """Whole epochs plus the share of the current one already trained."""
        return self.epoch + self.position / max(self.batches(), 1)

    def state_dict(self) -> Dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: Dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])


class TaskSampler:
    """Which task trains at each step: drawn by weight from a stream that depends only on (seed, step)."""

    def __init__(self, names: Sequence[str], weights: Sequence[float], seed: int):
        total = float(sum(weights))
        self.names = list(names)
        self.probabilities = [w / total for w in weights]
        self.cumulative = []
        running = 0.0
        for p in self.probabilities:
            running += p
            self.cumulative.append(running)
        self.seed = seed

    def task_at(self, step: int) -> str:
        if len(self.names) == 1:
            return self.names[0]
        u = random.Random(f"{self.seed}/task/{step}").random()
        for name, edge in zip(self.names, self.cumulative):
            if u < edge:
                return name
        return self.names[-1]
