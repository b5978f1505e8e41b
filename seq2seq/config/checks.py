"""The range checks every config schema runs in `__post_init__`: one line naming the key and what is allowed."""

from __future__ import annotations

from seq2seq.errors import ConfigError


def check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{key}: {message}")


def check_positive(value: float, key: str) -> None:
    check(value > 0, key, f"must be > 0, got {value}")


def check_range(value: int, low: int, high: int, key: str) -> None:
    check(low <= value <= high, key, f"must be in [{low:,}, {high:,}], got {value}")


def check_probability(value: float, key: str) -> None:
    check(0.0 <= value < 1.0, key, f"must be in [0, 1), got {value}")
