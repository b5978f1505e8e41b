"""seq2seq-evaluate: sacrebleu BLEU, chrF and TER with signatures, for hypothesis files or a trained run."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from seq2seq.cli.common import guarded, run_command, typed
from seq2seq.config import CONF_DIR, EvaluateConfig
from seq2seq.evaluation.run import run_evaluate


def run(evaluate_cfg: EvaluateConfig) -> None:
    guarded(run_evaluate, evaluate_cfg)


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="evaluate")
def _main(cfg: DictConfig) -> None:
    run(typed(cfg, EvaluateConfig))


def main() -> None:
    run_command("evaluate", run, _main)


if __name__ == "__main__":
    main()
