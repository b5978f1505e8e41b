"""Files that are either absent, old or complete: written to a temporary name and renamed into place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union


def write_atomic(path: Path, data: Union[str, bytes]) -> None:
    """Write `data` to `path` via a temporary file of this process (several processes may write the same file,
    e.g. the ranks of a data-parallel run), so readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
