"""`seq2seq-evaluate`: score hypothesis files, a trained run (translating its test set first) or a whole sweep,
printing sacrebleu scores with signatures and, with out=DIR, writing a comparison report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import torch
import yaml
from sacrebleu.metrics import BLEU

from seq2seq.atomic import check_not_input, write_atomic
from seq2seq.config import DataConfig, DecodingConfig, EvaluateConfig, Strategy, TaskConfig, task_data
from seq2seq.data.corpus import read_split
from seq2seq.data.files import clean_line, read_lines
from seq2seq.errors import DataError
from seq2seq.evaluation.report import Systems, name_systems, read_curves, write_report
from seq2seq.evaluation.scores import corpus_scores, format_scores
from seq2seq.evaluation.split import translate_split
from seq2seq.layout import RunFolder
from seq2seq.runs.device import pick_device
from seq2seq.runs.folder import read_checkpoint
from seq2seq.runs.trained import Trained, load_runs, make_translator, quantized, search_model


def _test_prefix(cfg: EvaluateConfig, data: DataConfig, task: TaskConfig) -> str:
    if cfg.split != "test":
        return cfg.split
    if not data.test:
        raise DataError(f"task {task.name} has no test split (its data.test is empty); name the files to "
                        "translate with split=PREFIX")
    return data.test


def attention_examples(trained: Trained, task: TaskConfig, sources: List[str], cfg: EvaluateConfig,
                       device: torch.device) -> List[Dict[str, Any]]:
    """Greedy attention weights for the first few non-empty test sentences (empty when the model has none)."""
    if trained.model.decoders[task.decoder].attention is None or cfg.attention_plots == 0:
        return []
    translator = make_translator(trained, task, DecodingConfig(strategy=Strategy.greedy), device)
    lines = [(i, clean_line(s)) for i, s in enumerate(sources) if clean_line(s)][:cfg.attention_plots]
    src_vocab, tgt_vocab = trained.vocabs[task.src], trained.vocabs[task.tgt]
    ids = src_vocab.encode([s for _, s in lines])
    found = translator.search(ids, keep_attention=True)
    return [{"line": i + 1, "source": src_vocab.pieces(src), "target": [*tgt_vocab.pieces(h[0].tokens), "</s>"],
             "weights": h[0].attention.tolist()} for (i, _), src, h in zip(lines, ids, found)]


def from_checkpoint(cfg: EvaluateConfig) -> Dict[str, Systems]:
    """Translate the run's test split for each task asked for (all tasks of a multi-task run by default); with
    several checkpoints, the ensemble of them translates."""
    device = pick_device(cfg.device, cfg.threads)
    runs = load_runs(cfg.checkpoint, device)
    if cfg.decoding.quantize:  # once for all the tasks below
        runs = [Trained(quantized(r.model), r.vocabs, r.info) for r in runs]
    trained, run = runs[0], runs[0].info.run
    tasks = [trained.task(cfg.pair)] if cfg.pair or len(trained.tasks) == 1 else \
        [t for t in trained.tasks if cfg.split != "test" or task_data(trained.info.data, t).test]  # all tested ones
    if not tasks:
        raise DataError(f"{run.path}: none of its tasks has a test split (data.test); name the files to translate "
                        "with split=PREFIX")
    result = {}
    for task in tasks:
        model, _ = search_model(runs, task.name)
        data = task_data(trained.info.data, task)
        prefix = _test_prefix(cfg, data, task)
        label = cfg.decoding.strategy.value + (f".ensemble{len(runs)}" if len(runs) > 1 else "")
        out = None if cfg.translations is None else \
            RunFolder(Path(cfg.translations)).translations(prefix, task.name, label, task.tgt)
        split = translate_split(model, trained.vocabs, task, data, prefix, cfg.decoding, device, run.path, out)
        curves = {run.path.name: read_curves(run.path, task.name)} if run.metrics.is_file() else {}
        result[task.name] = Systems([task.name], {task.name: split.hypotheses}, split.references, split.sources,
                                    curves, attention=attention_examples(trained, task, split.sources, cfg, device))
    return result


def _overrides(run: Path) -> Dict[str, str]:
    path = RunFolder(run).overrides
    items = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else []
    return dict(item.split("=", 1) for item in items or [] if "=" in item)


def from_sweep(cfg: EvaluateConfig) -> Dict[str, Systems]:
    """Every finished run of a multirun folder as one system; config differences become columns."""
    folder = Path(cfg.sweep)
    runs = sorted((p for p in folder.iterdir() if RunFolder(p).results.is_file()) if folder.is_dir() else [],
                  key=lambda p: (len(p.name), p.name))
    if not runs:
        raise DataError(f"{folder}: no finished runs of a sweep here (no */results.json)")
    overrides = {run.name: _overrides(run) for run in runs}
    varying = sorted({k for o in overrides.values() for k in o
                      if len({o2.get(k) for o2 in overrides.values()}) > 1})
    systems: Systems | None = None
    for run in runs:
        info = read_checkpoint(run)
        task = next((t for t in info.tasks if cfg.pair in (t.name, f"{t.src}-{t.tgt}")), info.tasks[0])
        data = task_data(info.data, task)
        prefix = _test_prefix(cfg, data, task)
        src, ref = read_split(data, task, prefix, run)
        hyp_file = info.run.translations(prefix, task.name, "hyp", task.tgt)
        if not hyp_file.is_file():
            raise DataError(f"{hyp_file}: test translation missing; rerun the training command for {run}")
        name = f"run {run.name}"
        if systems is None:
            systems = Systems([], {}, ref, src)
        elif ref != systems.refs:
            raise DataError(f"{run}: its test set differs from the other runs'; a sweep report needs one test set")
        systems.names.append(name)
        systems.hyps[name] = read_lines(hyp_file)
        systems.curves[name] = read_curves(run, task.name)
        systems.columns[name] = {k: overrides[run.name].get(k, "") for k in varying}
    return {task.name: systems}


def from_files(cfg: EvaluateConfig) -> Dict[str, Systems]:
    names = name_systems(cfg.hyps)
    refs = read_lines(Path(cfg.ref))
    srcs = read_lines(Path(cfg.src)) if cfg.src else None
    hyps = {name: read_lines(Path(path)) for name, path in zip(names, cfg.hyps)}
    return {"": Systems(names, hyps, refs, srcs)}


def run_evaluate(cfg: EvaluateConfig) -> Dict[str, Any]:
    if cfg.json:  # a scores file must not land on a reference or hypothesis it reads
        check_not_input(Path(cfg.json), [Path(p) for p in (cfg.ref, cfg.src, *cfg.hyps) if p], "json")
    if cfg.sweep is not None:
        groups = from_sweep(cfg)
    elif cfg.checkpoint is not None:
        groups = from_checkpoint(cfg)
    else:
        groups = from_files(cfg)
    results: Dict[str, Any] = {}
    for group, systems in groups.items():
        systems.check()
        if cfg.out is None:
            for name in systems.names:
                results[name] = corpus_scores(systems.hyps[name], systems.refs, name)
                print(format_scores(results[name], name))
            continue
        out = Path(cfg.out) / group if len(groups) > 1 else Path(cfg.out)
        if cfg.sweep is not None:  # the best run is the baseline: is it significantly better than the rest?
            bleu = BLEU()
            baseline = max(systems.names, key=lambda n: bleu.corpus_score(systems.hyps[n], [systems.refs]).score)
        else:
            baseline = cfg.baseline or systems.names[0]
        report = write_report(systems, baseline, out, bootstrap=cfg.bootstrap, trials=cfg.trials,
                              examples=cfg.examples)
        for name, s in report["systems"].items():
            p = "baseline" if s["p_value"] is None else f"p={s['p_value']:.3f}"
            label = f"{group}: {name}" if group and group != name else name
            print(f"{label}: BLEU {s['bleu']:.2f} [{s['bleu_ci'][0]:.2f}, {s['bleu_ci'][1]:.2f}] {p} | "
                  f"chrF {s['chrf']:.2f} | TER {s['ter']:.2f}")
        print(f"BLEU signature: {report['signatures']['bleu']}")
        print(f"report: {out / 'report.html'}")
        results[group or "report"] = report
    if cfg.json:
        write_atomic(Path(cfg.json), json.dumps(results, indent=2))
    return results
