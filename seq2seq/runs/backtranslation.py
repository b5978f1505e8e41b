"""Back-translation (Sennrich et al. 2016): a task's training sources made by translating its target side.

A task whose data block sets `back_translation: RUN` reads only the target file of its training split; its source
side is RUN's translation of those lines (a trained run or checkpoint folder with a task from the target language
into the source language), with `back_translation_decoding` (beam 5 by default). The synthetic sources are made
before SentencePiece sees any text and kept in RUN_DIR/data/ beside a note of what made them, so a resumed run reads
the same pairs and a changed model or selection makes them again. They are also kept under data.prepared
(PREPARED/backtranslated/KEY, KEY: a hash of the model's weights and vocabularies, the decoding and the target
lines), made there once under a lock: the other seeds, variants and data-parallel ranks that back-translate the same
lines with the same model read them instead of translating again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import fields
from pathlib import Path
from typing import Any, Dict, List, Sequence

import torch

from seq2seq.atomic import write_atomic
from seq2seq.config import DataConfig, DecodingConfig, TaskConfig, task_data
from seq2seq.data.files import read_lines, write_lines
from seq2seq.data.prepared import key_of, locked
from seq2seq.errors import ConfigError, UserError
from seq2seq.layout import RunFolder
from seq2seq.runs.checkpoint import MODEL_FILE
from seq2seq.runs.folder import CheckpointInfo, read_checkpoint
from seq2seq.runs.trained import load_trained, make_translator

log = logging.getLogger(__name__)


def back_translator_task(tasks: Sequence[TaskConfig], task: TaskConfig, where: str) -> TaskConfig:
    """The task of the back-translation model (of its `tasks`) that writes `task.src` from `task.tgt`."""
    for candidate in tasks:
        if (candidate.src, candidate.tgt) == (task.tgt, task.src):
            return candidate
    have = ", ".join(f"{t.name} ({t.src}->{t.tgt})" for t in tasks)
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
    """The synthetic source of each target line (one per line): read from the run folder, else from the shared
    copy under data.prepared, else made on `device` (under that copy's lock, so one process translates while the
    others wait) and kept in both. The global random state is left as it was: a resumed run draws the same."""
    model = Path(cfg.back_translation).expanduser()
    info = read_checkpoint(model)
    source = back_translator_task(info.tasks, task, f"task {task.name}: data.back_translation={model}")
    decoding = DecodingConfig(strategy=cfg.back_translation_decoding)
    made_by = {"model": str(info.folder.resolve()), "step": info.state.get("step"),
               "decoding": decoding.strategy.value, "beam_size": decoding.beam_size,
               "targets_sha256": hashlib.sha256("\n".join(targets).encode("utf-8")).hexdigest()}
    lines_path = run.backtranslated(task.name, task.src)
    note_path = lines_path.with_name(lines_path.name + ".json")
    if json_of(note_path) == made_by and len(lines := lines_of(lines_path)) == len(targets):
        return lines
    shared = Path(cfg.prepared).expanduser() / "backtranslated" / key_of(identity(info, task, made_by, decoding))
    with locked(shared):
        if len(lines := lines_of(shared)) != len(targets):
            lines = translate(model, info, source, decoding, targets, device)
            write_lines(shared, lines)
        else:
            log.info("task %s: %d back-translations by %s read from %s", task.name, len(lines), info.folder, shared)
    run.data.mkdir(parents=True, exist_ok=True)
    write_lines(lines_path, lines)
    write_atomic(note_path, json.dumps(made_by, indent=2) + "\n")
    return lines


def identity(info: CheckpointInfo, task: TaskConfig, made_by: Dict[str, Any],
             decoding: DecodingConfig) -> Dict[str, Any]:
    """What the translations depend on, wherever the model's folder lies: its weights and the SentencePiece models
    of both languages by content, every decoding setting (sampling draws from its own seeded generator) and the
    lines."""
    files = [info.folder / MODEL_FILE, info.vocab_path(task.tgt), info.vocab_path(task.src)]
    return {"targets_sha256": made_by["targets_sha256"], "direction": f"{task.tgt}->{task.src}",
            "files_sha256": [hashlib.sha256(path.read_bytes()).hexdigest() for path in files],
            "decoding": {field.name: str(getattr(decoding, field.name)) for field in fields(decoding)}}


def translate(model: Path, info: CheckpointInfo, source: TaskConfig, decoding: DecodingConfig,
              targets: Sequence[str], device: torch.device) -> List[str]:
    """`targets` translated by the model's task `source` (target language into source language)."""
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        trained = load_trained(model, device)
        lines = [line.replace("\n", " ") for line in  # one line each in the files they are kept in
                 make_translator(trained, source, decoding, device).translate_lines(list(targets))]
    log.info("back-translated %d %s sentences into %s with %s (%s) in %.0f s", len(lines), source.src, source.tgt,
             info.folder, decoding.strategy.value, time.perf_counter() - started)
    return lines


def json_of(path: Path) -> Any:
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def lines_of(path: Path) -> List[str]:
    """The lines of a back-translation file (none if it is not there)."""
    return read_lines(path) if path.is_file() else []
