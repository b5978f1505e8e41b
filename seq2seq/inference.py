"""Using a trained run: rebuild the model from its checkpoint, pick a task, translate a stream of lines."""

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
from seq2seq.model import Seq2Seq, build_model
from seq2seq.text import Vocab
from seq2seq.training.checkpoint import find_checkpoint, load_weights, read_state
from seq2seq.training.setup import pick_device

log = logging.getLogger(__name__)


@dataclass
class Trained:
    model: Seq2Seq
    vocabs: Dict[str, Vocab]
    tasks: List[TaskConfig]
    data: DataConfig
    state: Dict[str, Any]
    folder: Path

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
    folder = find_checkpoint(path)
    state = read_state(folder)
    run_dir = folder.parent.parent
    try:
        model_cfg = to_typed(OmegaConf.create(state["model"]), ModelConfig)
        tasks = [to_typed(OmegaConf.create(t), TaskConfig) for t in state["tasks"]]
        vocab_files = state["vocabs"]
        data = to_typed(OmegaConf.create(state["data"]), DataConfig)
    except (KeyError, ConfigError) as err:
        raise CheckpointError(f"{folder}: checkpoint state lacks or has a bad model description ({err})") from None
    vocabs = {lang: Vocab.load(run_dir / name) for lang, name in vocab_files.items()}
    model = build_model(model_cfg, tasks, {lang: len(v) for lang, v in vocabs.items()})
    load_weights(model, folder)
    model.to(device).eval()
    log.info("loaded %s (step %s)", folder, state.get("step"))
    return Trained(model, vocabs, tasks, data, state, folder)


def quantized(model: Seq2Seq) -> Seq2Seq:
    """int8 dynamic quantization of the LSTM/GRU and linear layers, for faster CPU inference."""
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)


def make_translator(trained: Trained, task: TaskConfig, cfg, device: torch.device) -> Translator:
    model = quantized(trained.model) if cfg.quantize else trained.model
    return Translator(model, task.name, trained.vocabs[task.src], trained.vocabs[task.tgt], cfg, device)


def run_translate(cfg: TranslateConfig) -> int:
    """Translate `cfg.input` (default stdin) into `cfg.output` (default stdout), line by line; returns the count."""
    device = pick_device(cfg.device, cfg.threads)
    trained = load_trained(Path(cfg.checkpoint), device)
    translator = make_translator(trained, trained.task(cfg.pair), cfg.decoding, device)
    with ExitStack() as stack:
        if cfg.input is None:
            lines = decode_lines(sys.stdin.buffer, "<stdin>")
        else:
            lines = iter_lines(Path(cfg.input))
        if cfg.output is None:
            out = sys.stdout
        else:
            Path(cfg.output).parent.mkdir(parents=True, exist_ok=True)
            out = stack.enter_context(open(cfg.output, "w", encoding="utf-8"))
        try:
            return translator.stream(lines, out)
        except KeyboardInterrupt:
            out.flush()
            raise UserError(f"interrupted: the first {translator.written} lines of the output are complete "
                            "translations") from None
