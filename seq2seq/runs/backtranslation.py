"""Back-translation (Sennrich et al. 2016): a task's training sources made by translating its target side.

A task whose data block sets `back_translation: RUN` reads only the target file of its training split; its source
side is RUN's translation of those lines (a trained run or checkpoint folder with a task from the target language
into the source language), with `back_translation_decoding` (beam 5 by default). The synthetic sources are made
once per run folder, before SentencePiece sees any text, and kept in RUN_DIR/data/ beside a note of what made them,
so a resumed run reads the same pairs and a changed model or selection makes them again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import List, Sequence

import torch

from seq2seq.atomic import write_atomic
from seq2seq.config import DataConfig, DecodingConfig, TaskConfig, task_data
from seq2seq.errors import ConfigError, UserError
from seq2seq.layout import RunFolder
from seq2seq.runs.folder import read_checkpoint
from seq2seq.runs.trained import Trained, load_trained, make_translator

log = logging.getLogger(__name__)


def back_translator_task(trained: Trained, task: TaskConfig, where: str) -> TaskConfig:
    """The task of the back-translation model that writes `task.src` from `task.tgt`."""
    for candidate in trained.tasks:
        if (candidate.src, candidate.tgt) == (task.tgt, task.src):
            return candidate
    have = ", ".join(f"{t.name} ({t.src}->{t.tgt})" for t in trained.tasks)
    raise ConfigError(f"{where}: the model translates {have}, not {task.tgt}->{task.src}; give a run trained "
                      f"from {task.tgt} into {task.src}")


def check_back_translations(data: DataConfig, tasks: Sequence[TaskConfig]) -> None:
    """Every back-translation model is a trained run or checkpoint folder (checked before any work)."""
    for task in tasks:
        cfg = task_data(data, task)
        if cfg.back_translation:
            path = Path(cfg.back_translation).expanduser()
            try:
                read_checkpoint(path)
            except UserError as err:
                relative = "" if path.is_absolute() else f" (read from the working directory {Path.cwd()})"
                raise type(err)(f"task {task.name}: data.back_translation: {err}{relative}; train that model "
                                "first or give its folder") from None


def back_translate(task: TaskConfig, cfg: DataConfig, targets: Sequence[str], run: RunFolder,
                   device: torch.device) -> List[str]:
    """The synthetic source of each target line (one per line), made once on `device` and then read from the
    run folder. The global random state is left as it was: a resumed run, which reads them, draws the same."""
    model = Path(cfg.back_translation).expanduser()
    info = read_checkpoint(model)
    decoding = DecodingConfig(strategy=cfg.back_translation_decoding)
    made_by = {"model": str(info.folder.resolve()), "step": info.state.get("step"),
               "decoding": decoding.strategy.value, "beam_size": decoding.beam_size,
               "targets_sha256": hashlib.sha256("\n".join(targets).encode("utf-8")).hexdigest()}
    lines_path = run.backtranslated(task.name, task.src)
    note_path = lines_path.with_name(lines_path.name + ".json")
    if lines_path.is_file() and note_path.is_file() and json.loads(note_path.read_text("utf-8")) == made_by:
        lines = lines_path.read_text(encoding="utf-8").split("\n")[:-1]
        if len(lines) == len(targets):
            return lines
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        trained = load_trained(model, device)
        source = back_translator_task(trained, task, f"task {task.name}: data.back_translation={model}")
        lines = make_translator(trained, source, decoding, device).translate_lines(list(targets))
    log.info("task %s: back-translated %d %s sentences into %s with %s (%s) in %.0f s", task.name, len(lines),
             task.tgt, task.src, info.folder, decoding.strategy.value, time.perf_counter() - started)
    run.data.mkdir(parents=True, exist_ok=True)
    write_atomic(lines_path, "".join(line.replace("\n", " ") + "\n" for line in lines))
    write_atomic(note_path, json.dumps(made_by, indent=2) + "\n")
    return lines
