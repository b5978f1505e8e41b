"""The one safe writer: files and folders that are absent, old or complete (written beside their place and
renamed), an output folder that replaces only an earlier output of the same command, an output that is never
one of the command's inputs, and a full disk or any write error as one line naming the path, nothing left behind.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Sequence, Type, Union

from safetensors import SafetensorError

from seq2seq.errors import UserError

MARK = ".seq2seq-output"  # in an output folder a command made: its name (what the command may replace later)


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


def marked(folder: Path, command: str) -> bool:
    """Whether `folder` is an output folder that `command` made (its MARK file names the command)."""
    try:
        return (folder / MARK).read_text(encoding="utf-8").strip() == command
    except OSError:
        return False


def write_folder(final: Path, fill: Callable[[Path], None], command: str | None = None,
                 error: Type[UserError] = UserError, kept: str = "nothing was changed") -> None:
    """Fill a new folder beside `final` with `fill(tmp)` and rename it into place once whole. With `command`, the
    folder is a user-named output: an existing `final` is replaced only when it is an earlier output of that
    command (marked), else refused before anything is written; without, `final` is the toolkit's own (a
    checkpoint, a prepared corpus) and an older one is replaced. Any write error, a full disk included (which
    safetensors reports as its own error), removes the partial folder and is one `error` naming `final`."""
    if command is not None and final.exists() and not marked(final, command):
        raise UserError(f"{final}: exists and is not an earlier {command} output; choose a new folder "
                        "(nothing was changed)")
    tmp, old = final.with_name(f".{final.name}.tmp"), final.with_name(f".{final.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        fill(tmp)
        if command is not None:
            (tmp / MARK).write_text(command + "\n", encoding="utf-8")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
    except (OSError, SafetensorError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not final.exists():
            os.replace(old, final)
        reason = getattr(err, "strerror", None) or str(err)
        raise error(f"{final}: could not be written ({reason}); {kept}") from None
    shutil.rmtree(old, ignore_errors=True)
