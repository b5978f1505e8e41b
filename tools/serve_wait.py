#!/usr/bin/env python
"""How long a one-line request waits behind the largest request `seq2seq-serve`'s default limits allow: the long
request (max_lines lines whose work, characters x beam, fills max_request_work; beam 5, then greedy) is sent, and
0.2 s later a one-line request; both timed over real HTTP, with the default chunk_work and with chunking off
(chunk_work beyond any request: the worker translates a request whole, as before turns were taken).

    SEQ2SEQ_DATA=../shared/data python tools/serve_wait.py --checkpoint runs/attn
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import List

from seq2seq.config import ServeConfig, compose, to_typed
from seq2seq.server import Server


def post(url: str, body: dict) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(url + "/translate", data=json.dumps(body).encode("utf-8"), method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        assert response.status == 200
        response.read()
    return time.perf_counter() - started


def long_lines(source: List[str], lines: int, chars: int) -> List[str]:
    """`lines` lines of about `chars` characters each, made of whole test sentences."""
    out, at = [], 0
    for _ in range(lines):
        line = ""
        while len(line) + len(source[at % len(source)]) + 1 <= chars:
            line = f"{line} {source[at % len(source)]}".strip()
            at += 1
        out.append(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--source", type=Path, default=Path(os.environ.get("SEQ2SEQ_DATA", "../shared/data")) /
                        "multi30k" / "test_2016_flickr.en.gz")
    parser.add_argument("--chunk-work", type=int, nargs="*", help="chunk_work values to try (default: the "
                        "default one, then off)")
    args = parser.parse_args()
    with gzip.open(args.source, "rt", encoding="utf-8") as handle:
        source = [line.strip() for line in handle]
    defaults = to_typed(compose("serve", [f"checkpoint={args.checkpoint}", "port=0"]), ServeConfig)
    print("| long request | chunk_work | long request s | one-line request waits s |\n|---|---:|---:|---:|")
    for chunk_work in args.chunk_work or (defaults.chunk_work, 10**12):
        cfg = to_typed(compose("serve", [f"checkpoint={args.checkpoint}", "port=0", f"chunk_work={chunk_work}"]),
                       ServeConfig)
        server = Server(cfg)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            post(server.url, {"text": ["A warm-up."]})
            for label, beam in (("beam 5", 5), ("greedy", 1)):
                chars = cfg.max_request_work // (cfg.max_lines * beam)
                text = long_lines(source, cfg.max_lines, min(chars, cfg.max_line_chars))
                body = {"text": text, **({"strategy": "beam", "beam_size": 5} if beam > 1 else {})}
                timing: dict = {}

                def send_long(url: str = server.url, body: dict = body, timing: dict = timing) -> None:
                    timing["long"] = post(url, body)

                thread = threading.Thread(target=send_long)
                thread.start()
                time.sleep(0.2)
                timing["short"] = post(server.url, {"text": ["A dog runs on the beach."]})
                thread.join()
                shown = "off" if chunk_work > 10**9 else f"{chunk_work:,}"
                print(f"| {cfg.max_lines} lines of {max(map(len, text))} characters, {label} | {shown} | "
                      f"{timing['long']:.2f} | {timing['short']:.2f} |", flush=True)
        finally:
            server.close()


if __name__ == "__main__":
    main()
