"""What the experiment tools (tools/trainings.py) decide before reusing a finished run or a committed record."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from trainings import config_changes, trained_config  # noqa: E402


def test_a_record_older_than_a_config_key_counts_it_at_its_default():
    wanted = trained_config("toy_reverse", 1)
    older = {key: value for key, value in wanted.items() if key != "trainer.interval_unit"}
    assert config_changes(older, wanted) == []  # made before the key existed, with the behaviour of its default
    other = trained_config("toy_reverse", 1, ["trainer.interval_unit=main_update"])
    assert config_changes(older, other) == ["trainer.interval_unit: step -> main_update"]
    assert config_changes({**older, "trainer.lr": 0.5}, wanted) == [f"trainer.lr: 0.5 -> {wanted['trainer.lr']}"]
    assert config_changes(wanted, {**wanted, "trainer.new_key": 1}) == ["trainer.new_key: (none) -> 1"]
