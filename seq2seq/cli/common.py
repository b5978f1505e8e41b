"""What every entry point shares: config checks before any work, one-line user errors."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Tuple, Type, TypeVar

import hydra
from omegaconf import DictConfig, OmegaConf, open_dict

from seq2seq.config import CONF_DIR, SCHEMAS, compose, describe_omegaconf_error, register_configs, to_typed
from seq2seq.errors import UserError
from seq2seq.runs.lock import RunLock

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def describe_composition_error(err: BaseException) -> str:
    """One line from Hydra's (multi-line) composition errors, naming the key or option."""
    cause = err
    while cause.__cause__ is not None:
        cause = cause.__cause__
    if getattr(cause, "full_key", None) is not None or cause is not err:
        text = describe_omegaconf_error(cause)
        if "not in struct" in text:
            return f"{cause.full_key}: no such config key (see the keys with --cfg job)"
        return text
    text = str(err).split("Config search path")[0]
    head, _, options = text.partition("Available options in")
    head = " ".join(head.split()).removeprefix("In 'train': ").removeprefix("In 'translate': ")
    if options:
        group, _, names = options.partition(":")
        return f"{head}; available options in {group.strip()}: {', '.join(names.split())}"
    return head


HELD_LOCKS: list = []  # the run-folder lock of this process, held until it ends
# seq2seq-translate / -evaluate / -score / -serve pick a multi-task run's task with pair=; `task` is the training
# config group, so Hydra's own message for task=NAME (try +task=NAME) would lead nowhere
TASK_KEY_HINT = "task: this command picks the task of a multi-task run with pair=NAME (its name or SRC-TGT)"


def precheck(config_name: str) -> Tuple[Any, DictConfig] | None:
    """Compose the config as Hydra will and validate it, so that a bad key or value fails before any work;
    returns the typed config and the composed `hydra` node (None for --help, --cfg and -m sweeps, left to Hydra)."""
    register_configs()  # the schemas the YAML files name (`/schema/...`), for this check and for Hydra's main
    args = sys.argv[1:]
    if any(arg.startswith("-") for arg in args):
        return None
    if config_name != "train" and any(arg.lstrip("+~").split("=")[0] == "task" for arg in args):
        fail(TASK_KEY_HINT)
    try:
        cfg = compose(config_name, args, return_hydra_config=True)
        hydra_node = cfg.hydra
        with open_dict(cfg):
            del cfg["hydra"]
        return to_typed(cfg, SCHEMAS[config_name]), hydra_node
    except UserError as err:
        fail(str(err))
    except Exception as err:  # Hydra's and OmegaConf's composition errors
        fail(describe_composition_error(err))


def claim_run_folder(checked: Tuple[Any, DictConfig] | None) -> Tuple[Path, bool] | None:
    """Before Hydra writes anything into the run folder: check that it can be written and lock it for this
    training (a second training on the folder is refused while the first lives). Returns (folder, whether it
    existed before), or None for a sweep, a time-stamped folder or a data-parallel rank other than the first."""
    if checked is None or int(os.environ.get("RANK", "0")) > 0:
        return None
    hydra = checked[1]
    if "${now:" in str(OmegaConf.to_container(hydra.run, resolve=False)["dir"]):
        return None  # a new time-stamped folder per run: nothing to share, and Hydra's second may differ from ours
    folder = Path(to_absolute(str(hydra.run.dir)))
    existed = folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as err:
        fail(f"hydra.run.dir: cannot write the run folder {folder} ({err.strerror or err}); choose a writable "
             "folder with hydra.run.dir=...")
    lock = RunLock(folder)
    guarded(lock.acquire)
    HELD_LOCKS.append(lock)  # referenced until the process ends: a collected lock object would release it
    return folder, existed


def command(config_name: str, schema: Type[T], run: Callable[[T], Any]) -> Callable[[], None]:
    """The entry point of a command that needs no run folder (translate, evaluate, score, average, serve): the
    config composed and checked once by `precheck` goes straight to `run`, logging warnings to stderr as the
    command's Hydra config would; flags such as --help, --cfg or -m go to Hydra's own main."""

    @hydra.main(version_base=None, config_path=CONF_DIR, config_name=config_name)
    def hydra_main(cfg: DictConfig) -> None:
        run(typed(cfg, schema))

    def main() -> None:
        checked = precheck(config_name)
        if checked is None:
            hydra_main()
            return
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                            format="[%(asctime)s][%(levelname)s] %(message)s")
        run(checked[0])

    return main


def typed(cfg: DictConfig, schema: Type[T]) -> T:
    return guarded(to_typed, cfg, schema)


def guarded(fn: Callable[..., T], *args) -> T:
    """Run `fn`; a user error, or a file that cannot be read or written, ends the program with one line instead
    of a traceback."""
    try:
        return fn(*args)
    except (UserError, OSError) as err:
        fail(one_line(err))


def one_line(err: UserError | OSError) -> str:
    if isinstance(err, UserError):
        return str(err)
    # an output path under /proc, a full disk (/dev/full), a folder that is a file, ...
    where = f"{err.filename}: " if err.filename else ""
    return f"{where}cannot read or write ({err.strerror or err}); check the path and free space"


def to_absolute(path: str) -> str:
    return str(Path(path).expanduser().absolute())
