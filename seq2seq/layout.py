"""A run folder's layout: the one place that spells the names of what a run writes. A leaf module (it imports
nothing of the package), so every layer that reads or writes a run folder asks it.

RUN/.hydra/config.yaml     the resolved config (Hydra)     RUN/spm.*.model     SentencePiece models
RUN/.hydra/overrides.yaml  the command line's overrides    RUN/results.json    test scores of the best checkpoint
RUN/checkpoints/           step folders, best/, latest     RUN/metrics.jsonl   training and validation curves
RUN/snapshots/min_M/       weights at M wall-clock minutes RUN/train.log       the log (Hydra's: COMMAND.log)
RUN/data/                  generated toy splits, back-translations (backtranslated.TASK.LANG)
RUN/SPLIT.TASK.LABEL.LANG  translations of a split (LABEL: hyp for training's test, else a strategy)
The inside of checkpoints/ and of a checkpoint folder is seq2seq.runs.checkpoint's (checkpoint folders also live
outside runs: an average).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Sequence


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @property
    def config(self) -> Path:
        return self.path / ".hydra" / "config.yaml"

    @property
    def overrides(self) -> Path:
        return self.path / ".hydra" / "overrides.yaml"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def results(self) -> Path:
        return self.path / "results.json"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def log(self) -> Path:
        """seq2seq-train's log (Hydra names it after the job)."""
        return self.path / "train.log"

    @property
    def data(self) -> Path:
        """Files the run makes for its own data: generated toy splits, back-translated sources."""
        return self.path / "data"

    def backtranslated(self, task: str, lang: str) -> Path:
        """A back-translated task's side: the synthetic source (lang = its source) or its copied target."""
        return self.data / f"backtranslated.{task}.{lang}"

    def snapshot(self, minute: float) -> Path:
        """The weights kept at `minute` wall-clock minutes (trainer.snapshot_minutes)."""
        return self.path / "snapshots" / f"min_{minute:g}"

    def translations(self, split: str, task: str, label: str, lang: str) -> Path:
        """Where a run's translations of a split are written (label: hyp for training's test, else a strategy)."""
        return self.path / f"{split}.{task}.{label}.{lang}"

    @staticmethod
    def vocab_names(languages: Sequence[str], joint: bool) -> Dict[str, str]:
        """SentencePiece model file name per language: one shared file when joint, else one per language."""
        if joint:
            name = "spm." + "-".join(sorted(set(languages))) + ".model"
            return {lang: name for lang in languages}
        return {lang: f"spm.{lang}.model" for lang in languages}
