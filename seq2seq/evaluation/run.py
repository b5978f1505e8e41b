"""`seq2seq-evaluate`: score hypothesis files against a reference, or translate a test set with a run first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

from seq2seq.config import EvaluateConfig
from seq2seq.data.corpus import read_split
from seq2seq.data.files import read_lines, write_lines
from seq2seq.evaluation.scores import corpus_scores, format_scores
from seq2seq.inference import load_trained, make_translator
from seq2seq.training.setup import pick_device


def translate_test_set(cfg: EvaluateConfig) -> Dict[str, Any]:
    """Translate the run's `cfg.split` test split; returns {name: (hyps, refs)} with the hypothesis file written."""
    device = pick_device(cfg.device, cfg.threads)
    run = Path(cfg.checkpoint)
    trained = load_trained(run, device)
    task = trained.task(cfg.task)
    run_dir = trained.folder.parent.parent
    prefix = cfg.split if cfg.split != "test" else trained.data.test
    src, ref = read_split(trained.data, task, prefix, run_dir)
    hyps = make_translator(trained, task, cfg.decoding, device).translate_lines(src)
    write_lines(run_dir / f"{prefix}.{task.name}.{cfg.decoding.strategy.value}.{task.tgt}", hyps)
    return {task.name: (hyps, ref)}


def run_evaluate(cfg: EvaluateConfig) -> Dict[str, Any]:
    if cfg.checkpoint is not None:
        systems = translate_test_set(cfg)
    else:
        refs = read_lines(Path(cfg.ref))
        systems = {Path(h).name: (read_lines(Path(h)), refs) for h in cfg.hyps}
    results = {}
    for name, (hyps, refs) in systems.items():
        results[name] = corpus_scores(hyps, refs, name)
        print(format_scores(results[name], name))
    if cfg.json:
        path = Path(cfg.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results
