"""`seq2seq-translate`: a trained run translates stdin (or a file) into stdout (or a file), chunk by chunk."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

from seq2seq.atomic import check_not_input
from seq2seq.config import TranslateConfig
from seq2seq.data.files import decode_lines, iter_lines
from seq2seq.errors import UserError
from seq2seq.runs.device import pick_device
from seq2seq.runs.trained import load_runs, make_translator


def run_translate(cfg: TranslateConfig) -> int:
    """Translate `cfg.input` (default stdin) into `cfg.output` (default stdout), line by line; returns the count."""
    if cfg.input is not None and cfg.output is not None:
        check_not_input(Path(cfg.output), [Path(cfg.input)])
    device = pick_device(cfg.device, cfg.threads)
    runs = load_runs(cfg.checkpoint, device)
    translator = make_translator(runs, cfg.pair, cfg.decoding, device)
    translator.long_limit = runs[0].info.data.max_length  # longer training pairs were filtered out
    try:
        with ExitStack() as stack:
            if cfg.input is None:
                lines = decode_lines(sys.stdin.buffer, "<stdin>")
            else:
                lines = iter_lines(Path(cfg.input))
            if cfg.output is None:
                out = sys.stdout
            else:
                Path(cfg.output).parent.mkdir(parents=True, exist_ok=True)
                out = stack.enter_context(open(cfg.output, "w", encoding="utf-8"))
            try:
                count = translator.stream(lines, out)
            except KeyboardInterrupt:
                out.flush()
                raise UserError(f"interrupted: the first {translator.written} lines of the output are complete "
                                "translations") from None
    except OSError as err:
        if err.filename is not None:
            raise
        raise UserError(f"output: cannot write {cfg.output or '<stdout>'} ({err.strerror or err}); the first "
                        f"{translator.written} lines were written") from None
    note = translator.long_line_note()
    if note:
        print(f"note: {note}", file=sys.stderr)
    return count
