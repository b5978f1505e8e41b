"""seq2seq-train: one Hydra-configured training run (or a -m sweep of them)."""

from __future__ import annotations

import shutil
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from seq2seq.cli.common import Claim, claim_run_folder, fail, one_line, precheck, run_in_folder, typed
from seq2seq.config import CONF_DIR, TrainConfig
from seq2seq.errors import UserError
from seq2seq.layout import RunFolder


def train(train_cfg: TrainConfig, claim: Claim | None) -> None:
    """Train into the run folder Hydra set up, print each task's test scores; a user error ends in one line, and
    a failed start removes the folder if this process made it and no checkpoint was written."""
    train_cfg.data.root = to_absolute_path(train_cfg.data.root)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    from seq2seq.commands.train import run_train  # torch: only once the config is known to be good

    try:
        results = run_train(train_cfg, run_dir)
    except (UserError, OSError) as err:
        if claim is not None and not claim.existed and not RunFolder(run_dir).checkpoints.exists():
            shutil.rmtree(run_dir, ignore_errors=True)  # a failed start leaves no half-made folder behind
        fail(one_line(err))
    for task, scores in results.get("tasks", {}).items():
        if "bleu" not in scores:  # a task without a test split (data.test="") is trained only
            print(f"{task}: trained on {scores['train_pairs']} pairs, not tested (no test split)")
            continue
        print(f"{task}: BLEU {scores['bleu']:.2f} chrF {scores['chrf']:.2f} TER {scores['ter']:.2f} "
              f"({scores['signature']})")
    print(f"run folder: {run_dir}")


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="train")
def _hydra_main(cfg: DictConfig) -> None:
    """--help, --cfg and -m sweeps: Hydra composes each job, whose config is checked here before it trains."""
    train(typed(cfg, TrainConfig), None)


def main() -> None:
    composed = precheck("train")  # composed once and checked before any work
    if composed is None:
        _hydra_main()
        return
    claim = claim_run_folder(composed.full.hydra)  # locked until this process ends
    run_in_folder(composed.full, lambda: train(composed.config, claim))


if __name__ == "__main__":
    main()
