"""Files that are either absent, old or complete: written to a temporary name and renamed into place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence, Union

from seq2seq.errors import UserError


def write_atomic(path: Path, data: Union[str, bytes]) -> None:
    """Write `data` to `path` via a temporary file of this process (several processes may write the same file,
    e.g. the ranks of a data-parallel run), so readers never see a half-written file. A path that exists and is
    not a regular file (/dev/stdout, a pipe, a device) is written in place: renaming over it would replace it.
    An OSError names `path`, not the temporary file."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.exists() and not path.is_file():
            with open(path, "wb") as handle:
                handle.write(raw)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(raw)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None


def check_not_input(output: Path, inputs: Sequence[Path], key: str = "output") -> None:
    """Refuse an output that is one of the command's inputs (the same file, links included): opening it for
    writing would empty it before it is read."""
    if not output.exists():
        return
    for source in inputs:
        if source.exists() and os.path.samefile(output, source):
            raise UserError(f"{key}: {output} is the input {source}; writing it would destroy what is being read: "
                            f"choose another {key}")
