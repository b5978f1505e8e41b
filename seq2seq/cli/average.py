"""seq2seq-average: the parameter average of a run's last checkpoints (or of listed ones) as a checkpoint folder."""

from __future__ import annotations

from hydra.utils import to_absolute_path

from seq2seq.cli.common import command, guarded
from seq2seq.config import AverageConfig


def run(average_cfg: AverageConfig) -> None:
    from seq2seq.commands.average import run_average  # torch: once the config is good

    if average_cfg.checkpoint is not None:
        average_cfg.checkpoint = to_absolute_path(average_cfg.checkpoint)
    average_cfg.checkpoints = [to_absolute_path(c) for c in average_cfg.checkpoints]
    average_cfg.output = to_absolute_path(average_cfg.output)
    folders, output = guarded(run_average, average_cfg)
    print(f"averaged {len(folders)} checkpoints ({', '.join(f.name for f in folders)}) into {output}")


main = command("average", AverageConfig, run)

if __name__ == "__main__":
    main()
