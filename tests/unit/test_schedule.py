"""The learning-rate schedule: warmup, linear decay to the budget's end, plateau halving, and their config checks."""

from __future__ import annotations

import pytest
import torch

from seq2seq.config import Schedule, TrainerConfig
from seq2seq.errors import ConfigError
from seq2seq.training.schedule import LearningRate


def schedule(**options) -> LearningRate:
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=options.get("lr", 1e-3))
    return LearningRate(TrainerConfig(**options), optimizer)


def test_warmup_rises_linearly_to_the_peak_then_constant_keeps_it():
    lr = schedule(lr=2e-3, warmup_steps=4)
    rates = []
    for step in range(1, 8):
        lr.before_step(step, 0.0)
        rates.append(lr.optimizer.param_groups[0]["lr"])
    assert rates == pytest.approx([5e-4, 1e-3, 1.5e-3, 2e-3, 2e-3, 2e-3, 2e-3])


def test_linear_decays_from_the_peak_to_min_lr_at_the_end_of_the_budget():
    lr = schedule(lr=1e-3, min_lr=1e-5, schedule=Schedule.linear, warmup_steps=10, max_steps=100)
    assert lr.rate(5, 0.05) == pytest.approx(0.5 * (1e-5 + (1e-3 - 1e-5) * 0.95))
    assert lr.rate(10, 0.1) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.9)
    assert lr.rate(50, 0.5) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5)
    assert lr.rate(100, 1.0) == pytest.approx(1e-5)
    assert lr.rate(100, 1.3) == pytest.approx(1e-5)  # a time budget may overshoot a little


def test_a_plateau_during_warmup_lowers_the_peak_not_the_warmup_rate():
    lr = schedule(lr=1e-3, schedule=Schedule.plateau, plateau_patience=0, plateau_factor=0.5, warmup_steps=100)
    lr.before_step(10, 0.0)  # rate 1e-4 while warming up
    lr.after_validation(5.0)
    lr.after_validation(4.0)  # no gain with patience 0: one plateau
    assert lr.peak == pytest.approx(5e-4)
    lr.before_step(100, 0.0)
    assert lr.optimizer.param_groups[0]["lr"] == pytest.approx(5e-4)
    restored = schedule(lr=1e-3, schedule=Schedule.plateau, plateau_patience=0, plateau_factor=0.5, warmup_steps=100)
    restored.load_state_dict(lr.state_dict())
    assert restored.peak == pytest.approx(5e-4) and restored.plateau.best == lr.plateau.best


@pytest.mark.parametrize("options, key", [
    ({"schedule": Schedule.linear, "max_epochs": 0}, "trainer.schedule"),
    ({"warmup_steps": -1}, "trainer.warmup_steps"),
    ({"lr": 1e-4, "min_lr": 1e-3}, "trainer.min_lr"),
])
def test_bad_schedule_settings_are_refused_naming_the_key(options, key):
    with pytest.raises(ConfigError, match=key):
        TrainerConfig(**options)
