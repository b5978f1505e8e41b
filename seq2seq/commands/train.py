"""`seq2seq-train`: train (or resume) a run, then translate each task's test set with the best checkpoint."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict

from seq2seq.atomic import write_atomic
from seq2seq.config import TrainConfig
from seq2seq.evaluation.split import translate_split
from seq2seq.layout import RunFolder
from seq2seq.runs.checkpoint import load_weights
from seq2seq.training import distributed
from seq2seq.training.trainer import Trainer

log = logging.getLogger(__name__)


def run_train(cfg: TrainConfig, run_dir: Path) -> Dict[str, Any]:
    """Train into `run_dir` (resuming from its last checkpoint) and return the test results (results.json)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(cfg, run_dir)
    if trainer.resume() and trainer.should_stop():
        log.warning("%s already finished (%s): its best checkpoint is tested again, nothing is trained; to train "
                    "afresh use a new folder (hydra.run.dir=...) or delete this one", run_dir, trainer.should_stop())
    trainer.train()  # returns at once when the run already reached its stopping condition
    results: Dict[str, Any] = {}
    if trainer.rank == 0:  # in a data-parallel run the first rank tests and writes the results
        results = test_best(trainer, cfg, run_dir)
        write_atomic(RunFolder(run_dir).results, json.dumps(results, indent=2))
    distributed.finish()
    return results


def test_best(trainer: Trainer, cfg: TrainConfig, run_dir: Path) -> Dict[str, Any]:
    """Scores of the best checkpoint on every task's test split, decoded with `cfg.decoding`."""
    load_weights(trainer.model, trainer.checkpoints.best)
    tasks: Dict[str, Any] = {}
    for task in cfg.tasks:
        data, train_pairs = trainer.data[task.name].data, len(trainer.data[task.name].train)
        if not data.test:
            tasks[task.name] = {"train_pairs": train_pairs, "test_sentences": 0}
            log.info("test %s: none (its data.test is empty)", task.name)
            continue
        result = translate_split(trainer.model, trainer.vocabs, task, data, data.test, cfg.decoding, trainer.device,
                                 run_dir, RunFolder(run_dir).translations(data.test, task.name, "hyp", task.tgt))
        scores = result.scores
        scores["decoding"] = cfg.decoding.strategy.value
        scores["train_pairs"] = train_pairs
        scores["test_sentences"] = len(result.sources)
        tasks[task.name] = scores
        log.info("test %s (%s, best step %d): BLEU %.2f chrF %.2f TER %.2f | %s", task.name, data.test,
                 trainer.best_step, scores["bleu"], scores["chrf"], scores["ter"], scores["signature"])
    counts = trainer.model.parameter_counts()
    return {"tasks": tasks, "parameters": counts, "best_step": trainer.best_step,
            "best_validation_score": trainer.best_score, "steps": trainer.step,
            "epochs": round(trainer.iterators[trainer.main].epochs_done(), 2), "stopped": trainer.should_stop(),
            "training_seconds": round(trainer.elapsed, 1), "machines": trainer.machines}
