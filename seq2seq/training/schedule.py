"""The learning rate: a linear warmup, then constant, halved on validation plateaus, or decayed linearly to
`min_lr` at the end of the run's budget (what budgeted training does best, Li et al. 2020: every minute of a
fixed budget is spent at the rate that suits its place in the run)."""

from __future__ import annotations

from typing import Any, Dict

import torch

from seq2seq.config import Schedule, TrainerConfig


class LearningRate:
    def __init__(self, cfg: TrainerConfig, optimizer: torch.optim.Optimizer):
        self.cfg, self.optimizer = cfg, optimizer
        self.plateau = None
        if cfg.schedule == Schedule.plateau:
            self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="max", factor=cfg.plateau_factor, patience=cfg.plateau_patience, min_lr=cfg.min_lr)
        self.peak = cfg.lr  # the plateau schedule lowers it

    def rate(self, step: int, progress: float) -> float:
        """The rate of optimiser step `step` (1-based) at `progress` (0..1) through the budget."""
        cfg = self.cfg
        if cfg.schedule == Schedule.linear:
            rate = cfg.min_lr + (self.peak - cfg.min_lr) * max(0.0, 1.0 - progress)
        else:
            rate = self.peak
        if cfg.warmup_steps and step < cfg.warmup_steps:
            rate *= step / cfg.warmup_steps
        return rate

    def before_step(self, step: int, progress: float) -> None:
        if self.cfg.schedule == Schedule.constant and step > self.cfg.warmup_steps:
            return  # the optimiser keeps its rate (as set by the last warmup step)
        for group in self.optimizer.param_groups:
            group["lr"] = self.rate(step, progress)

    def after_validation(self, score: float) -> None:
        if self.plateau is None:
            return
        before = self.optimizer.param_groups[0]["lr"]
        self.plateau.step(score)
        if self.optimizer.param_groups[0]["lr"] < before:  # a plateau: the peak (not a warmup step's rate) drops
            self.peak = max(self.peak * self.cfg.plateau_factor, self.cfg.min_lr)

    def state_dict(self) -> Dict[str, Any] | None:
        return None if self.plateau is None else {**self.plateau.state_dict(), "peak": self.peak}

    def load_state_dict(self, state: Dict[str, Any] | None) -> None:
        if self.plateau is not None and state is not None:
            state = dict(state)
            self.peak = state.pop("peak", self.optimizer.param_groups[0]["lr"])
            self.plateau.load_state_dict(state)
