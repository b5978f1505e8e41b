"""Checkpoint averaging: the element-wise mean of several checkpoints' weights, written as a checkpoint folder
(weights, state, SentencePiece models) that every command loads with checkpoint=DIR."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import List, Sequence

import torch
from safetensors.torch import save_file

from seq2seq.atomic import write_folder
from seq2seq.errors import CheckpointError, ConfigError, UserError
from seq2seq.layout import RunFolder
from seq2seq.runs.checkpoint import MODEL_FILE, STATE_FILE, Checkpoints, read_tensors
from seq2seq.runs.folder import CheckpointInfo, read_checkpoint

log = logging.getLogger(__name__)


def last_checkpoints(run: Path, count: int) -> List[Path]:
    """The `count` newest step folders of a run."""
    steps = Checkpoints(RunFolder(run).checkpoints).steps()
    if not steps:
        raise CheckpointError(f"{run}: no step checkpoints (checkpoints/step_*) to average")
    if len(steps) < count:
        raise ConfigError(f"last: {run} keeps only {len(steps)} step checkpoints; use last={len(steps)} or train "
                          f"with trainer.keep_checkpoints={count} or more")
    return steps[-count:]


def _same_model(first: CheckpointInfo, other: CheckpointInfo) -> None:
    for key in ("model", "tasks"):
        if first.state[key] != other.state[key]:
            raise CheckpointError(f"{other.folder}: its {key} differs from {first.folder}'s; only checkpoints of one "
                                  "model can be averaged")
    for lang in first.vocab_files:
        if lang not in other.vocab_files or \
                first.vocab_path(lang).read_bytes() != other.vocab_path(lang).read_bytes():
            raise CheckpointError(f"{other.folder}: its SentencePiece model for {lang!r} differs from "
                                  f"{first.folder}'s; only checkpoints with one vocabulary can be averaged")


def is_average(folder: Path) -> bool:
    """Whether `folder` is an earlier output of seq2seq-average (its state names what it averaged)."""
    try:
        return "averaged_from" in json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def check_output(output: Path, inputs: Sequence[Path]) -> None:
    """The output folder may replace only an earlier average: never a folder of the user's, an input checkpoint
    or a folder holding one (its run, its checkpoints/), nor anything inside a run's checkpoints/."""
    resolved = output.resolve()
    for source in inputs:
        if resolved == source.resolve() or resolved in source.resolve().parents:
            raise UserError(f"output: {output} holds {source}, a checkpoint being averaged; choose a new folder")
    for folder in (resolved, *resolved.parents):
        if folder == RunFolder(folder.parent).checkpoints and Checkpoints(folder).in_use():
            raise UserError(f"output: {output} is inside the run's checkpoints folder {folder}, which training "
                            "prunes; choose a folder outside it")
    if output.exists() and not is_average(output):
        raise UserError(f"output: {output} exists and is not an earlier seq2seq-average output; choose a new folder "
                        "(nothing was changed)")


def average_checkpoints(folders: Sequence[Path], output: Path) -> Path:
    """Write the mean of the checkpoints' weights to `output` (atomically; it may replace only an earlier
    average) and return it."""
    check_output(output, folders)
    infos = [read_checkpoint(folder) for folder in folders]
    for other in infos[1:]:
        _same_model(infos[0], other)
    total: dict = {}
    for info in infos:
        for name, tensor in read_tensors(info.folder / MODEL_FILE).items():
            total[name] = total.get(name, 0) + tensor.double()
    averaged = {name: (value / len(infos)).to(torch.float32).contiguous() for name, value in total.items()}
    state = {**infos[0].state, "averaged_from": [str(info.folder) for info in infos],
             "step": max(int(info.state.get("step", 0)) for info in infos)}
    state.pop("optimizer", None)

    def fill(tmp: Path) -> None:
        save_file(averaged, str(tmp / MODEL_FILE))
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        for lang in sorted(infos[0].vocab_files):  # the folder is self-contained: it carries its vocabularies
            shutil.copyfile(infos[0].vocab_path(lang), tmp / infos[0].vocab_files[lang])

    # check_output allowed only an earlier average (its state names what it averaged) to be replaced
    write_folder(output, fill, error=CheckpointError)
    log.info("averaged %d checkpoints into %s", len(infos), output)
    return output
