"""The device (and CPU threads) a command runs on, and the machine a run's numbers come from."""

from __future__ import annotations

import platform
from pathlib import Path

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
    """What a run computes on, for logs and reports: "cuda:0 (NVIDIA H100 80GB HBM3)" or "cpu (2 threads,
    AMD EPYC family 25 model 1, AVX2)": the processor, and the vector instructions torch's kernels use on it
    (AVX2, AVX512, ...), which with the threads can change how sums are rounded."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"{device} ({torch.get_num_threads()} threads, {processor()}, {torch.backends.cpu.get_cpu_capability()})"


def machine(device: torch.device) -> str:
    """The machine a run trained on, as its results name it: the device, the processor and torch's version. A seed
    trains bit for bit the same only on one such machine: another processor or torch build may round some sums
    differently, and over a whole training the two runs end as different models."""
    return f"{describe(device)}, torch {torch.__version__}"


def processor() -> str:
    """The CPU's model name, with its family and model numbers where the name alone may not tell two generations
    apart (a virtual machine's "AMD EPYC"), from /proc/cpuinfo where there is one."""
    try:
        lines = Path("/proc/cpuinfo").read_text().split("\n\n")[0].splitlines()
    except OSError:
        lines = []
    info = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}
    name = info.get("model name") or platform.processor() or platform.machine() or "unknown processor"
    return f"{name} family {info['cpu family']} model {info['model']}" if "cpu family" in info else name
