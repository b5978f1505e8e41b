"""seq2seq-score: forced decoding, one log-probability per line of a reference given its source."""

from __future__ import annotations

import sys

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from seq2seq.api import run_score
from seq2seq.cli.common import guarded, run_command, typed
from seq2seq.config import CONF_DIR, ScoreConfig


def run(score_cfg: ScoreConfig) -> None:
    for key in ("checkpoint", "input", "reference", "json"):
        if getattr(score_cfg, key):
            setattr(score_cfg, key, to_absolute_path(getattr(score_cfg, key)))
    totals = guarded(run_score, score_cfg)
    print(f"sentences {totals['sentences']} | tokens {totals['tokens']} | log_prob {totals['log_prob']:.2f} | "
          f"perplexity {totals['perplexity']:.2f}", file=sys.stderr)


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="score")
def _main(cfg: DictConfig) -> None:
    run(typed(cfg, ScoreConfig))


def main() -> None:
    run_command("score", run, _main)


if __name__ == "__main__":
    main()
