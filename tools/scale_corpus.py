#!/usr/bin/env python
"""Synthetic WMT-length German-English corpora for the scale benchmark: each pair joins three random pairs of
Multi30k and Tatoeba (about 22 words a side, as WMT14 en-de), seeded, written outside the repository.

    SEQ2SEQ_DATA=../shared/data python tools/scale_corpus.py --pairs 5000000 --out ~/seq2seq-scale/5000000

The folder gets train.de / train.en (PAIRS lines) and val / test copies of Multi30k's val and test_2016_flickr,
so `data=files data.root=FOLDER data.train=train data.valid=val data.test=test` trains on it.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
from pathlib import Path
from typing import List, Tuple

import numpy as np

JOINED = 3  # sentences per synthetic pair
CHUNK = 200_000


def read_gz(path: Path) -> List[str]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle]


def source_pairs(data: Path) -> Tuple[List[str], List[str]]:
    """Every de-en training pair of Multi30k and Tatoeba (about 194k)."""
    de, en = [], []
    for folder in ("multi30k", "tatoeba-deu-eng"):
        de += read_gz(data / folder / "train.de.gz")
        en += read_gz(data / folder / "train.en.gz")
    assert len(de) == len(en)
    return de, en


def write_corpus(data: Path, out: Path, pairs: int, seed: int = 1) -> Path:
    """Write OUT/train.{de,en} with `pairs` lines (kept when it already has them) and OUT/{val,test}.{de,en}."""
    out.mkdir(parents=True, exist_ok=True)
    done = out / "train.en"
    if done.is_file() and sum(1 for _ in open(done, "rb")) == pairs:
        return out
    de, en = source_pairs(data)
    rng = np.random.default_rng(seed)
    tmp = {lang: out / f".train.{lang}.tmp" for lang in ("de", "en")}
    with open(tmp["de"], "w", encoding="utf-8") as f_de, open(tmp["en"], "w", encoding="utf-8") as f_en:
        for start in range(0, pairs, CHUNK):
            picks = rng.integers(0, len(de), size=(min(CHUNK, pairs - start), JOINED)).tolist()
            f_de.write("".join(" ".join(de[i] for i in row) + "\n" for row in picks))
            f_en.write("".join(" ".join(en[i] for i in row) + "\n" for row in picks))
    for lang, path in tmp.items():
        os.replace(path, out / f"train.{lang}")
    for split, name in (("val", "val"), ("test", "test_2016_flickr")):
        for lang in ("de", "en"):
            shutil.copyfile(data / "multi30k" / f"{name}.{lang}.gz", out / f"{split}.{lang}.gz")
    return out


def prefix_corpus(full: Path, out: Path, pairs: int) -> Path:
    """OUT as the first `pairs` pairs of the corpus in FULL (so every size draws from one stream)."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "train.en").is_file() and sum(1 for _ in open(out / "train.en", "rb")) == pairs:
        return out
    for lang in ("de", "en"):
        tmp = out / f".train.{lang}.tmp"
        with open(full / f"train.{lang}", "rb") as src, open(tmp, "wb") as dst:
            for _, line in zip(range(pairs), src):
                dst.write(line)
        os.replace(tmp, out / f"train.{lang}")
    for path in full.glob("*.gz"):
        shutil.copyfile(path, out / path.name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SEQ2SEQ_DATA", "../shared/data")))
    args = parser.parse_args()
    print(write_corpus(args.data, args.out.expanduser(), args.pairs, args.seed))


if __name__ == "__main__":
    main()
