"""What every entry point shares: config checks before any work, one-line user errors."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, NamedTuple, NoReturn, Type, TypeVar

import hydra
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.utils import run_job
from hydra.errors import ConfigCompositionException, HydraException, MissingConfigException, OverrideParseException
from hydra.types import HydraContext, RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from seq2seq.config import (
    CONF_DIR,
    SCHEMAS,
    DataConfig,
    TaskConfig,
    compose,
    describe_omegaconf_error,
    register_configs,
    to_typed,
)
from seq2seq.errors import UserError
from seq2seq.runs.lock import RunLock

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def describe_composition_error(err: Exception) -> str:
    """One line for Hydra's and OmegaConf's composition errors, from the exceptions' own fields: the config group
    and its options for an unknown option, the full key for a bad key or value, the parser's reason for an
    override that does not parse."""
    if isinstance(err, MissingConfigException) and err.missing_cfg_file:
        group, _, option = err.missing_cfg_file.rpartition("/")
        options = f"; available options in '{group}': {', '.join(err.options)}" if err.options else ""
        return f"{group}={option}: no such option{options}"
    if isinstance(err, ConfigCompositionException) and (addition := task_key_to_add(str(err))):
        return addition
    cause = err
    while cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, OmegaConfBaseException):
        return describe_omegaconf_error(cause)
    lines = [line for line in str(err).splitlines() if line.strip()]
    reason = next((line for line in lines if not line.startswith(("Error parsing override", "See https"))),
                  lines[0] if lines else type(err).__name__)
    if isinstance(err, OverrideParseException):  # the override as typed, then the parser's reason
        return f"{err.override}: cannot parse this override ({reason}); the form is KEY=VALUE"
    return reason


# what a config a user gave can fail with before any work: our own checks, Hydra's composition, OmegaConf's types
CONFIG_ERRORS = (UserError, HydraException, OmegaConfBaseException)


def describe_config_error(err: Exception) -> str:
    """One line for any of CONFIG_ERRORS: our own checks' message as it is, Hydra's and OmegaConf's described."""
    return str(err) if isinstance(err, UserError) else describe_composition_error(err)


def task_key_to_add(message: str) -> str | None:
    """For Hydra's refusal to override a key that a preset's task does not set but a task takes (a TaskConfig field,
    or a DataConfig field in its `data` block): how to give it. A preset's tasks stay plain mappings until they are
    validated, so Hydra takes such a key only as an addition, +KEY=VALUE; None for any other refusal (a key no task
    takes stays 'no such config key')."""
    found = re.match(r"Could not override '(tasks\.\d+\.(data\.)?(\w+))'\.\s+To append to your config use (\+.+)",
                     message.strip())
    if found is None:
        return None
    key, in_data, name, addition = found.groups()
    if name not in {f.name for f in dataclasses.fields(DataConfig if in_data else TaskConfig)}:
        return None
    return f"{key}: the preset's task does not set this key, so give it as an addition: {addition.strip()}"


# seq2seq-translate / -evaluate / -score / -serve pick a multi-task run's task with pair=; `task` is the training
# config group, so Hydra's own message for task=NAME (try +task=NAME) would lead nowhere
TASK_KEY_HINT = "task: this command picks the task of a multi-task run with pair=NAME (its name or SRC-TGT)"


class Composed(NamedTuple):
    config: Any  # the command's typed config (its schema), checked
    full: DictConfig  # as Hydra composed it, with the `hydra` node: what a run folder records


def precheck(config_name: str) -> Composed | None:
    """Compose the command line's config once and validate it, so that a bad key or value fails before any work;
    None for --help, --cfg, -m and other flags, which go to Hydra's own main."""
    register_configs()  # the schemas the YAML files name (`/schema/...`)
    args = sys.argv[1:]
    if any(arg.startswith("-") for arg in args):
        return None
    if config_name != "train" and any(arg.lstrip("+~").split("=")[0] == "task" for arg in args):
        fail(TASK_KEY_HINT)
    try:
        full = compose(config_name, args, return_hydra_config=True)
        cfg = full.copy()
        with open_dict(cfg):
            del cfg["hydra"]
        return Composed(to_typed(cfg, SCHEMAS[config_name]), full)
    except CONFIG_ERRORS as err:
        fail(describe_config_error(err))


class Claim(NamedTuple):
    folder: Path
    existed: bool  # before this process: a failed start removes only a folder it made
    lock: RunLock  # held while this object lives (a collected lock would release it)


def claim_run_folder(hydra_node: DictConfig) -> Claim | None:
    """Before anything is written into the run folder: check that it can be written and lock it for this
    training (a second training on the folder is refused while the first lives). None for a time-stamped folder
    or a data-parallel rank other than the first."""
    if int(os.environ.get("RANK", "0")) > 0:
        return None
    if "${now:" in str(OmegaConf.to_container(hydra_node.run, resolve=False)["dir"]):
        return None  # a new time-stamped folder per run: nothing to share
    folder = Path(to_absolute(str(hydra_node.run.dir)))
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
    return Claim(folder, existed, lock)


def run_in_folder(full: DictConfig, job: Callable[[], T]) -> T:
    """Run `job` as Hydra's main runs a task, on the config composed once: the run folder made, `.hydra/` (config,
    hydra config, overrides) and the log file written, HydraConfig set; an exception of the job is raised here."""
    from hydra._internal.callbacks import Callbacks  # Hydra's runner, as its main uses it (hydra-core 1.3)

    with initialize_config_dir(config_dir=CONF_DIR, version_base=None, job_name=str(full.hydra.job.name)):
        with open_dict(full.hydra):
            full.hydra.mode = RunMode.RUN
        callbacks = Callbacks(full)
        done = run_job(task_function=lambda _: job(), config=full, job_dir_key="hydra.run.dir", job_subdir_key=None,
                       hydra_context=HydraContext(config_loader=GlobalHydra.instance().config_loader(),
                                                  callbacks=callbacks))
        return done.return_value


def command(config_name: str, schema: Type[T], run: Callable[[T], Any]) -> Callable[[], None]:
    """The entry point of a command that needs no run folder (translate, evaluate, score, average, serve): the
    config composed and checked once by `precheck` goes straight to `run`, logging warnings to stderr as the
    command's Hydra config would; flags such as --help, --cfg or -m go to Hydra's own main (which checks each
    job's config as it runs it)."""

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
        run(checked.config)

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
