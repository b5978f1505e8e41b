"""seq2seq-serve: translate over HTTP with a trained run until interrupted."""

from __future__ import annotations

from hydra.utils import to_absolute_path

from seq2seq.cli.common import command, guarded
from seq2seq.config import ServeConfig


def run(serve_cfg: ServeConfig) -> None:
    from seq2seq.commands.serve import run_serve  # torch: only once the config is known to be good

    serve_cfg.checkpoint = to_absolute_path(serve_cfg.checkpoint)
    guarded(run_serve, serve_cfg, lambda server: print(
        f"serving {server.model.task.name} on {server.url} (POST /translate, GET /health); Ctrl-C stops", flush=True))


main = command("serve", ServeConfig, run)

if __name__ == "__main__":
    main()
