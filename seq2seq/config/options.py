"""Typed configs from Python values (the API's keyword options, the server's JSON body): every value must already
be of its field's type, with no guessing ("no" is not False, "5" is not 5, 2.5 is not a beam size; only Hydra's
command-line parsing turns text into values), and then the schema's own range checks run."""

from __future__ import annotations

import math
import types
import typing
from dataclasses import fields
from enum import Enum
from typing import Any, Dict, Type, TypeVar

from seq2seq.errors import ConfigError

T = TypeVar("T")


def from_options(schema: Type[T], options: Dict[str, Any], prefix: str) -> T:
    """`schema(**options)` with each value checked against its field's type; errors name `prefix.key`."""
    hints = typing.get_type_hints(schema)
    known = [f.name for f in fields(schema)]  # type: ignore[arg-type]
    values = {}
    for key, value in options.items():
        if not isinstance(key, str) or key not in known:
            shown = key if isinstance(key, str) and key.isidentifier() else repr(key)  # one line, whatever it holds
            raise ConfigError(f"{prefix}.{shown}: no such {prefix} option; known: {', '.join(known)}")
        values[key] = _typed(value, hints[key], f"{prefix}.{key}")
    return schema(**values)


def _typed(value: Any, expected: Any, key: str) -> Any:
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(expected):
            return None
        expected = next(arg for arg in typing.get_args(expected) if arg is not type(None))
    if expected is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: must be true or false, got {value!r}")
    if expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: must be an integer, got {value!r}")
    if expected is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise ConfigError(f"{key}: must be a finite number, got {value!r}")
    if expected is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: must be a string, got {value!r}")
    if isinstance(expected, type) and issubclass(expected, Enum):
        if isinstance(value, expected):
            return value
        allowed = [member.value for member in expected]
        if isinstance(value, str) and value in allowed:
            return expected(value)
        raise ConfigError(f"{key}: {value!r} is not one of {allowed}")
    return value
