"""What a training run is made of, each part made by a function of its own, in the order a run makes them (the
order fixes which random numbers each draws): the device and process group, the data and vocabularies, the model,
the optimiser and its schedule, the batch streams and the task sampler. `Trainer` takes them; a benchmark or a test
can make only the parts it needs."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import torch

from seq2seq.config import Precision, TaskSampling, TrainConfig, TrainerConfig
from seq2seq.data.batching import EpochIterator, TaskSampler
from seq2seq.data.corpus import TaskData, load_task_data
from seq2seq.errors import ConfigError
from seq2seq.layout import RunFolder
from seq2seq.model import Seq2Seq
from seq2seq.runs.backtranslation import back_translate, check_back_translations
from seq2seq.runs.checkpoint import Checkpoints, load_weights
from seq2seq.runs.device import pick_device
from seq2seq.text import Vocab
from seq2seq.training import distributed, transfer
from seq2seq.training.schedule import LearningRate

log = logging.getLogger(__name__)


@dataclass
class Placement:
    """Where this process trains: its device, its rank among `world` data-parallel processes."""

    device: torch.device
    rank: int = 0
    world: int = 1


@dataclass
class TrainingParts:
    placement: Placement
    data: Dict[str, TaskData]
    vocabs: Dict[str, Vocab]
    model: Seq2Seq
    optimizer: torch.optim.Optimizer
    schedule: LearningRate
    iterators: Dict[str, EpochIterator]
    sampler: TaskSampler
    loss_module: torch.nn.Module | None = None  # what computes the loss: the DDP wrapper of the model, or None

    def train_step(self, cfg: TrainerConfig, task: str, step: int, progress: float) -> Tuple[float, int]:
        """Optimiser step number `step` on the task's next batch (this rank's share of the global batch): the
        loss under bf16 autocast if asked, scaled to the global batch, the schedule's rate for the step and the
        run's `progress` (0..1), backward, clipping, update. Returns the global batch's summed loss and its target
        tokens; a non-finite loss raises NonFiniteLoss before anything is updated."""
        device, world = self.placement.device, self.placement.world
        batch, tokens = self.iterators[task].next_share()  # tokens: of the global batch, over all ranks
        batch = batch.to(device)
        self.model.train()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == Precision.bf16):
            module = self.model if self.loss_module is None else self.loss_module
            loss_sum = module(task, batch, cfg.label_smoothing)
        # DDP averages gradients over ranks: scaling by the world size makes them those of the global batch
        loss = loss_sum * world / tokens
        total = distributed.all_sum(loss_sum) if world > 1 else loss_sum.detach()
        if not torch.isfinite(total):
            raise NonFiniteLoss(task)
        self.optimizer.zero_grad(set_to_none=True)
        self.schedule.before_step(step, progress)
        loss.backward()
        if cfg.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_norm)
        self.optimizer.step()
        return total.item(), tokens


class NonFiniteLoss(Exception):
    """A step's loss was NaN or infinite (nothing was updated); the argument is the task."""


def placement(cfg: TrainConfig) -> Placement:
    """The device (trainer.device, threads), joined to the process group under torchrun; bf16 only on CUDA."""
    device = pick_device(cfg.trainer.device, cfg.trainer.threads)
    rank, world, device = distributed.init(device)
    if rank > 0:  # one rank speaks and writes
        logging.getLogger("seq2seq").setLevel(logging.WARNING)
    if cfg.trainer.precision == Precision.bf16 and device.type != "cuda":
        raise ConfigError("trainer.precision: bf16 autocast is for CUDA GPUs (the CPU LSTM kernels have no bf16 "
                          "path); use trainer.precision=fp32 on the CPU")
    return Placement(device, rank, world)


def finetune_source(cfg: TrainConfig, run_dir: Path) -> Path | None:
    """A new fine-tuning run's source checkpoint, its SentencePiece models copied into the run folder first (so
    the data is encoded with the vocabularies the weights were trained with); None without trainer.finetune_from."""
    if not cfg.trainer.finetune_from:
        return None
    return transfer.copy_vocabularies(Path(cfg.trainer.finetune_from), run_dir)


