"""Typed schemas of the commands that use a trained run (translate, evaluate, score, average, serve)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List

from omegaconf import MISSING

from seq2seq.config.checks import check
from seq2seq.config.decoding import DecodingConfig


def checkpoint_list(value: Any) -> List[str]:
    """checkpoint=RUN or checkpoint=[RUN_A,RUN_B]: the runs to load (an ensemble when several), as a list."""
    items = [value] if isinstance(value, (str, Path)) else list(value) if isinstance(value, (list, tuple)) else []
    check(bool(items) and all(isinstance(item, (str, Path)) and str(item) for item in items), "checkpoint",
          "give a run folder (checkpoint=RUN) or a list of them (checkpoint=[A,B])")
    return [str(item) for item in items]


@dataclass
class TranslateConfig:
    # a run folder (or its checkpoints/NAME folder); [A,B,...]: an ensemble. Typed as Any (OmegaConf has no
    # str-or-list), a list of folders once the config is made
    checkpoint: Any = MISSING
    input: str | None = None  # default: stdin
    output: str | None = None  # default: stdout
    # which task of a multi-task checkpoint: its name or SRC-TGT (`task` is taken by the training config group)
    pair: str | None = None
    device: str = "auto"
    threads: int = 0
    decoding: DecodingConfig = field(default_factory=DecodingConfig)

    def __post_init__(self) -> None:
        self.checkpoint = checkpoint_list(self.checkpoint)


@dataclass
class ServeConfig:
    """An HTTP translation service: POST /translate {"text": [lines], ...decoding options}, GET /health."""

    checkpoint: str = MISSING  # a run folder or a checkpoint folder
    pair: str | None = None  # which task of a multi-task run (name or SRC-TGT)
    host: str = "127.0.0.1"  # loopback only by default; 0.0.0.0 serves every interface
    port: int = 8080  # 0: any free port (printed at start)
    max_lines: int = 64  # lines per request
    max_line_chars: int = 2000  # characters per line
    max_body_bytes: int = 1_000_000
    batch_lines: int = 256  # concurrent requests with the same decoding options are translated together
    batch_wait_ms: float = 5.0  # how long the first request of a batch waits for others
    # a request's work: its characters x the beam size (1 for greedy and sampling); over the limit: 413
    max_request_work: int = 100_000
    # the worker translates at most this much work at a time, then turns to the next waiting request, so a short
    # request behind a long one waits for one chunk, not for all of it (sampling requests run whole: their seeded
    # draws stay those of the API)
    chunk_work: int = 8_000
    device: str = "auto"
    threads: int = 0
    decoding: DecodingConfig = field(default_factory=DecodingConfig)  # defaults; a request may override keys

    def __post_init__(self) -> None:
        check(0 <= self.port <= 65535, "port", f"must be in [0, 65535], got {self.port}")
        for name in ("max_lines", "max_line_chars", "max_body_bytes", "batch_lines", "max_request_work", "chunk_work"):
            check(getattr(self, name) >= 1, name, f"must be >= 1, got {getattr(self, name)}")
        check(self.batch_wait_ms >= 0, "batch_wait_ms", f"must be >= 0, got {self.batch_wait_ms}")


@dataclass
class AverageConfig:
    """Average checkpoints: the last `last` step checkpoints of a run, or the listed checkpoint folders."""

    checkpoint: str | None = None  # a run folder: average its newest `last` step checkpoints
    last: int = 5
    checkpoints: List[str] = field(default_factory=list)  # or these checkpoint (or run) folders
    output: str = MISSING  # the averaged checkpoint folder (checkpoint=DIR for the other commands)

    def __post_init__(self) -> None:
        check((self.checkpoint is None) != (not self.checkpoints), "checkpoint",
              "give a run (checkpoint=RUN [last=N]) or a list of checkpoints (checkpoints=[A,B,...]), not both")
        check(self.last >= 1, "last", f"must be >= 1, got {self.last}")


@dataclass
class ScoreConfig:
    """Forced decoding: log P(reference | input) per line of two parallel files."""

    checkpoint: str = MISSING  # a run folder or a checkpoint folder
    input: str = MISSING  # source sentences, one per line
    reference: str = MISSING  # target sentences to score, line by line
    pair: str | None = None  # which task of a multi-task run (name or SRC-TGT)
    json: str | None = None  # write {"sentences", "tokens", "log_prob", "perplexity"} here
    batch_size: int = 64
    device: str = "auto"
    threads: int = 0

    def __post_init__(self) -> None:
        check(self.batch_size >= 1, "batch_size", f"must be >= 1, got {self.batch_size}")


@dataclass
class EvaluateConfig:
    ref: str | None = None
    hyps: List[str] = field(default_factory=list)  # systems, named by their file stems
    hyp: str | None = None  # shorthand for a single hypothesis file
    src: str | None = None  # source of the test set: length buckets by source length, examples
    checkpoint: Any = None  # translate the test set with this run (or [A,B,...]: an ensemble) first; a list after
    sweep: str | None = None  # a `seq2seq-train -m` sweep folder: compare all its runs
    pair: str | None = None  # task name or SRC-TGT; default: every task of the checkpoint
    split: str = "test"
    baseline: str | None = None  # tested against the others (default: the first system; sweeps: the best run)
    out: str | None = None  # report folder (report.md, report.html, report.json, figures)
    translations: str | None = None  # with checkpoint=: also write the translations into this folder
    json: str | None = None  # write the scores here
    bootstrap: int = 1000  # resamples for the confidence intervals
    trials: int = 1000  # approximate-randomization trials for the p-values
    examples: int = 5  # best, worst and random example sentences shown
    attention_plots: int = 3  # heatmaps for a checkpoint with attention
    device: str = "auto"
    threads: int = 0
    decoding: DecodingConfig = field(default_factory=DecodingConfig)

    def __post_init__(self) -> None:
        if self.hyp is not None:
            self.hyps = [*self.hyps, self.hyp]
        if self.checkpoint is not None:
            self.checkpoint = checkpoint_list(self.checkpoint)
        given = sum([bool(self.hyps), self.checkpoint is not None, self.sweep is not None])
        check(given == 1, "hyps",
              "give hypothesis files (hyp=FILE or hyps=[A,B]) with ref=FILE, or checkpoint=RUN_DIR, or sweep=DIR")
        check(not self.hyps or self.ref is not None, "ref", "a reference file is needed to score hyps")
        for name in ("bootstrap", "trials"):
            check(getattr(self, name) >= 10, name, f"must be >= 10, got {getattr(self, name)}")
        check(self.examples >= 0, "examples", "must be >= 0")
        check(self.attention_plots >= 0, "attention_plots", "must be >= 0")
