"""Report figures with matplotlib (headless): scores by source length, learning curves, attention heatmaps."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
    return path.name


def length_buckets(buckets: Sequence[str], scores: Dict[str, Dict[str, List[float]]], path: Path) -> str:
    """Grouped bars: BLEU and chrF per source-length bucket, one bar per system."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    width = 0.8 / max(len(scores), 1)
    for axis, metric in zip(axes, ("bleu", "chrf")):
        for i, (system, by_metric) in enumerate(scores.items()):
            positions = [b + i * width for b in range(len(buckets))]
            axis.bar(positions, by_metric[metric], width=width, label=system)
        axis.set_xticks([b + 0.4 - width / 2 for b in range(len(buckets))], buckets)
        axis.set_xlabel("source length (words)")
        axis.set_ylabel(metric.upper() if metric == "bleu" else "chrF")
        axis.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    return _save(fig, path)


def learning_curves(curves: Dict[str, Dict[str, List[dict]]], path: Path) -> str:
    """Training loss, validation perplexity and BLEU against steps (top) and training time (bottom)."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    panels = (("train", "loss", "training loss"), ("valid", "ppl", "validation perplexity"),
              ("valid", "bleu", "validation BLEU (greedy)"))
    for run, entries in curves.items():
        for col, (kind, key, title) in enumerate(panels):
            points = [e for e in entries[kind] if e.get(key) is not None]
            for row, x_key in enumerate(("step", "elapsed")):
                axis = axes[row][col]
                axis.plot([p[x_key] / (60 if x_key == "elapsed" else 1) for p in points],
                          [p[key] for p in points], marker="." if kind == "valid" else None, label=run)
                axis.set_title(title, fontsize=10)
                axis.set_xlabel("step" if x_key == "step" else "training minutes")
                axis.grid(alpha=0.3)
                if key == "ppl":
                    axis.set_yscale("log")
    axes[0][0].legend(fontsize=8)
    return _save(fig, path)


def attention_heatmap(source: Sequence[str], target: Sequence[str], weights, path: Path) -> str:
    """weights [len(target), len(source)]: one row per output token."""
    fig, axis = plt.subplots(figsize=(max(4, 0.35 * len(source) + 2), max(3, 0.3 * len(target) + 1.5)))
    axis.imshow(weights, cmap="Greys", aspect="auto", vmin=0, vmax=1)
    axis.set_xticks(range(len(source)), source, rotation=90, fontsize=8)
    axis.set_yticks(range(len(target)), target, fontsize=8)
    axis.set_xlabel("source")
    axis.set_ylabel("output")
    return _save(fig, path)
