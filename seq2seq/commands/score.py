"""`seq2seq-score`: forced decoding, log P(reference | input) per line and the totals, through the Python API."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Dict

from seq2seq.api import load
from seq2seq.atomic import check_not_input, write_atomic
from seq2seq.config import ScoreConfig
from seq2seq.data.files import read_parallel
from seq2seq.errors import DataError


def run_score(cfg: ScoreConfig) -> Dict[str, float]:
    """Print log P(reference | input) per line, and return the totals (written to cfg.json when set)."""
    if cfg.json:
        check_not_input(Path(cfg.json), [Path(cfg.input), Path(cfg.reference)], "json")
    model = load(cfg.checkpoint, pair=cfg.pair, device=cfg.device, threads=cfg.threads)
    sources, references = read_parallel(Path(cfg.input), Path(cfg.reference))
    if not sources:
        raise DataError(f"{cfg.input}: no lines to score (a perplexity over nothing would read 1.00)")
    scores = model.score(sources, references, cfg.batch_size)
    sys.stdout.write("".join(f"{value:.4f}\n" for value in scores))
    tokens = model.target_tokens(references)
    log_prob = sum(scores)
    totals = {"sentences": len(scores), "tokens": tokens, "log_prob": log_prob,
              "perplexity": math.exp(-log_prob / max(tokens, 1))}
    if cfg.json:
        write_atomic(Path(cfg.json), json.dumps(totals, indent=2) + "\n")
    return totals
