"""A run folder and what its checkpoints say about the run: the one place that knows the folder's layout.

RUN/.hydra/config.yaml   the resolved config (Hydra)        RUN/spm.*.model   SentencePiece models
RUN/checkpoints/         step folders, best/, latest         RUN/results.json  test scores of the best checkpoint
RUN/train.log            the log                             RUN/metrics.jsonl training and validation curves
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

from omegaconf import OmegaConf

from seq2seq.config import DataConfig, ModelConfig, TaskConfig, to_typed
from seq2seq.errors import CheckpointError, ConfigError
from seq2seq.runs.checkpoint import Checkpoints, find_checkpoint, read_state


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @property
    def checkpoints(self) -> Checkpoints:
        return Checkpoints(self.path / "checkpoints")

    @property
    def results(self) -> Path:
        return self.path / "results.json"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def config(self) -> Path:
        return self.path / ".hydra" / "config.yaml"

    def translations(self, split: str, task: str, label: str, lang: str) -> Path:
        """Where a run's translations of a split are written (label: hyp for training's test, else a strategy)."""
        return self.path / f"{split}.{task}.{label}.{lang}"


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint's state.json, read once and typed: the run's model, tasks, data and vocabularies."""

    folder: Path  # the checkpoint folder
    run: RunFolder
    model: ModelConfig
    tasks: List[TaskConfig]
    data: DataConfig
    vocab_files: Dict[str, str]  # language -> SentencePiece model file in the run folder
    state: Dict[str, Any]  # counters: step, best_step, task_updates, ...

    def vocab_path(self, lang: str) -> Path:
        """In the checkpoint folder itself when it carries its vocabularies (an average), else in its run."""
        own = self.folder / self.vocab_files[lang]
        return own if own.is_file() else self.run.path / self.vocab_files[lang]


def read_checkpoint(path: Path) -> CheckpointInfo:
    """A run folder (its best checkpoint, else the latest) or a checkpoint folder."""
    folder = find_checkpoint(path)
    state = read_state(folder)
    try:
        model = to_typed(OmegaConf.create(state["model"]), ModelConfig)
        tasks = [to_typed(OmegaConf.create(t), TaskConfig) for t in state["tasks"]]
        data = to_typed(OmegaConf.create(state["data"]), DataConfig)
        vocab_files = dict(state["vocabs"])
    except (KeyError, ConfigError) as err:
        raise CheckpointError(f"{folder}: checkpoint state lacks or has a bad model description ({err})") from None
    return CheckpointInfo(folder, RunFolder(folder.parent.parent), model, tasks, data, vocab_files, state)
