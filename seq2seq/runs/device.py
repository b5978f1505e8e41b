"""The device (and CPU threads) a command runs on."""

from __future__ import annotations

import torch

from seq2seq.errors import ConfigError


def pick_device(name: str, threads: int = 0) -> torch.device:
    if threads > 0:
        torch.set_num_threads(threads)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device: {name} asked for, but no CUDA GPU is available; use device=cpu")
    return torch.device(name)
