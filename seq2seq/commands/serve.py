"""`seq2seq-serve`: translate over HTTP with a trained run until interrupted."""

from __future__ import annotations

from typing import Callable

from seq2seq.config import ServeConfig
from seq2seq.server import Server


def run_serve(cfg: ServeConfig, started: Callable[[Server], None] = lambda server: None) -> None:
    """Serve until Ctrl-C; `started` is told the server once it listens."""
    server = Server(cfg)
    started(server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
