"""Data-parallel training under torchrun with PyTorch DDP: every rank draws the same global batch and trains on
its share of the sentences, so N processes compute the gradient of the same global batch as one process."""

from __future__ import annotations

import hashlib
import os
from typing import List, Tuple

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from seq2seq.errors import ConfigError


def init(device: torch.device) -> Tuple[int, int, torch.device]:
    """(rank, world size, this rank's device): (0, 1, device) unless started by torchrun with several processes.
    On a GPU every process of a machine takes its own card (NCCL); on the CPU the processes talk over gloo."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return 0, 1, device
    if device.type == "cuda":
        processes, cards = int(os.environ.get("LOCAL_WORLD_SIZE", "1")), torch.cuda.device_count()
        if processes > cards:
            raise ConfigError(f"trainer.device: {processes} processes on this machine but "
                              f"{cards} CUDA GPU(s); start at most {cards} per machine (--nproc_per_node) or train "
                              "on the CPU with trainer.device=cpu")
        device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), size, device


def wrap(model: torch.nn.Module, device: torch.device) -> DistributedDataParallel:
    # tasks use different decoders/encoders, so some parameters get no gradient in a step
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                   find_unused_parameters=True)


def all_sum(value: torch.Tensor) -> torch.Tensor:
    total = value.detach().clone()
    dist.all_reduce(total)
    return total


def from_rank0(device: torch.device, *values: float) -> Tuple[float, ...]:
    """Rank 0's values on every rank: the clocks that time budgets, snapshots and a time-decayed learning rate
    read must be one clock, or each rank picks its own rate and its own last step (and waits for the others)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)  # NCCL broadcasts GPU tensors only
    dist.broadcast(tensor, src=0)
    return tuple(tensor.tolist())


def checksums(model: torch.nn.Module) -> List[str]:
    """A digest of this rank's weights, gathered from every rank (all equal when the replicas agree)."""
    digest = hashlib.sha256()
    for param in model.parameters():
        digest.update(param.detach().cpu().contiguous().numpy().tobytes())
    gathered: List[str] = [""] * dist.get_world_size()
    dist.all_gather_object(gathered, digest.hexdigest()[:16])
    return gathered


def finish() -> None:
    """All ranks leave the process group together, after the first has tested and written the results: a rank
    that exits while another still holds its gloo connections can take that one down with SIGABRT at exit."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
