"""A trained run loaded for use: the model rebuilt from a checkpoint, its vocabularies, tasks and data config."""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import torch
from omegaconf import OmegaConf

from seq2seq.config import DataConfig, ModelConfig, TaskConfig, TranslateConfig, to_typed
from seq2seq.data.files import decode_lines, iter_lines
from seq2seq.decoding import Translator
from seq2seq.errors import CheckpointError, ConfigError, UserError
from seq2seq.model import Seq2Seq
from seq2seq.text import Vocab
from seq2seq.runs.checkpoint import load_weights
from seq2seq.runs.folder import CheckpointInfo, read_checkpoint
from seq2seq.runs.device import pick_device

log = logging.getLogger(__name__)


@dataclass
class Trained:
    model: Seq2Seq
    vocabs: Dict[str, Vocab]
    info: CheckpointInfo

    @property
    def tasks(self) -> List[TaskConfig]:
        return self.info.tasks

    def task(self, pair: str | None) -> TaskConfig:
        """The task asked for by name or as SRC-TGT languages; the only task when there is one."""
        names = [t.name for t in self.tasks]
        if pair is None:
            if len(self.tasks) == 1:
                return self.tasks[0]
            raise UserError(f"pair: this checkpoint has several tasks; choose one with pair=NAME from {names}")
        for task in self.tasks:
            if pair in (task.name, f"{task.src}-{task.tgt}"):
                return task
        raise UserError(f"pair: {pair!r} is not in this checkpoint; available tasks: {names}")


def load_trained(path: Path, device: torch.device) -> Trained:
    """The model of a run folder's best checkpoint (or of a checkpoint folder), ready to translate."""
    info = read_checkpoint(path)
    vocabs = {lang: Vocab.load(info.vocab_path(lang)) for lang in info.vocab_files}
    model = Seq2Seq(info.model, info.tasks, {lang: len(v) for lang, v in vocabs.items()})
    load_weights(model, info.folder)
    model.to(device).eval()
    log.info("loaded %s (step %s)", info.folder, info.state.get("step"))
    return Trained(model, vocabs, info)


def quantized(model: Seq2Seq) -> Seq2Seq:
    """int8 dynamic quantization of the LSTM/GRU and linear layers, for faster CPU inference."""
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)


def make_translator(trained: Trained, task: TaskConfig, cfg, device: torch.device) -> Translator:
    model = quantized(trained.model) if cfg.quantize else trained.model
    return Translator(model, task.name, trained.vocabs[task.src], trained.vocabs[task.tgt], cfg, device)
