"""A run folder and what its checkpoints say about the run: the one place that knows the folder's layout.

RUN/.hydra/config.yaml   the resolved config (Hydra)        RUN/spm.*.model   SentencePiece models
RUN/checkpoints/         step folders, best/, latest         RUN/results.json  test scores of the best checkpoint
RUN/train.log            the log                             RUN/metrics.jsonl training and validation curves
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

from omegaconf import OmegaConf

from seq2seq.config import DataConfig, ModelConfig, TaskConfig, to_typed
from seq2seq.errors import CheckpointError, ConfigError, UserError
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


class RunLock:
    """One training process per run folder: an exclusive lock on RUN/.lock (released by the OS when its process
    ends, so a killed run's lock is taken over), whose text names the holder for the refusal message."""

    def __init__(self, run: Path):
        self.path = run / ".lock"
        self.handle: Any = None

    def acquire(self) -> None:
        import fcntl  # POSIX; imported here so that the rest of the package also loads elsewhere

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"{self.path.parent}: in use by {holder}; wait for it to end, stop it, or train into "
                            "another folder (hydra.run.dir=...)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"seq2seq-train (pid {os.getpid()} on {socket.gethostname()}, since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        handle.flush()
        self.handle = handle  # held open: the lock lasts as long as this process

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
