"""`seq2seq-average`: the parameter average of a run's last checkpoints (or of listed ones) as a checkpoint folder."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from seq2seq.config import AverageConfig
from seq2seq.runs.average import average_checkpoints, last_checkpoints


def run_average(cfg: AverageConfig) -> Tuple[List[Path], Path]:
    """The checkpoint folders averaged and the folder written."""
    if cfg.checkpoint is not None:
        folders = last_checkpoints(Path(cfg.checkpoint), cfg.last)
    else:
        folders = [Path(c) for c in cfg.checkpoints]
    return folders, average_checkpoints(folders, Path(cfg.output))
