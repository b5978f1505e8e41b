"""The training loop: tasks sampled by mixing ratio, Adam with clipping and a schedule, validation, checkpoints.

A run's whole state (weights, optimiser moments, schedule, data positions, RNG, counters) lives in its checkpoint,
so starting the same command on the same run folder continues exactly where the last checkpoint left off.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from pathlib import Path
from typing import Any, Dict, Tuple

import torch
from tqdm import tqdm

from seq2seq.config import DecodingConfig, IntervalUnit, SelectOn, Strategy, TrainConfig, config_dict
from seq2seq.data.batching import corpus_batch, seeded, token_batches
from seq2seq.data.corpus import TaskData
from seq2seq.data.files import clean_line
from seq2seq.data.prepared import PairCorpus
from seq2seq.decoding import Translator
from seq2seq.errors import CheckpointError, UserError
from seq2seq.evaluation.scores import corpus_scores
from seq2seq.layout import RunFolder
from seq2seq.runs.checkpoint import Checkpoints, read_state
from seq2seq.runs.device import describe, machine
from seq2seq.text import Vocab
from seq2seq.training import distributed
from seq2seq.training.metrics import MetricsLog
from seq2seq.training.parts import NonFiniteLoss, TrainingParts, make_parts

log = logging.getLogger(__name__)


class TrainingStopped(UserError):
    """Training ended early on purpose (signal) or by necessity (non-finite loss); the message says which."""


class Trainer:
    def __init__(self, cfg: TrainConfig, run_dir: Path, parts: TrainingParts | None = None):
        """`parts` default to make_parts(cfg, run_dir): everything a run is made of (seq2seq.training.parts)."""
        self.cfg, self.run_dir = cfg, run_dir
        self.parts = parts = parts or make_parts(cfg, run_dir)
        self.rank, self.world, self.device = parts.placement.rank, parts.placement.world, parts.placement.device
        self.checkpoints = Checkpoints(RunFolder(run_dir).checkpoints, cfg.trainer.keep_checkpoints)
        self.data, self.vocabs, self.model = parts.data, parts.vocabs, parts.model
        self.optimizer, self.schedule = parts.optimizer, parts.schedule
        self.iterators, self.sampler = parts.iterators, parts.sampler
        self.main = cfg.main_task
        if len(self.data) > 1:
            log.info("task sampling (%s): %s", "fine-tuning: the main task alone" if cfg.trainer.finetune_from
                     else cfg.trainer.task_sampling.value,
                     ", ".join(f"{n} {p:.3f}" for n, p in zip(self.sampler.names, self.sampler.probabilities)))
        self.task_tokens = {name: 0 for name in self.data}  # target tokens trained per task, over all sessions
        self.task_updates = {name: 0 for name in self.data}  # optimiser steps on each task's batches
        self.step = 0
        self.elapsed = 0.0  # training seconds over all sessions of this run
        self.wall = 0.0  # wall-clock seconds of the training loop (validation and checkpoints included)
        self.best_score: float | None = None
        self.best_step = 0
        self.bad_validations = 0
        self.validated_step = -1
        self.interrupted: str | None = None
        self.machines = [machine(self.device)]  # what trained the run, in order (a resume elsewhere adds its own)
        self.metrics = MetricsLog(run_dir, cfg.trainer.tensorboard) if self.rank == 0 else None
        counts = self.model.parameter_counts()
        log.info("model: %s parameters (encoders %s, decoders %s)", f"{counts['total']:,}", counts["encoders"],
                 counts["decoders"])
        log.info("device: %s, %s%s", describe(self.device), cfg.trainer.precision.value,
                 f" x {self.world} processes" if self.world > 1 else "")

    # -- state -------------------------------------------------------------------------------------------------

    def description(self) -> Dict[str, Any]:
        """What must match between a run folder's checkpoint and the config that resumes it."""
        return {"model": config_dict(self.cfg.model), "tasks": [config_dict(t) for t in self.cfg.tasks],
                "data": config_dict(self.cfg.data),
                "vocabs": {lang: v.path.name for lang, v in self.vocabs.items()}}

    def state(self) -> Dict[str, Any]:
        return {**self.description(), "step": self.step, "elapsed": self.elapsed, "wall": self.wall,
                "best_score": self.best_score, "best_step": self.best_step, "bad_validations": self.bad_validations,
                "validated_step": self.validated_step,
                "iterators": {name: it.state_dict() for name, it in self.iterators.items()},
                "task_tokens": self.task_tokens, "task_updates": self.task_updates,
                "scheduler": self.schedule.state_dict(),
                "seed": self.cfg.trainer.seed, "machines": self.machines}

    def resume(self) -> bool:
        latest = self.checkpoints.latest()
        if latest is None:
            return False
        mine, theirs = self.description(), read_state(latest)
        for key in ("model", "tasks", "vocabs"):  # data may move (another root), the model may not
            if theirs.get(key) != mine[key]:
                raise CheckpointError(f"{latest}: the run folder was trained with a different '{key}' config; "
                                      f"use the original settings or a new run folder (hydra.run.dir=...)")
        state = self.checkpoints.restore(latest, self.model, self.optimizer)
        self.step, self.elapsed, self.wall = state["step"], state["elapsed"], state.get("wall", state["elapsed"])
        self.best_score, self.best_step = state["best_score"], state["best_step"]
        self.bad_validations, self.validated_step = state["bad_validations"], state["validated_step"]
        for name, it_state in state["iterators"].items():
            self.iterators[name].load_state_dict(it_state)
        self.task_tokens.update(state.get("task_tokens", {}))
        self.task_updates.update(state.get("task_updates", {}))
        self.schedule.load_state_dict(state["scheduler"])
        here, self.machines = self.machines[-1], list(state.get("machines") or ["an unrecorded machine"])
        if self.machines[-1] != here:
            log.info("%s was trained on %s and resumes on %s: the run may not match one trained on a single "
                     "machine bit for bit", latest, self.machines[-1], here)
            self.machines.append(here)
        log.info("resumed from %s (step %d)", latest, self.step)
        return True

    def save(self) -> Path | None:
        if self.rank > 0:
            return None
        return self.checkpoints.save(self.model, self.optimizer, self.state())

    # -- loop --------------------------------------------------------------------------------------------------

    def should_stop(self) -> str | None:
        t = self.cfg.trainer
        if t.max_steps and self.step >= t.max_steps:
            return f"reached trainer.max_steps={t.max_steps}"
        if t.max_epochs and self.iterators[self.main].epochs_done() >= t.max_epochs:
            return f"reached trainer.max_epochs={t.max_epochs} (epochs of the main task {self.main})"
        if t.max_minutes and self.elapsed >= t.max_minutes * 60:
            return f"reached trainer.max_minutes={t.max_minutes}"
        if t.max_wall_minutes and self.wall >= t.max_wall_minutes * 60:
            return f"reached trainer.max_wall_minutes={t.max_wall_minutes}"
        if t.early_stopping and self.bad_validations >= t.early_stopping:
            return f"no validation gain for trainer.early_stopping={t.early_stopping} validations"
        return None

    def train(self) -> None:
        t = self.cfg.trainer
        handlers = self._install_signal_handlers()
        window = {"tokens": 0, "time": 0.0, "loss": {}, "count": {}}
        total, unit = self._bar_budget()
        bar = tqdm(total=total, initial=round(self._bar_position(unit), 2), unit=unit, dynamic_ncols=True,
                   disable=None if t.progress and self.rank == 0 else True,
                   bar_format="{l_bar}{bar}| {n:.5g}/{total_fmt} {unit} [{elapsed}<{remaining}{postfix}]"
                   if total else None)
        clock = time.perf_counter()
        try:
            while True:
                now = time.perf_counter()
                self.wall += now - clock
                clock = now
                if self.world > 1:
                    self.elapsed, self.wall = distributed.from_rank0(self.device, self.elapsed, self.wall)
                self.keep_snapshots()
                reason = self.should_stop()
                if reason:
                    log.info("stopping: %s", reason)
                    break
                started = time.perf_counter()
                task = self.sampler.task_at(self.step + 1)
                loss, tokens = self.train_step(task)
                self.step += 1
                spent = time.perf_counter() - started
                self.elapsed += spent
                window["tokens"] += tokens
                window["time"] += spent
                window["loss"][task] = window["loss"].get(task, 0.0) + loss
                window["count"][task] = window["count"].get(task, 0) + tokens
                self.task_tokens[task] += tokens
                self.task_updates[task] += 1
                bar.update(round(self._bar_position(unit) - bar.n, 5))
                if self.step % t.log_every == 0:
                    self._log_window(window, bar)
                    window = {"tokens": 0, "time": 0.0, "loss": {}, "count": {}}
                count = self.interval_count(task)
                if count and count % t.validate_every == 0:
                    self.validate_and_select()
                elif count and count % t.checkpoint_every == 0:
                    self.save()
                if self.interrupted:
                    raise TrainingStopped(f"{self.interrupted} at step {self.step}; checkpoint {self.save().name} "
                                          "saved; run the same command again to resume")
            if self.validated_step != self.step:
                self.validate_and_select()
            if self.world > 1:
                sums = distributed.checksums(self.model)
                log.info("replica weight checksums %s: %s", sums, "identical" if len(set(sums)) == 1 else "DIFFER")
        finally:
            bar.close()
            if self.metrics is not None:
                self.metrics.close()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def interval_count(self, task: str) -> int:
        """What trainer.validate_every and checkpoint_every count, after a step that trained `task`: steps, or the
        main task's updates (0 when the step trained another task, so that it never falls on an interval)."""
        if self.cfg.trainer.interval_unit == IntervalUnit.step:
            return self.step
        return self.task_updates[self.main] if task == self.main else 0

    def train_step(self, task: str) -> Tuple[float, int]:
        """One optimiser step on the task's next batch (TrainingParts.train_step): its summed loss and tokens."""
        try:
            return self.parts.train_step(self.cfg.trainer, task, self.step + 1, self.progress())
        except NonFiniteLoss:
            latest = self.checkpoints.latest()
            raise TrainingStopped(f"non-finite loss at step {self.step + 1} (task {task}); the last good "
                                  f"checkpoint is {latest.name if latest else 'none'}; lower trainer.lr or "
                                  "set trainer.clip_norm") from None

    def keep_snapshots(self) -> None:
        """Copy the current weights to RUN/snapshots/min_M for every snapshot minute the wall clock has passed."""
        for minute in self.cfg.trainer.snapshot_minutes:
            folder = RunFolder(self.run_dir).snapshot(minute)
            if self.wall >= minute * 60 and not folder.exists() and self.rank == 0:
                self.checkpoints.save_snapshot(self.model, self.state(), folder)
                log.info("snapshot at %.2f wall-clock minutes (step %d): %s", self.wall / 60, self.step, folder)

    def _bar_budget(self) -> Tuple[float | None, str]:
        """The progress bar's total and unit: the budget that is set (steps, then minutes, then main-task epochs)."""
        t = self.cfg.trainer
        if t.max_steps:
            return t.max_steps, "step"
        if t.max_minutes:
            return t.max_minutes, "min"
        if t.max_wall_minutes:
            return t.max_wall_minutes, "wall min"
        if t.max_epochs:
            return t.max_epochs, "epoch"
        return None, "step"

    def progress(self) -> float:
        """How far through its budget the run is (0..1; 0 without a budget)."""
        total, unit = self._bar_budget()
        return min(1.0, self._bar_position(unit) / total) if total else 0.0

    def _bar_position(self, unit: str) -> float:
        return {"step": self.step, "min": self.elapsed / 60, "wall min": self.wall / 60,
                "epoch": self.iterators[self.main].epochs_done()}[unit]

    def budget_text(self) -> str:
        """Where the run stands against each budget that is set, e.g. `epoch 3.20/60 | 12.4/60 min`."""
        t = self.cfg.trainer
        parts = [f"epoch {self.iterators[self.main].epochs_done():.2f}" + (f"/{t.max_epochs}" if t.max_epochs else "")]
        if t.max_steps:
            parts.append(f"step {self.step}/{t.max_steps}")
        parts.append(f"{self.elapsed / 60:.1f}" + (f"/{t.max_minutes:g}" if t.max_minutes else "") + " min")
        if t.max_wall_minutes:
            parts.append(f"{self.wall / 60:.1f}/{t.max_wall_minutes:g} wall min")
        return " | ".join(parts)

    def _log_window(self, window: Dict[str, Any], bar: tqdm) -> None:
        rate = window["tokens"] / max(window["time"], 1e-9)
        lr = self.optimizer.param_groups[0]["lr"]
        per_task = {name: window["loss"][name] / window["count"][name] for name in window["loss"]}
        epochs = {name: round(it.epochs_done(), 3) for name, it in self.iterators.items()}
        shown = " ".join(f"{name}:loss={value:.3f}" for name, value in per_task.items())
        if len(self.iterators) > 1:
            shown += " | " + " ".join(f"{name}:epoch={epochs[name]:.2f},tokens={self.task_tokens[name]:,}"
                                      for name in self.iterators)
        bar.set_postfix_str(f"loss={sum(window['loss'].values()) / max(window['tokens'], 1):.3f} "
                            f"tok/s={rate:.0f} lr={lr:.2e} {self.budget_text()}")
        log.info("step %d | %s | %s tokens/s | lr %.2e | %s", self.step, shown, f"{rate:,.0f}", lr,
                 self.budget_text())
        self._record({"kind": "train", "loss": per_task, "tokens": window["count"], "tokens_per_s": rate,
                      "lr": lr, "epochs": epochs, "task_tokens": dict(self.task_tokens)})

    def _record(self, entry: Dict[str, Any]) -> None:
        if self.metrics is not None:
            self.metrics.record(self.step, self.elapsed, entry)

    def _install_signal_handlers(self):
        previous = {}

        def handler(signum, _frame):
            self.interrupted = signal.Signals(signum).name

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread
                pass
        return previous

    # -- validation --------------------------------------------------------------------------------------------

    def validate_and_select(self) -> None:
        """Validate every task, update the best score and schedule, then checkpoint (and copy to best/)."""
        started = time.perf_counter()
        results = {name: self.validate_task(name, data) for name, data in self.data.items() if data.data.valid}
        scored = self.cfg.scored_tasks
        score = sum(results[name]["bleu"] for name in scored) / len(scored)
        selection = self.cfg.selection
        improved = self.best_score is None or score > self.best_score
        if improved:
            self.best_score, self.best_step, self.bad_validations = score, self.step, 0
        else:
            self.bad_validations += 1
        self.schedule.after_validation(score)
        for name, r in results.items():
            log.info("validation step %d | %s | loss %.3f | ppl %.2f | BLEU %.2f", self.step, name, r["loss"],
                     r["ppl"], r["bleu"])
            self._record({"kind": "valid", "task": name, **r})
        log.info("validation score %.2f (%s)%s in %.1f s", score,
                 f"main task {self.main}" if selection.on == SelectOn.main else selection,
                 " new best" if improved else f", best {self.best_score:.2f} at step {self.best_step}",
                 time.perf_counter() - started)
        self.validated_step = self.step
        saved = self.save()
        if improved and saved is not None:
            self.checkpoints.save_best(saved)

    @torch.no_grad()
    def validate_task(self, name: str, data: TaskData) -> Dict[str, float]:
        task = next(t for t in self.cfg.tasks if t.name == name)
        self.model.eval()
        src_vocab: Vocab = self.vocabs[task.src]
        tgt_vocab: Vocab = self.vocabs[task.tgt]
        pairs = [(clean_line(s), clean_line(r)) for s, r in zip(data.valid_src, data.valid_ref)]
        pairs = [(s, r) for s, r in pairs if s and r]
        corpus = PairCorpus.from_lists(src_vocab.encode([s for s, _ in pairs]), tgt_vocab.encode([r for _, r in pairs]))
        total, tokens = 0.0, 0
        plan = token_batches(corpus.src_lengths, corpus.tgt_lengths, self.cfg.trainer.batch_tokens, seeded(0))
        for positions in plan.batches():
            batch = corpus_batch(corpus, positions).to(self.device)
            total += self.model.loss(name, batch).item()
            tokens += batch.n_tgt_tokens
        loss = total / max(tokens, 1)
        translator = Translator(self.model, name, src_vocab, tgt_vocab,
                                DecodingConfig(strategy=Strategy.greedy), self.device)
        hyps = translator.translate_lines(data.valid_src)
        bleu = corpus_scores(hyps, data.valid_ref)["bleu"]
        return {"loss": loss, "ppl": math.exp(min(loss, 50)), "bleu": float(bleu)}
