"""The device (and CPU threads) a command runs on."""

from __future__ import annotations

import torch

from seq2seq.errors import ConfigError


def pick_device(name: str, threads: int = 0) -> torch.device:
    if threads > 0:
        torch.set_num_threads(threads)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name) if isinstance(name, str) else None
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ConfigError(f"device: {name!r} is not a device this toolkit runs on; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device: {name} asked for, but no CUDA GPU is available; use device=cpu")
    return device


def describe(device: torch.device) -> str:
    """What a run computes on, for logs and reports: "cuda:0 (NVIDIA H100 80GB HBM3)" or "cpu (2 threads)"."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"{device} ({torch.get_num_threads()} threads)"
