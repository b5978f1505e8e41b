"""Corpus BLEU, chrF and TER from sacrebleu, each with its signature."""

from __future__ import annotations

from typing import Dict, Sequence

from sacrebleu.metrics import BLEU, CHRF, TER

from seq2seq.errors import DataError


def corpus_scores(hyps: Sequence[str], refs: Sequence[str], name: str = "hypotheses") -> Dict[str, object]:
    if len(hyps) != len(refs):
        raise DataError(f"{name} has {len(hyps)} lines but the reference has {len(refs)}: "
                        "they must have one line per test sentence")
    if not refs:
        raise DataError(f"{name}: nothing to score (the reference is empty)")
    metrics = {"bleu": BLEU(), "chrf": CHRF(), "ter": TER()}
    result: Dict[str, object] = {}
    signatures = {}
    for key, metric in metrics.items():
        score = metric.corpus_score(list(hyps), [list(refs)])
        result[key] = round(score.score, 2)
        signatures[key] = str(metric.get_signature())
        if key == "bleu":
            result["bleu_detail"] = str(score)
    result["signature"] = signatures["bleu"]
    result["signatures"] = signatures
    return result


def format_scores(scores: Dict[str, object], label: str = "") -> str:
    sig = scores["signatures"]
    prefix = f"{label}: " if label else ""
    return (f"{prefix}BLEU {scores['bleu']:.2f} ({sig['bleu']})\n"
            f"{prefix}chrF {scores['chrf']:.2f} ({sig['chrf']})\n"
            f"{prefix}TER  {scores['ter']:.2f} ({sig['ter']})")
