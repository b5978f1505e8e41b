"""seq2seq-translate: translate stdin (or input=FILE) to stdout (or output=FILE) with a trained run."""

from __future__ import annotations

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from seq2seq.cli.common import guarded, run_command, typed
from seq2seq.config import CONF_DIR, TranslateConfig
from seq2seq.runs.trained import checkpoint_list
from seq2seq.runs.translate import run_translate


def run(translate_cfg: TranslateConfig) -> None:
    translate_cfg.checkpoint = [to_absolute_path(c) for c in guarded(checkpoint_list, translate_cfg.checkpoint)]
    guarded(run_translate, translate_cfg)


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="translate")
def _main(cfg: DictConfig) -> None:
    run(typed(cfg, TranslateConfig))


def main() -> None:
    run_command("translate", run, _main)


if __name__ == "__main__":
    main()
