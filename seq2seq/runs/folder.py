"""What a run folder's checkpoints say about the run (the folder's layout: seq2seq.layout)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

from omegaconf import OmegaConf

from seq2seq.config import DataConfig, ModelConfig, TaskConfig, to_typed
from seq2seq.errors import CheckpointError, ConfigError
from seq2seq.layout import RunFolder
from seq2seq.runs.checkpoint import find_checkpoint, read_state


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
