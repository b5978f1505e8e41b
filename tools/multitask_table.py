#!/usr/bin/env python
"""Multi-task presets against their single-task baselines at the same training budget, on test_2016_flickr.

For each preset (multi30k_one_to_many, multi30k_many_to_one, multi30k_many_to_many) it trains the preset and one
single-task reference-model run per translation task with the same `trainer.max_minutes`, one after the other
(never two trainings at once), then prints a Markdown table of BLEU and chrF per task with the p-value of
multi-task against single-task from sacrebleu's paired bootstrap resampling (1,000 resamples, seed 12345), and
the target tokens each run trained on that task. Every row is decoded here, beam 5 as in `seq2seq-evaluate
checkpoint=RUN decoding=beam`, so runs trained by older code are scored with the same search as new ones.
Finished runs are reused, so an interrupted invocation continues where it stopped.

    SEQ2SEQ_DATA=../shared/data python tools/multitask_table.py --minutes 30 --out runs/multitask

`--presets multi30k_many_to_one --tasks de-en` gives the one row of Luong's headline comparison (two runs).
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

from sacrebleu.metrics import BLEU
from sacrebleu.significance import PairedTest

from seq2seq.config import DecodingConfig, EvaluateConfig, Strategy
from seq2seq.evaluation.run import from_checkpoint
from seq2seq.evaluation.scores import corpus_scores

ROOT = Path(__file__).resolve().parents[1]
PRESETS = {
    "multi30k_one_to_many": ["en-de", "en-fr", "en-cs"],
    "multi30k_many_to_one": ["de-en", "fr-en", "cs-en"],
    "multi30k_many_to_many": ["en-de", "de-en"],
}


def train(run: Path, overrides: list) -> None:
    """Train the run unless it has finished (its results.json exists); an unfinished one resumes."""
    if not (run / "results.json").is_file():
        subprocess.run([sys.executable, "-m", "seq2seq.cli.train", *overrides, "trainer.progress=false",
                        f"hydra.run.dir={run}"], check=True, cwd=ROOT)


@functools.cache  # a single-task baseline can serve two presets: decode it once
def decode(run: Path, pair: str) -> Tuple[List[str], List[str], int]:
    """Beam-5 test translations of one task by the run's best checkpoint, the references, and the target tokens
    of that task in the run's training batches (summed over the logged windows)."""
    cfg = EvaluateConfig(checkpoint=str(run), pair=pair, attention_plots=0,
                         decoding=DecodingConfig(strategy=Strategy.beam))
    systems = from_checkpoint(cfg)[pair]
    tokens = sum(entry["tokens"] for entry in systems.curves[run.name]["train"])
    return systems.hyps[pair], systems.refs, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget of every run")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "multitask")
    parser.add_argument("--presets", nargs="*", default=list(PRESETS))
    parser.add_argument("--tasks", nargs="*", default=None,
                        help="only these tasks get a single-task baseline and a row (default: every task)")
    args = parser.parse_args()
    unknown = [p for p in args.presets if p not in PRESETS]
    if unknown:
        parser.error(f"--presets {' '.join(unknown)}: not one of {', '.join(PRESETS)}")
    # the pairs that get a row, per preset, decided before any training: a preset with none is not trained
    rows_of = {p: [t for t in PRESETS[p] if args.tasks is None or t in args.tasks] for p in args.presets}
    unmatched = sorted(set(args.tasks or []) - {t for pairs in rows_of.values() for t in pairs})
    if unmatched:
        parser.error(f"--tasks {' '.join(unmatched)}: no such task in "
                     + "; ".join(f"{p} ({', '.join(PRESETS[p])})" for p in args.presets))
    budget = [f"trainer.max_minutes={args.minutes}", "trainer.max_epochs=0"]
    rows, signature = [], ""
    for preset, pairs in rows_of.items():
        if not pairs:
            continue
        multi_run = args.out / preset
        train(multi_run, [f"experiment={preset}", *budget])
        for pair in pairs:
            src, tgt = pair.split("-")
            single_run = args.out / f"single_{pair}"
            train(single_run, ["experiment=multi30k_attention", f"data.src={src}", f"data.tgt={tgt}",
                               "data.spm.joint=false",  # the multi-task presets: one model per language
                               *budget])
            multi_hyps, refs, multi_tokens = decode(multi_run, pair)
            single_hyps, single_refs, single_tokens = decode(single_run, pair)
            if refs != single_refs:
                sys.exit(f"{pair}: {multi_run} and {single_run} read different test sets; use one data root")
            signatures, tests = PairedTest([("single", single_hyps), ("multi", multi_hyps)], {"BLEU": BLEU()},
                                           [refs], test_type="bs")()
            p, signature = tests["BLEU"][1].p_value, str(signatures["BLEU"])
            m, s = corpus_scores(multi_hyps, refs), corpus_scores(single_hyps, refs)
            rows.append(f"| {preset} | {pair} | {m['bleu']:.2f} | {m['chrf']:.2f} | "
                        f"{multi_tokens / 1e6:.2f} M | {s['bleu']:.2f} | {s['chrf']:.2f} | "
                        f"{single_tokens / 1e6:.2f} M | {m['bleu'] - s['bleu']:+.2f} | {p:.3f} |")
    print(f"Budget: {args.minutes:g} training minutes per run on this machine; decoding: beam 5; test_2016_flickr.")
    print("| preset | task | multi-task BLEU | chrF | tokens | single-task BLEU | chrF | tokens | ΔBLEU | p |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\ntokens: target tokens of the task in the run's training batches. "
          f"p: sacrebleu paired bootstrap, {signature}")


if __name__ == "__main__":
    main()
