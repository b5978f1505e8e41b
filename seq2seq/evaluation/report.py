"""Comparison reports: scores with signatures, bootstrap intervals, paired significance against a baseline,
scores by source length, length ratio and brevity penalty, learning curves, attention, best/worst examples.

`build_report` computes everything into a JSON-able dict; `write_report` renders it (render.py) into a folder
that appears only when complete.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence

from sacrebleu.metrics import CHRF

from seq2seq.atomic import write_folder
from seq2seq.errors import DataError
from seq2seq.evaluation import plots
from seq2seq.evaluation.significance import (
    bootstrap_ci,
    make_metrics,
    paired_randomization,
    score_of,
    sentence_statistics,
)
from seq2seq.layout import RunFolder

BUCKETS = ((1, 10), (11, 20), (21, 30), (31, 40), (41, 10**9))


@dataclass
class Systems:
    """Hypotheses of several systems for one test set, with its reference (and source, when known)."""

    names: List[str]
    hyps: Dict[str, List[str]]
    refs: List[str]
    srcs: List[str] | None = None
    curves: Dict[str, Dict[str, List[dict]]] = field(default_factory=dict)  # run label -> train/valid entries
    columns: Dict[str, Dict[str, str]] = field(default_factory=dict)  # system -> config differences (sweeps)
    attention: List[dict] = field(default_factory=list)  # {"source": [...], "target": [...], "weights": [[...]]}

    def check(self) -> None:
        if not self.refs:
            raise DataError("the reference is empty: nothing to score")
        for name in self.names:
            if not self.hyps[name]:
                raise DataError(f"{name}: the hypothesis file is empty")
            if len(self.hyps[name]) != len(self.refs):
                raise DataError(f"{name} has {len(self.hyps[name])} lines but the reference has {len(self.refs)}: "
                                "they must have one line per test sentence")
        if self.srcs is not None and len(self.srcs) != len(self.refs):
            raise DataError(f"the source has {len(self.srcs)} lines but the reference has {len(self.refs)}")


def read_curves(run_dir: Path, task: str | None = None) -> Dict[str, List[dict]]:
    """Training and validation entries of a run's metrics log for one task (the first one by default)."""
    path = RunFolder(run_dir).metrics
    if not path.is_file():
        raise DataError(f"{run_dir}: no metrics.jsonl training log (is it a seq2seq-train run folder?)")
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    valid = [e for e in entries if e.get("kind") == "valid"]
    task = task or (valid[0]["task"] if valid else None)
    train = []
    for e in entries:
        if e.get("kind") == "train" and (task is None or task in e["loss"]):
            loss = e["loss"][task] if task else None  # already per target token
            tokens = e.get("tokens", {}).get(task, 0) if task else None  # target tokens trained since the last entry
            train.append({"step": e["step"], "elapsed": e["elapsed"], "loss": loss, "tokens": tokens})
    return {"train": train, "valid": [e for e in valid if e["task"] == task]}


def _bucket_of(length: int) -> str:
    for low, high in BUCKETS:
        if low <= length <= high:
            return f"{low}-{high}" if high < 10**9 else f"{low}+"
    return "0"


def build_report(systems: Systems, baseline: str, out: Path, bootstrap: int = 1000, trials: int = 1000,
                 examples: int = 5, seed: int = 12345) -> Dict[str, Any]:
    systems.check()
    if baseline not in systems.names:
        raise DataError(f"baseline {baseline!r} is not one of the systems {systems.names}")
    metrics = make_metrics()
    stats = {name: {m: sentence_statistics(metric, systems.hyps[name], systems.refs)
                    for m, metric in metrics.items()} for name in systems.names}
    report: Dict[str, Any] = {"baseline": baseline, "sentences": len(systems.refs), "systems": {},
                              "signatures": {m: str(metric.get_signature()) for m, metric in metrics.items()},
                              "method": {"ci": f"bootstrap resampling, {bootstrap} samples, 95% percentile interval, "
                                               f"seed {seed}",
                                         "significance": f"paired approximate randomization, {trials} trials, "
                                                         f"two-sided, seed {seed}"}}
    for name in systems.names:
        entry: Dict[str, Any] = {}
        for m, metric in metrics.items():
            entry[m] = round(score_of(metric, stats[name][m].sum(axis=0)), 2)
            entry[f"{m}_ci"] = [round(v, 2) for v in bootstrap_ci(metric, stats[name][m], bootstrap, seed)]
        p_values = {m: None if name == baseline else
                    paired_randomization(metric, stats[name][m], stats[baseline][m], trials, seed)
                    for m, metric in metrics.items()}
        entry["p_value"] = p_values["bleu"]
        entry["p_values"] = p_values
        bleu = metrics["bleu"].corpus_score(systems.hyps[name], [systems.refs])
        entry.update({"bp": round(bleu.bp, 4), "length_ratio": round(bleu.ratio, 4), "hyp_len": bleu.sys_len,
                      "ref_len": bleu.ref_len})
        entry["config"] = systems.columns.get(name, {})
        report["systems"][name] = entry
    report["best"] = max(systems.names, key=lambda n: report["systems"][n]["bleu"])
    report["by_length"] = _by_length(systems, metrics)
    report["examples"] = _examples(systems, examples, seed)
    report["figures"] = _figures(systems, report, out)
    return report