def training_data(cfg: TrainConfig, run_dir: Path,
                  device: torch.device) -> Tuple[Dict[str, TaskData], Dict[str, Vocab]]:
    """Every task's prepared training corpus and validation text, and the vocabularies (back-translated tasks
    translate on `device`)."""
    check_back_translations(cfg.data, cfg.tasks)
    return load_task_data(cfg.data, cfg.tasks, run_dir, cfg.trainer.seed,
                          functools.partial(back_translate, device=device))


def training_model(cfg: TrainConfig, vocabs: Dict[str, Vocab], device: torch.device, fresh: bool,
                   source: Path | None = None) -> Seq2Seq:
    """The model on `device`; a new run starts its modules where the config says (the fine-tuning `source`,
    trainer.init, word vectors) and freezes what it asks to. A resumed run takes every weight from its checkpoint
    later."""
    model = Seq2Seq(cfg.model, cfg.tasks, {k: len(v) for k, v in vocabs.items()})
    model.to(device)
    if source is not None:
        load_weights(model, source)
        log.info("fine-tuning %s on the main task %s", source, cfg.main_task)
    if fresh:
        for init in cfg.trainer.init:
            transfer.init_from_checkpoint(model, init, cfg.tasks, vocabs)
        for vectors in cfg.trainer.word_vectors:
            transfer.load_word_vectors(model, vectors, cfg.tasks, vocabs)
    transfer.freeze(model, cfg.trainer.init, cfg.trainer.word_vectors)
    return model


def optimisation(cfg: TrainConfig, model: Seq2Seq) -> Tuple[torch.optim.Optimizer, LearningRate]:
    """Adam over the model's parameters and the learning-rate schedule that drives it."""
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.trainer.lr)
    return optimizer, LearningRate(cfg.trainer, optimizer)


def batch_streams(cfg: TrainConfig, data: Dict[str, TaskData],
                  where: Placement) -> Tuple[Dict[str, EpochIterator], TaskSampler]:
    """Each task's seeded stream of token-bucketed batches (this rank's share of each) and the task sampler, both
    drawn from trainer.data_seed (by default trainer.seed)."""
    t = cfg.trainer
    seed = t.seed if t.data_seed is None else t.data_seed
    iterators = {name: EpochIterator(d.train, t.batch_tokens, seed, stream=i, pool=t.length_pool, rank=where.rank,
                                     world=where.world)
                 for i, (name, d) in enumerate(data.items())}
    return iterators, TaskSampler(list(data), task_weights(cfg, data), seed)


def task_weights(cfg: TrainConfig, data: Dict[str, TaskData]) -> List[float]:
    """How often each task trains, in the order of `data`: its mixing ratio, or its training pairs ** (1 / T)."""
    t = cfg.trainer
    if t.finetune_from:  # the other tasks stay in the model (and are validated) but are not trained
        return [float(name == cfg.main_task) for name in data]
    if t.task_sampling == TaskSampling.temperature:
        return [len(d.train) ** (1.0 / t.sampling_temperature) for d in data.values()]
    return [d.task.mixing_ratio for d in data.values()]


def make_parts(cfg: TrainConfig, run_dir: Path) -> TrainingParts:
    """Every part of a run, made in the order a run has always made them (seeded first: the model's initial
    weights are the same run after run)."""
    where = placement(cfg)
    torch.manual_seed(cfg.trainer.seed)
    fresh = Checkpoints(RunFolder(run_dir).checkpoints).latest() is None
    source = finetune_source(cfg, run_dir) if fresh else None
    data, vocabs = training_data(cfg, run_dir, where.device)
    model = training_model(cfg, vocabs, where.device, fresh, source)
    optimizer, schedule = optimisation(cfg, model)
    iterators, sampler = batch_streams(cfg, data, where)
    wrapped = distributed.wrap(model, where.device) if where.world > 1 else None
    return TrainingParts(where, data, vocabs, model, optimizer, schedule, iterators, sampler, wrapped)
