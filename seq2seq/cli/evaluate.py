"""seq2seq-evaluate: sacrebleu BLEU, chrF and TER with signatures, for hypothesis files or a trained run."""

from __future__ import annotations

from seq2seq.cli.common import command, guarded
from seq2seq.config import EvaluateConfig


def run(evaluate_cfg: EvaluateConfig) -> None:
    from seq2seq.commands.evaluate import run_evaluate  # torch: only once the config is known to be good

    guarded(run_evaluate, evaluate_cfg)


main = command("evaluate", EvaluateConfig, run)

if __name__ == "__main__":
    main()
