"""seq2seq-translate: translate stdin (or input=FILE) to stdout (or output=FILE) with a trained run."""

from __future__ import annotations

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from seq2seq.cli.common import guarded, precheck, typed
from seq2seq.config import CONF_DIR, TranslateConfig
from seq2seq.runs.trained import checkpoint_list
from seq2seq.runs.translate import run_translate


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="translate")
def _main(cfg: DictConfig) -> None:
    translate_cfg = typed(cfg, TranslateConfig)
    translate_cfg.checkpoint = [to_absolute_path(c) for c in guarded(checkpoint_list, translate_cfg.checkpoint)]
    guarded(run_translate, translate_cfg)


def main() -> None:
    precheck("translate")
    _main()


if __name__ == "__main__":
    main()
