#!/usr/bin/env python
"""Fuzz the Python API and a live server with many more cases than the test suite runs (tests/cli/test_fuzz.py,
the same properties): every call answers or refuses in one line, no 5xx, the server keeps answering.

    SEQ2SEQ_DATA=../shared/data python tools/fuzz.py --examples 10000 --server-examples 2000

Hypothesis shrinks any failure to a smallest example and prints it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = {"api": "test_random_api", "server": "test_random_requests"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=10_000, help="cases per API property (two of them)")
    parser.add_argument("--server-examples", type=int, default=2_000, help="requests to the live server")
    args = parser.parse_args()
    failed = False
    for part, count in (("api", args.examples // 2), ("server", args.server_examples)):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                                 str(ROOT / "tests" / "cli" / "test_fuzz.py"), "-k", TESTS[part]],
                                cwd=ROOT, env={**os.environ, "SEQ2SEQ_FUZZ_EXAMPLES": str(count)})
        print(f"{part}: {count:,} cases per property, {'passed' if result.returncode == 0 else 'FAILED'} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        failed |= result.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
