"""seq2seq-score: forced decoding, one log-probability per line of a reference given its source."""

from __future__ import annotations

import sys

from hydra.utils import to_absolute_path

from seq2seq.cli.common import command, guarded
from seq2seq.config import ScoreConfig


def run(score_cfg: ScoreConfig) -> None:
    from seq2seq.commands.score import run_score  # torch: only once the config is known to be good

    for key in ("checkpoint", "input", "reference", "json"):
        if getattr(score_cfg, key):
            setattr(score_cfg, key, to_absolute_path(getattr(score_cfg, key)))
    totals = guarded(run_score, score_cfg)
    print(f"sentences {totals['sentences']} | tokens {totals['tokens']} | log_prob {totals['log_prob']:.2f} | "
          f"perplexity {totals['perplexity']:.2f}", file=sys.stderr)


main = command("score", ScoreConfig, run)

if __name__ == "__main__":
    main()
