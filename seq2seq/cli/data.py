"""seq2seq-data: fetch a known public corpus into the data root, every file checked against its published sha256."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NoReturn, Sequence

from seq2seq.cli.common import fail, guarded
from seq2seq.data.download import CORPORA, fetch


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, like every other seq2seq error, not usage + message
        fail(f"{message} (see seq2seq-data --help)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="seq2seq-data", description="Download a public corpus into the data root (ROOT/NAME), "
                     "checking every file's sha256; files already there with the right hash are kept.")
    parser.add_argument("name", nargs="?", help=f"the corpus: {', '.join(CORPORA)}")
    parser.add_argument("--root", type=Path, default=None,
                        help="the data root (default: the SEQ2SEQ_DATA environment variable, else ./data)")
    parser.add_argument("--base-url", default=None,
                        help="fetch the corpus's files from URL/FILE instead (a mirror, or a local folder)")
    parser.add_argument("--list", action="store_true", help="list the known corpora and exit")
    return parser.parse_args(argv)


def list_corpora() -> None:
    width = max(map(len, CORPORA))
    for corpus in CORPORA.values():
        print(f"{corpus.name:<{width}}  {corpus.about}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.list:
        list_corpora()
        return
    if args.name is None:
        fail(f"name a corpus ({', '.join(CORPORA)}), or use --list")
    root = args.root or Path(os.environ.get("SEQ2SEQ_DATA") or "data")
    folder = guarded(fetch, args.name, root, args.base_url, print)
    print(f"{args.name} is ready in {folder}")


if __name__ == "__main__":
    main()
