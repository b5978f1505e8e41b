"""seq2seq-train: one Hydra-configured training run (or a -m sweep of them)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Tuple

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from seq2seq.cli.common import claim_run_folder, fail, one_line, precheck, typed
from seq2seq.config import CONF_DIR, TrainConfig
from seq2seq.errors import UserError
from seq2seq.layout import RunFolder

CLAIMED: Tuple[Path, bool] | None = None  # the run folder this process locked, and whether it existed before


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="train")
def _main(cfg: DictConfig) -> None:
    train_cfg = typed(cfg, TrainConfig)
    train_cfg.data.root = to_absolute_path(train_cfg.data.root)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    from seq2seq.commands.train import run_train  # torch: only once the config is known to be good

    try:
        results = run_train(train_cfg, run_dir)
    except (UserError, OSError) as err:
        if CLAIMED is not None and not CLAIMED[1] and not RunFolder(run_dir).checkpoints.exists():
            shutil.rmtree(run_dir, ignore_errors=True)  # a failed start leaves no half-made folder behind
        fail(one_line(err))
    for task, scores in results.get("tasks", {}).items():
        if "bleu" not in scores:  # a task without a test split (data.test="") is trained only
            print(f"{task}: trained on {scores['train_pairs']} pairs, not tested (no test split)")
            continue
        print(f"{task}: BLEU {scores['bleu']:.2f} chrF {scores['chrf']:.2f} TER {scores['ter']:.2f} "
              f"({scores['signature']})")
    print(f"run folder: {run_dir}")


def main() -> None:
    global CLAIMED
    CLAIMED = claim_run_folder(precheck("train"))
    _main()


if __name__ == "__main__":
    main()
