"""A trained run loaded for use: the model rebuilt from a checkpoint, its vocabularies, tasks and data config."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import torch

from seq2seq.config import DecodingConfig, TaskConfig
from seq2seq.decoding import SearchModel, Translator
from seq2seq.decoding.ensemble import Ensemble
from seq2seq.errors import CheckpointError, UserError
from seq2seq.model import Seq2Seq
from seq2seq.runs.checkpoint import load_weights
from seq2seq.runs.folder import CheckpointInfo, read_checkpoint
from seq2seq.text import Vocab

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
    import warnings

    from torch.ao.quantization import quantize_dynamic

    # torch 2.13 still runs eager dynamic quantization and says it will move to torchao; the user can do nothing
    # about that warning, so it is not passed on (tests/unit/test_search.py checks that the int8 path still works)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*deprecated", category=UserWarning)
        return quantize_dynamic(model, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)


def search_model(trained: Sequence[Trained], pair: str | None,
                 quantize: bool = False) -> Tuple[SearchModel, TaskConfig]:
    """What a search decodes with: one model, or an ensemble of several runs with the same vocabularies (refused
    otherwise), for the task `pair` (named in the first run's terms)."""
    first, task = trained[0], trained[0].task(pair)
    tasks = [task] + [other.task(pair if pair is not None else task.name) for other in trained[1:]]
    for other, theirs in zip(trained[1:], tasks[1:]):
        for ours_lang, their_lang in ((task.src, theirs.src), (task.tgt, theirs.tgt)):
            if first.vocabs[ours_lang].digest != other.vocabs[their_lang].digest:
                raise CheckpointError(f"{other.info.folder}: its SentencePiece model for {their_lang!r} differs from "
                                      f"{first.info.folder}'s; an ensemble needs runs with one vocabulary")
    models = [quantized(t.model) if quantize else t.model for t in trained]
    if len(models) == 1:
        return models[0], task
    return Ensemble(list(zip(models, [t.name for t in tasks]))), task


def make_translator(trained: Trained | Sequence[Trained], task: TaskConfig | str | None, cfg: DecodingConfig,
                    device: torch.device) -> Translator:
    """A translator for one run's task (a TaskConfig) or for an ensemble's task (its name or SRC-TGT)."""
    runs = [trained] if isinstance(trained, Trained) else list(trained)
    model, chosen = search_model(runs, task.name if isinstance(task, TaskConfig) else task, cfg.quantize)
    return Translator(model, chosen.name, runs[0].vocabs[chosen.src], runs[0].vocabs[chosen.tgt], cfg, device)


def load_runs(checkpoints: List[str], device: torch.device) -> List[Trained]:
    """The runs of a checkpoint list (TranslateConfig.checkpoint, EvaluateConfig.checkpoint), loaded."""
    return [load_trained(Path(path), device) for path in checkpoints]
