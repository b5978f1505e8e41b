"""Confidence intervals (bootstrap resampling) and paired significance (approximate randomisation) for corpus
metrics, computed from sacrebleu's per-sentence sufficient statistics.

sacrebleu's own paired tests count only strictly larger resampled differences, so a system compared with itself
gets p = 1/(n+1); here a tie counts as "at least as large", which gives p = 1 for identical systems.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.metrics.base import Metric

METRICS = {"bleu": BLEU, "chrf": CHRF, "ter": TER}


def make_metrics() -> Dict[str, Metric]:
    return {name: cls() for name, cls in METRICS.items()}


def sentence_statistics(metric: Metric, hyps: Sequence[str], refs: Sequence[str]) -> np.ndarray:
    """[N, K] sufficient statistics, one row per sentence; their column sums give the corpus score."""
    return np.asarray(metric._extract_corpus_statistics(list(hyps), [list(refs)]))


def score_of(metric: Metric, summed: np.ndarray) -> float:
    return float(metric._compute_score_from_stats(list(summed)).score)


def bootstrap_ci(metric: Metric, stats: np.ndarray, samples: int = 1000, seed: int = 12345,
                 level: float = 0.95) -> Tuple[float, float]:
    """Percentile interval of the corpus score over test sets resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = stats.shape[0]
    scores = [score_of(metric, stats[rng.integers(0, n, n)].sum(axis=0)) for _ in range(samples)]
    low, high = np.percentile(scores, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(low), float(high)


def paired_randomization(metric: Metric, stats_a: np.ndarray, stats_b: np.ndarray, trials: int = 1000,
                         seed: int = 12345) -> float:
    """Two-sided p-value that systems a and b score the same (approximate randomisation, Riezler & Maxwell 2005).

    Each trial swaps the two systems' outputs on a random half of the sentences; p is the share of trials whose
    score difference is at least the observed one (counting the observed assignment itself).
    """
    observed = abs(score_of(metric, stats_a.sum(axis=0)) - score_of(metric, stats_b.sum(axis=0)))
    rng = np.random.default_rng(seed)
    at_least = 0
    for _ in range(trials):
        swap = rng.random(stats_a.shape[0]) < 0.5
        a = np.where(swap[:, None], stats_b, stats_a).sum(axis=0)
        b = np.where(swap[:, None], stats_a, stats_b).sum(axis=0)
        if abs(score_of(metric, a) - score_of(metric, b)) >= observed - 1e-9:
            at_least += 1
    return (at_least + 1) / (trials + 1)


def paired_p_value(hyps_a: Sequence[str], hyps_b: Sequence[str], refs: Sequence[str], metric: str = "bleu",
                   trials: int = 1000, seed: int = 12345) -> float:
    """The project's paired significance test (approximate randomisation) for two systems on one test set."""
    scorer = METRICS[metric]()
    return paired_randomization(scorer, sentence_statistics(scorer, hyps_a, refs),
                                sentence_statistics(scorer, hyps_b, refs), trials, seed)
