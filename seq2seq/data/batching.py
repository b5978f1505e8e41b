"""Length-bucketed token batches, padded tensors, per-task epoch iterators and the mixing-ratio task sampler.

Every random choice is a pure function of (seed, task, epoch) or (seed, step), so a resumed run sees exactly the
batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, List, Sequence

import torch

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


def collate(src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]]) -> Batch:
    tgt_in = pad([[BOS, *t] for t in tgt])
    tgt_out = pad([[*t, EOS] for t in tgt])
    return Batch(
        src=pad(src),
        src_lengths=torch.tensor([len(s) for s in src], dtype=torch.long),
        tgt_in=tgt_in,
        tgt_out=tgt_out,
        n_tgt_tokens=sum(len(t) + 1 for t in tgt),
    )


def token_batches(src_lengths: Sequence[int], tgt_lengths: Sequence[int], batch_tokens: int,
                  rng: random.Random, pool: int = 0) -> List[List[int]]:
    """Index lists whose padded size (sentences * longest side) stays within `batch_tokens`, in random order.

    Sorting by length (ties broken at random) keeps padding small; with `pool` > 0 the pairs are shuffled and
    sorted only within pools of that many pairs, so batches mix differently from epoch to epoch.
    """
    indices = list(range(len(src_lengths)))
    if pool > 0:
        rng.shuffle(indices)
    pools = [indices[i:i + pool] for i in range(0, len(indices), pool)] if pool > 0 else [indices]
    order = [i for chunk in pools
             for i in sorted(chunk, key=lambda i: (src_lengths[i], tgt_lengths[i], rng.random()))]
    batches: List[List[int]] = []
    current: List[int] = []
    longest = 0
    for i in order:
        size = max(src_lengths[i], tgt_lengths[i] + 1)
        if current and max(longest, size) * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, size)
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


class EpochIterator:
    """Endless batches of one task's training pairs; (epoch, position) is its whole state."""

    def __init__(self, src: List[List[int]], tgt: List[List[int]], batch_tokens: int, seed: int, stream: int,
                 pool: int = 0):
        self.src, self.tgt, self.pool = src, tgt, pool
        self.batch_tokens, self.seed, self.stream = batch_tokens, seed, stream
        self.src_lengths = [len(s) for s in src]
        self.tgt_lengths = [len(t) for t in tgt]
        self.epoch, self.position = 0, 0
        self._batches: List[List[int]] = []
        self._built_for = -1

    def _batches_of(self, epoch: int) -> List[List[int]]:
        if self._built_for != epoch:
            rng = random.Random(f"{self.seed}/{self.stream}/{epoch}")
            self._batches = token_batches(self.src_lengths, self.tgt_lengths, self.batch_tokens, rng, self.pool)
            self._built_for = epoch
        return self._batches

    def __next__(self) -> Batch:
        batches = self._batches_of(self.epoch)
        if self.position >= len(batches):
            self.epoch, self.position = self.epoch + 1, 0
            batches = self._batches_of(self.epoch)
        indices = batches[self.position]
        self.position += 1
        return collate([self.src[i] for i in indices], [self.tgt[i] for i in indices])

    def epochs_done(self) -> float:
        """Whole epochs plus the share of the current one already trained."""
        return self.epoch + self.position / max(len(self._batches_of(self.epoch)), 1)

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
