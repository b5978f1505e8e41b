"""Typed schema of the data config group: the corpus files and their selection, SentencePiece, back-translation,
generated toy data. Checked in `__post_init__` like the other groups (schema.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Tuple

from omegaconf import MISSING

from seq2seq.config.checks import check, check_positive
from seq2seq.config.decoding import Strategy


class SpmType(Enum):
    unigram = "unigram"
    bpe = "bpe"
    char = "char"
    word = "word"


@dataclass
class ToyConfig:
    """Generated data: random symbol sequences (language `in`), the same sequences in another alphabet (`alt`),
    and their transformations as target languages `reverse`, `copy` and `sort`; seeded."""

    symbols: int = 20
    min_length: int = 3
    max_length: int = 12
    train_size: int = 8000
    valid_size: int = 200
    test_size: int = 200
    seed: int = 7

    def __post_init__(self) -> None:
        check(self.symbols >= 2, "data.toy.symbols", f"must be >= 2, got {self.symbols}")
        check(1 <= self.min_length <= self.max_length, "data.toy.min_length",
              f"must be >= 1 and <= data.toy.max_length ({self.max_length}), got {self.min_length}")
        for name in ("train_size", "valid_size", "test_size"):
            check_positive(getattr(self, name), f"data.toy.{name}")


@dataclass
class SentencePieceConfig:
    joint: bool = True  # one model for all languages, or one per language
    vocab_size: int = 8000
    model_type: SpmType = SpmType.unigram
    character_coverage: float = 1.0
    # SentencePiece trains on a seeded sample of the training text within both bounds; its memory grows about
    # 22 bytes per sample character (30M characters: ~0.7 GB; 2M WMT-length sentences, ~250M characters: ~5 GB)
    max_sentences: int = 2_000_000
    max_characters: int = 30_000_000
    # set: this SentencePiece model file (e.g. another run's spm.*.model) is every language's, copied into the run
    # folder instead of one trained on the run's text (the options above unused): runs that differ in their data
    # compared on one vocabulary, or an encoder transferred from a run with another data mix (trainer.init)
    model: str = ""

    def __post_init__(self) -> None:
        check(not self.model or self.joint, "data.spm.model",
              "is one model for every language: set data.spm.joint=true (or leave data.spm.model empty)")
        check(self.vocab_size >= 8, "data.spm.vocab_size", f"must be >= 8, got {self.vocab_size}")
        check_positive(self.max_sentences, "data.spm.max_sentences")
        check_positive(self.max_characters, "data.spm.max_characters")
        check(0.9 <= self.character_coverage <= 1.0, "data.spm.character_coverage",
              f"must be in [0.9, 1.0], got {self.character_coverage}")


@dataclass
class DataConfig:
    """Parallel files are ROOT/DIR/PREFIX.LANG or ROOT/DIR/PREFIX.LANG.gz."""

    name: str = MISSING
    root: str = "${oc.env:SEQ2SEQ_DATA,data}"
    dir: str = ""
    train: str = "train"
    valid: str = "val"  # "" = none: the task is not validated (an auxiliary task, e.g. monolingual copies)
    test: str = "test"  # "" = none: the task is not tested
    src: str = MISSING
    tgt: str = MISSING
    max_length: int = 100  # subword tokens; longer training pairs are filtered out (counted in the log)
    train_lines: str = ""  # "START:END": training pairs START..END-1 in file order (either end may be left out)
    max_train_pairs: int = 0  # > 0: a random sample (seeded by trainer.seed) of this many pairs of that range
    valid_max_sentences: int = 0  # 0 = whole validation set
    # set: a trained run (or checkpoint folder) translating tgt into src writes the training sources from the
    # target file alone (back-translation, seq2seq.runs.backtranslation); validation and test read both files
    back_translation: str = ""
    back_translation_decoding: Strategy = Strategy.beam
    # tagged back-translation (Caswell et al. 2019): every synthetic source starts with the tag <bt>, one piece of
    # the source language's SentencePiece model added to the ids (not the text), so the model can tell synthetic
    # sources from real ones; translation never adds it
    back_translation_tag: bool = False
    spm: SentencePieceConfig = field(default_factory=SentencePieceConfig)
    # where prepared corpora (encoded, memory-mapped training pairs) and SentencePiece models are kept and shared
    # by runs, resumes, sweeps and ranks; on a cluster, a folder every machine reads
    prepared: str = "${oc.env:SEQ2SEQ_PREPARED,'~/.cache/seq2seq/prepared'}"
    toy: ToyConfig | None = None  # set: the data are generated into the run folder

    def __post_init__(self) -> None:
        check(self.max_length >= 1, "data.max_length", f"must be >= 1, got {self.max_length}")
        check(self.valid_max_sentences >= 0, "data.valid_max_sentences", "must be >= 0")
        check(self.max_train_pairs >= 0, "data.max_train_pairs", f"must be >= 0, got {self.max_train_pairs}")
        self.line_range()

    def line_range(self) -> Tuple[int, int | None]:
        """`train_lines` as (start, end); end None = to the end of the file."""
        if not self.train_lines.strip():
            return 0, None
        usage = f"must be START:END (pair indices, half-open, e.g. 0:5000), got {self.train_lines!r}"
        parts = [part.strip() for part in self.train_lines.split(":")]
        check(len(parts) == 2 and all(not p or p.isdigit() for p in parts), "data.train_lines", usage)
        start = int(parts[0]) if parts[0] else 0
        end = int(parts[1]) if parts[1] else None
        check(end is None or end > start, "data.train_lines", f"must have START < END, got {self.train_lines!r}")
        return start, end
