"""`seq2seq-prepare`: the training data of a run encoded ahead of time, as `seq2seq-train` with the same config
will read it (fairseq-preprocess's job)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict

from seq2seq.config import TrainConfig, task_data
from seq2seq.data.corpus import load_task_data
from seq2seq.data.prepared import folder_bytes
from seq2seq.errors import ConfigError


def run_prepare(cfg: TrainConfig) -> Dict[str, Dict[str, Any]]:
    """Prepare every task's training data as `seq2seq-train` with this config will read it (the SentencePiece
    models and the encoded corpora under data.prepared); returns, per task, its pairs and folder."""
    for task in cfg.tasks:
        if task_data(cfg.data, task).back_translation:
            raise ConfigError(f"task {task.name}: data.back_translation: its sources, and the SentencePiece model "
                              "that reads them, are made by the training run's model; start seq2seq-train directly")
    with tempfile.TemporaryDirectory() as scratch:  # where a toy task's files are generated
        data, _ = load_task_data(cfg.data, cfg.tasks, Path(scratch), cfg.trainer.seed)
    return {name: {"pairs": len(d.train), "folder": str(d.prepared), "megabytes": folder_bytes(d.prepared) / 1e6}
            for name, d in data.items()}
