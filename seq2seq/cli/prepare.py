"""seq2seq-prepare: encode the training data of a run ahead of time, given the run's own overrides, as
`fairseq-preprocess` does; `seq2seq-train` with the same data and SentencePiece options then starts in seconds."""

from __future__ import annotations

import logging
import sys

from hydra.utils import to_absolute_path

from seq2seq.cli.common import command, fail, one_line
from seq2seq.config import TrainConfig
from seq2seq.errors import UserError


def run(cfg: TrainConfig) -> None:
    cfg.data.root = to_absolute_path(cfg.data.root)
    logging.getLogger("seq2seq").setLevel(logging.INFO)  # preparation takes minutes at scale: say what it does
    from seq2seq.commands.prepare import run_prepare

    try:
        prepared = run_prepare(cfg)
    except (UserError, OSError) as err:
        fail(one_line(err))
    for name, info in prepared.items():
        print(f"{name}: {info['pairs']:,} training pairs ({info['megabytes']:.1f} MB) in {info['folder']}")
    print(f"SentencePiece models and corpora are kept in {cfg.data.prepared}; seq2seq-train with the same "
          "overrides reads them", file=sys.stderr)


main = command("train", TrainConfig, run)

if __name__ == "__main__":
    main()
