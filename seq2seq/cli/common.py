"""What every entry point shares: config checks before any work, one-line user errors."""

from __future__ import annotations

import sys
from typing import Callable, NoReturn, Type, TypeVar

from omegaconf import DictConfig

from seq2seq.config import SCHEMAS, compose, describe_omegaconf_error, register_configs, to_typed
from seq2seq.errors import UserError

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


def precheck(config_name: str) -> None:
    """Compose the config as Hydra will and validate it, so that a bad key or value fails before any work."""
    register_configs()  # the schemas the YAML files name (`/schema/...`), for this check and for Hydra's main
    args = sys.argv[1:]
    if any(arg.startswith("-") for arg in args):  # --help, --cfg, -m sweeps: left to Hydra
        return
    try:
        to_typed(compose(config_name, args), SCHEMAS[config_name])
    except UserError as err:
        fail(str(err))
    except Exception as err:  # Hydra's and OmegaConf's composition errors
        fail(describe_composition_error(err))


def typed(cfg: DictConfig, schema: Type[T]) -> T:
    return guarded(to_typed, cfg, schema)


def guarded(fn: Callable[..., T], *args) -> T:
    """Run `fn`; a user error ends the program with its one-line message instead of a traceback."""
    try:
        return fn(*args)
    except UserError as err:
        fail(str(err))
