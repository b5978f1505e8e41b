"""The run-folder lock: one training process per run folder (no torch here, so commands start fast)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from seq2seq.errors import UserError


class RunLock:
    """One training process per run folder: an exclusive lock on RUN/.lock (released by the OS when its process
    ends, so a killed run's lock is taken over), whose text names the holder for the refusal message."""

    def __init__(self, run: Path):
        self.path = run / ".lock"
        self.handle: Any = None

    def acquire(self) -> None:
        import fcntl  # POSIX; imported here so that the rest of the package also loads elsewhere

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"{self.path.parent}: in use by {holder}; wait for it to end, stop it, or train into "
                            "another folder (hydra.run.dir=...)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"seq2seq-train (pid {os.getpid()} on {socket.gethostname()}, since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        handle.flush()
        self.handle = handle  # held open: the lock lasts as long as this process

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
