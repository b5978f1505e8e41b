"""seq2seq-train: one Hydra-configured training run (or a -m sweep of them)."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from seq2seq.cli.common import guarded, precheck, typed
from seq2seq.config import CONF_DIR, TrainConfig
from seq2seq.training.run import run_train


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="train")
def _main(cfg: DictConfig) -> None:
    train_cfg = typed(cfg, TrainConfig)
    train_cfg.data.root = to_absolute_path(train_cfg.data.root)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    results = guarded(run_train, train_cfg, run_dir)
    for task, scores in results.get("tasks", {}).items():
        print(f"{task}: BLEU {scores['bleu']:.2f} chrF {scores['chrf']:.2f} TER {scores['ter']:.2f} "
              f"({scores['signature']})")
    print(f"run folder: {run_dir}")


def main() -> None:
    precheck("train")
    _main()


if __name__ == "__main__":
    main()
