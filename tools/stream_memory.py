#!/usr/bin/env python
"""Peak memory of `seq2seq-translate` as the input grows: translation streams, so the peak should stay flat.

Trains a small toy model once (or uses --checkpoint), then translates generated inputs of increasing size in a
fresh process each, recording peak RSS (from /proc via resource in the child), wall time and whether the output
order matches the input order (each output line is checked against the reversal of its input line).

    python tools/stream_memory.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import resource, runpy, sys
sys.argv = ["seq2seq-translate"] + sys.argv[1:]
try:
    runpy.run_module("seq2seq.cli.translate", run_name="__main__")
finally:
    print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def train_toy(folder: Path) -> Path:
    run = folder / "toy"
    subprocess.run([sys.executable, "-m", "seq2seq.cli.train", "experiment=toy_reverse", "trainer.progress=false",
                    f"hydra.run.dir={run}"], check=True, cwd=ROOT, capture_output=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--checkpoint", type=Path, help="a toy_reverse run (default: train one, about a minute)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run = args.checkpoint or train_toy(folder)
        rng = random.Random(0)
        symbols = [chr(ord("a") + i) for i in range(20)]
        for size in args.sizes:
            source, output = folder / f"in.{size}", folder / f"out.{size}"
            with open(source, "w", encoding="utf-8") as handle:
                for _ in range(size):
                    handle.write(" ".join(rng.choice(symbols) for _ in range(rng.randint(3, 12))) + "\n")
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-c", CHILD, f"checkpoint={run}", f"input={source}",
                                     f"output={output}", "threads=2"], cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - start
            if result.returncode != 0:
                raise SystemExit(result.stderr)
            peak = int(result.stderr.split("PEAK_RSS_KB")[1].split()[0]) / 1024
            in_order = 0
            with open(source, encoding="utf-8") as src, open(output, encoding="utf-8") as out:
                lines = 0
                for a, b in zip(src, out):
                    lines += 1
                    in_order += b.split() == a.split()[::-1]
            rows.append({"lines": size, "output_lines": lines, "peak_rss_mib": round(peak, 1),
                         "wall_s": round(wall, 1), "sentences_per_s": round(size / wall, 1),
                         "output_is_reversed_input": round(in_order / size, 4)})
            print(rows[-1], flush=True)
    print("\n| input lines | peak RSS (MiB) | wall (s) | sentences/s | lines equal to the reversed input |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['lines']:,} | {r['peak_rss_mib']} | {r['wall_s']} | {r['sentences_per_s']:,} | "
              f"{r['output_is_reversed_input']:.2%} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