def _by_length(systems: Systems, metrics) -> Dict[str, Any]:
    basis = systems.srcs if systems.srcs is not None else systems.refs
    by_bucket: Dict[str, List[int]] = {}
    for i, line in enumerate(basis):
        by_bucket.setdefault(_bucket_of(len(line.split())), []).append(i)
    order = [b for b in (_bucket_of(low) for low, _ in BUCKETS) if b in by_bucket]
    table: Dict[str, Any] = {"basis": "source" if systems.srcs is not None else "reference", "buckets": order,
                             "counts": [len(by_bucket[b]) for b in order], "systems": {}}
    for name in systems.names:
        table["systems"][name] = {m: [round(metrics[m].corpus_score([systems.hyps[name][i] for i in by_bucket[b]],
                                                                    [[systems.refs[i] for i in by_bucket[b]]]).score,
                                            2) for b in order] for m in ("bleu", "chrf")}
    return table


def _examples(systems: Systems, count: int, seed: int) -> Dict[str, Any]:
    chrf = CHRF()
    first = systems.names[0]
    sentence = [chrf.sentence_score(h, [r]).score for h, r in zip(systems.hyps[first], systems.refs)]
    order = sorted(range(len(sentence)), key=lambda i: sentence[i])

    def rows(indices):
        return [{"line": i + 1, "source": systems.srcs[i] if systems.srcs else None, "reference": systems.refs[i],
                 "hypotheses": {n: systems.hyps[n][i] for n in systems.names}, "chrf": round(sentence[i], 1)}
                for i in indices]

    sample = sorted(random.Random(seed).sample(range(len(sentence)), min(count, len(sentence))))
    return {"ranked_by": f"sentence chrF of {first}", "best": rows(order[::-1][:count]),
            "worst": rows(order[:count]), "random": rows(sample)}


def _figures(systems: Systems, report: Dict[str, Any], out: Path) -> List[Dict[str, str]]:
    figures = []
    table = report["by_length"]
    figures.append({"title": f"BLEU and chrF by {table['basis']} length",
                    "file": plots.length_buckets(table["buckets"], table["systems"], out / "by_length.png")})
    if systems.curves:
        figures.append({"title": "Learning curves",
                        "file": plots.learning_curves(systems.curves, out / "learning_curves.png")})
    for i, att in enumerate(systems.attention):
        figures.append({"title": f"Attention, test sentence {att['line']}",
                        "file": plots.attention_heatmap(att["source"], att["target"], att["weights"],
                                                        out / f"attention_{i + 1}.png")})
    return figures


def write_report(systems: Systems, baseline: str, out: Path, **options) -> Dict[str, Any]:
    """Build the report in a temporary folder and move it to `out` only when every file is written; an existing
    `out` is replaced only when it is an earlier report (never a folder of the user's)."""
    from seq2seq.evaluation.render import render_html, render_markdown

    made: Dict[str, Any] = {}

    def fill(tmp: Path) -> None:
        report = made["report"] = build_report(systems, baseline, tmp, **options)
        (tmp / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        (tmp / "report.md").write_text(render_markdown(report), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(report, tmp), encoding="utf-8")

    write_folder(out, fill, command="seq2seq-evaluate")
    return made["report"]


def name_systems(paths: Sequence[str]) -> List[str]:
    names = [Path(p).stem for p in paths]
    if len(set(names)) != len(names):
        raise DataError(f"hypothesis files must have distinct file stems (they name the systems), got {names}")
    return names
