"""The decoding options (greedy, beam search, sampling), shared by every command that translates, the API and the
server, with finite bounds on every number."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import Enum

from seq2seq.config.checks import check, check_range

# upper bounds of decoding options: far above any useful value, low enough that no arithmetic overflows
MAX_BEAM = 1000
MAX_LENGTH_RATIO = 100.0
MAX_LENGTH_EXTRA = 10_000
MAX_BATCH = 100_000


class Strategy(Enum):
    greedy = "greedy"
    beam = "beam"
    sample = "sample"


# decoding keys that one strategy alone reads, with that strategy and how messages name it
STRATEGY_ONLY_KEYS = {"beam_size": (Strategy.beam, "beam search"), "length_penalty": (Strategy.beam, "beam search"),
                      "exact_stop": (Strategy.beam, "beam search"), "temperature": (Strategy.sample, "sampling")}


@dataclass
class DecodingConfig:
    strategy: Strategy = Strategy.greedy
    beam_size: int = 5
    length_penalty: float = 1.0  # GNMT alpha; 0 = none
    n_best: int = 1
    # output lines carry the hypothesis score after a tab: `text<TAB>score`, `INDEX<TAB>text<TAB>score` with n_best
    output_scores: bool = False
    # stop a sentence only when no live hypothesis could beat its n-best at any length up to the limit (the exact
    # beam optimum under a length penalty, ~30 % more steps), not when it could not by ending at the next step
    exact_stop: bool = False
    temperature: float = 1.0
    seed: int = 1
    max_length_ratio: float = 2.0  # max output tokens = ratio * source tokens + max_length_extra
    max_length_extra: int = 10
    batch_size: int = 128  # sentences per batch (beam 5, whole process, 1,000 sentences: 128 was 8 % faster than 64)
    quantize: bool = False  # int8 dynamic quantization of LSTM and linear layers (CPU)

    def __post_init__(self) -> None:
        # finite, bounded ranges: an infinite length ratio overflowed into empty translations, a beam of 10**30
        # into an allocation error
        check_range(self.beam_size, 1, MAX_BEAM, "decoding.beam_size")
        check(self.n_best >= 1, "decoding.n_best", f"must be >= 1, got {self.n_best}")
        check(self.n_best == 1 or self.strategy == Strategy.beam, "decoding.n_best",
              "n_best > 1 needs decoding.strategy=beam")
        check(self.n_best <= self.beam_size or self.strategy != Strategy.beam, "decoding.n_best",
              f"must be <= decoding.beam_size ({self.beam_size})")
        check(math.isfinite(self.temperature) and self.temperature > 0, "decoding.temperature",
              f"must be a finite number > 0, got {self.temperature}")
        check(0 <= self.seed < 2**63, "decoding.seed", f"must be in [0, 2**63), got {self.seed}")
        # a key the chosen strategy never reads would be silently ignored: say so (its default passes)
        defaults = {f.name: f.default for f in fields(self)}
        for key, (reader, name) in STRATEGY_ONLY_KEYS.items():
            check(getattr(self, key) == defaults[key] or self.strategy == reader, f"decoding.{key}",
                  f"is only read by {name}, not {self.strategy.value}; add decoding={reader.value}")
        check(math.isfinite(self.length_penalty) and self.length_penalty >= 0, "decoding.length_penalty",
              f"must be a finite number >= 0, got {self.length_penalty}")
        check(math.isfinite(self.max_length_ratio) and 0 < self.max_length_ratio <= MAX_LENGTH_RATIO,
              "decoding.max_length_ratio", f"must be > 0 and <= {MAX_LENGTH_RATIO}, got {self.max_length_ratio}")
        check_range(self.max_length_extra, 1, MAX_LENGTH_EXTRA, "decoding.max_length_extra")
        check_range(self.batch_size, 1, MAX_BATCH, "decoding.batch_size")
