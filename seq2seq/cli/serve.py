"""seq2seq-serve: translate over HTTP with a trained run until interrupted."""

from __future__ import annotations

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from seq2seq.cli.common import guarded, run_command, typed
from seq2seq.config import CONF_DIR, ServeConfig
from seq2seq.server import Server


def run(serve_cfg: ServeConfig) -> None:
    serve_cfg.checkpoint = to_absolute_path(serve_cfg.checkpoint)
    server = guarded(Server, serve_cfg)
    print(f"serving {server.model.task.name} on {server.url} (POST /translate, GET /health); Ctrl-C stops",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@hydra.main(version_base=None, config_path=CONF_DIR, config_name="serve")
def _main(cfg: DictConfig) -> None:
    run(typed(cfg, ServeConfig))


def main() -> None:
    run_command("serve", run, _main)


if __name__ == "__main__":
    main()
