"""Checkpoints that are written atomically and load without unpickling: safetensors weights plus JSON state.

Layout of RUN/checkpoints/:
  step_000500/ model.safetensors, training.safetensors (optimiser moments, RNG), state.json
  best/        model.safetensors, state.json (the best validation score so far)
  latest       the name of the newest complete step folder (replaced atomically)
A folder is written under a temporary name and renamed into place, so a crash never leaves a half-written one.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any, Dict, List, Tuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seq2seq import CHECKPOINT_FORMAT, __version__
from seq2seq.atomic import write_atomic, write_folder
from seq2seq.errors import CheckpointError
from seq2seq.layout import RunFolder

log = logging.getLogger(__name__)

MODEL_FILE, TRAINING_FILE, STATE_FILE = "model.safetensors", "training.safetensors", "state.json"


def _write_json(path: Path, data: Dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")


def read_state(folder: Path) -> Dict[str, Any]:
    path = folder / STATE_FILE
    if not path.is_file():
        raise CheckpointError(f"{folder}: no {STATE_FILE}; not a seq2seq checkpoint")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: corrupt checkpoint state ({err})") from None
    if not isinstance(state, dict) or "format" not in state:
        raise CheckpointError(f"{path}: not a seq2seq checkpoint (no format field)")
    if state["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {state['format']} (seq2seq {state.get('version')}) "
                              f"cannot be read by seq2seq {__version__} (format {CHECKPOINT_FORMAT})")
    return state


def _aliases(state: Dict[str, torch.Tensor]) -> List[List[str]]:
    """A model's state names grouped by the tensor they name: a tied output layer or a shared embedding table is
    one group of several names (sorted; the first is the one stored)."""
    groups: Dict[Tuple, List[str]] = {}
    for name, tensor in state.items():
        key = (tensor.device, tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape),
               tuple(tensor.stride()))
        groups.setdefault(key, []).append(name)
    return [sorted(names) for names in groups.values()]


def save_weights(model: torch.nn.Module, path: Path) -> None:
    """The model's weights as safetensors, each distinct tensor once, as CPU copies: cuDNN packs an RNN's GPU weights
    into one buffer, whose views safetensors refuses to write. The file is what safetensors' own save_model writes
    (a dropped alias is named in the metadata), so checkpoints read the same either way."""
    state = model.state_dict()
    tensors, metadata = {}, {"format": "pt"}
    for first, *others in _aliases(state):
        tensors[first] = state[first].detach().to("cpu", copy=True).contiguous()
        metadata.update(dict.fromkeys(others, first))
    save_file(tensors, str(path), metadata=metadata)


def read_tensors(path: Path, what: str = "weights") -> Dict[str, torch.Tensor]:
    """The tensors of a safetensors file (nothing is unpickled); a missing, truncated, corrupt or foreign file is
    one CheckpointError naming it. Every reader of checkpoint tensors goes through here."""
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path}: corrupt or truncated {what} file, or missing ({err})") from None


def load_weights(model: torch.nn.Module, folder: Path) -> None:
    path = folder / MODEL_FILE
    if not path.is_file():
        raise CheckpointError(f"{folder}: no {MODEL_FILE}; the checkpoint is incomplete")
    tensors = read_tensors(path)
    state, missing = {}, []
    for names in _aliases(model.state_dict()):
        stored = next((name for name in names if name in tensors), None)
        if stored is None:
            missing.append(names[0])
        state.update(dict.fromkeys(names, tensors.get(stored)))
    unexpected = set(tensors) - set(state)
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not match the model's architecture "
                              f"(missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]})")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        detail = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err))
        raise CheckpointError(f"{path}: weights do not fit the model built from the config: {detail}") from None


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in sd["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: Dict[str, torch.Tensor],
                       meta: Dict[str, Any]) -> None:
    state: Dict[int, Dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for name, value in meta["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


class Checkpoints:
    def __init__(self, folder: Path, keep: int = 3):
        self.folder, self.keep = folder, keep

    @property
    def best(self) -> Path:
        return self.folder / "best"

    def steps(self) -> List[Path]:
        """The complete step folders, oldest first (a folder still being written has no state file yet)."""
        return sorted(p for p in self.folder.glob("step_*") if (p / STATE_FILE).is_file())

    def in_use(self) -> bool:
        """Whether the folder holds a training's checkpoints (a `latest` pointer or step folders)."""
        return (self.folder / "latest").exists() or any(self.folder.glob("step_*"))

    def latest(self) -> Path | None:
        pointer = self.folder / "latest"
        if not pointer.is_file():
            return None
        path = self.folder / pointer.read_text(encoding="utf-8").strip()
        if not (path / STATE_FILE).is_file():
            raise CheckpointError(f"{pointer} names {path.name}, which is missing or incomplete; "
                                  "point it at an existing step folder or start a new run folder")
        return path

    def save(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: Dict[str, Any]) -> Path:
        """Write step_N atomically and point `latest` at it; prune old step folders."""
        name = f"step_{state['step']:07d}"
        final = self.folder / name
        training = {"rng.torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            training["rng.cuda"] = torch.cuda.get_rng_state()
        moments, optimizer_meta = _optimizer_tensors(optimizer)
        training.update(moments)
        state = {**state, "optimizer": optimizer_meta, "format": CHECKPOINT_FORMAT, "version": __version__}

        def fill(tmp: Path) -> None:
            save_weights(model, tmp / MODEL_FILE)
            save_file(training, str(tmp / TRAINING_FILE))
            _write_json(tmp / STATE_FILE, state)

        previous = self.folder / "latest"
        kept = previous.read_text(encoding="utf-8").strip() if previous.is_file() else "none"
        write_folder(final, fill, error=CheckpointError, kept=f"the previous checkpoint ({kept}) is intact")
        try:
            self._point_latest(name)
        except OSError as err:
            raise CheckpointError(f"{previous}: could not point it at {name} ({err.strerror or err}); the previous "
                                  f"checkpoint ({kept}) is intact") from None
        self._prune()
        return final

    def _point_latest(self, name: str) -> None:
        write_atomic(self.folder / "latest", name + "\n")

    def _prune(self) -> None:
        steps = sorted(p for p in self.folder.glob("step_*") if p.is_dir())
        for old in steps[:-self.keep]:
            shutil.rmtree(old, ignore_errors=True)

    def save_snapshot(self, model: torch.nn.Module, state: Dict[str, Any], folder: Path) -> None:
        """The weights and state (no optimiser) in `folder`, written atomically: a checkpoint to translate with."""
        def fill(tmp: Path) -> None:
            save_weights(model, tmp / MODEL_FILE)
            _write_json(tmp / STATE_FILE, {**state, "format": CHECKPOINT_FORMAT, "version": __version__})

        write_folder(folder, fill, error=CheckpointError, kept="no snapshot was kept")

    def save_best(self, step_folder: Path) -> None:
        """Copy a step folder's weights and state to best/ (atomically)."""
        def fill(tmp: Path) -> None:
            shutil.copy2(step_folder / MODEL_FILE, tmp / MODEL_FILE)
            shutil.copy2(step_folder / STATE_FILE, tmp / STATE_FILE)

        write_folder(self.best, fill, error=CheckpointError, kept="the previous best checkpoint is intact")

    def restore(self, folder: Path, model: torch.nn.Module,
                optimizer: torch.optim.Optimizer) -> Dict[str, Any]:
        """Load weights, optimiser moments and RNG state; returns the JSON state."""
        state = read_state(folder)
        load_weights(model, folder)
        training = read_tensors(folder / TRAINING_FILE, "training state")
        _restore_optimizer(optimizer, training, state["optimizer"])
        torch.set_rng_state(training["rng.torch"])
        if "rng.cuda" in training and torch.cuda.is_available():
            torch.cuda.set_rng_state(training["rng.cuda"])
        return state


def find_checkpoint(path: Path) -> Path:
    """A run folder (its best checkpoint, else the latest), a checkpoint folder itself, or a run's
    `checkpoints/latest` pointer (the step folder it names)."""
    if not path.exists():
        raise CheckpointError(f"{path}: no such run or checkpoint folder")
    if (path / STATE_FILE).is_file():
        return path
    if path.is_file() and path.name == "latest":
        return Checkpoints(path.parent).latest()
    checkpoints = Checkpoints(RunFolder(path).checkpoints)
    if (checkpoints.best / STATE_FILE).is_file():
        return checkpoints.best
    latest = checkpoints.latest() if checkpoints.folder.is_dir() else None
    if latest is None:
        raise CheckpointError(f"{path}: no checkpoint found (expected {path}/checkpoints/best or a 'latest' "
                              "pointer); train first or give the run folder of a finished run")
    return latest
