"""Where a run's curves go: one JSON line per logged window or validation in RUN/metrics.jsonl, and the same
scalars to TensorBoard when asked (the optional `tensorboard` package)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict

from seq2seq.errors import ConfigError
from seq2seq.layout import RunFolder


class MetricsLog:
    def __init__(self, run_dir: Path, tensorboard: bool):
        self.path = RunFolder(run_dir).metrics
        self.writer = open_tensorboard(run_dir) if tensorboard else None

    def record(self, step: int, elapsed: float, entry: Dict[str, Any]) -> None:
        """`entry` is {"kind": "train", "loss": {task: ...}, "tokens_per_s", "lr", ...} or {"kind": "valid",
        "task", "loss", "ppl", "bleu"}."""
        entry = {"step": step, "elapsed": round(elapsed, 3), "time": time.time(), **entry}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        if self.writer is None:
            return
        if entry["kind"] == "train":
            scalars = {f"train/loss/{task}": v for task, v in entry["loss"].items()}
            scalars.update({"train/tokens_per_s": entry["tokens_per_s"], "train/lr": entry["lr"]})
        else:
            scalars = {f"valid/{key}/{entry['task']}": entry[key] for key in ("loss", "ppl", "bleu")}
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def open_tensorboard(run_dir: Path):
    """A TensorBoard writer for RUN/tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("trainer.tensorboard: needs the tensorboard package; pip install 'seq2seq[tensorboard]' "
                          "or set trainer.tensorboard=false") from None
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))
