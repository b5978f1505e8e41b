"""seq2seq-translate: translate stdin (or input=FILE) to stdout (or output=FILE) with a trained run."""

from __future__ import annotations

from hydra.utils import to_absolute_path

from seq2seq.cli.common import command, guarded
from seq2seq.config import TranslateConfig


def run(translate_cfg: TranslateConfig) -> None:
    from seq2seq.commands.translate import run_translate  # torch: only once the config is known to be good

    translate_cfg.checkpoint = [to_absolute_path(c) for c in translate_cfg.checkpoint]
    guarded(run_translate, translate_cfg)


main = command("translate", TranslateConfig, run)

if __name__ == "__main__":
    main()
