#!/usr/bin/env python
"""BLEU against training time: train presets for M wall-clock minutes, keep the weights at fixed points of that
clock (validation and checkpoint time count: it is what a user waits for), then score every kept model on the
test split with beam 5, so scoring never eats the budget. Writes JSON and a PNG with one curve per run.

    SEQ2SEQ_DATA=../shared/data python tools/time_to_bleu.py --presets multi30k_attention multi30k_context \\
        --minutes 60 --points 5 10 20 30 45 60

JSON: {"runs": {PRESET: {"points": [{"minutes", "bleu", "chrf", "step"}, ...], "command", "seed"}}, "device"}; the
last point of each run also has "translate_sentences_per_s": beam 5 over the test set, the whole process timed
(start-up, model load, decoding), ours through seq2seq-translate and OpenNMT-py's through onmt_translate.
A finished run (results.json) is reused and a killed one resumes, keeping the snapshots it had (each scored once:
its scores are kept beside it); one training at a time. With --peers, OpenNMT-py 3.0.4 trains the peers' reference
config (../shared/peers: the same model, joint SentencePiece 8k, 4,096-token batches) on the same budget in the same
invocation, under the name `opennmt-py`; with
--peers our-recipe, that config with our recipe's options wherever OpenNMT-py has the knob (tools/onmt_our_recipe.yaml:
tied output embeddings, 2e-3 peak after 200 warmup steps, label smoothing 0.1, 2,048-token batches, validation every
800 steps) on text segmented with the first preset's own SentencePiece model, under `opennmt-py-our-recipe`. Its
clock starts at its "Start training loop" as ours starts at our training loop, its newest checkpoint (one every
20 steps) is kept at each point and scored with its own beam search (beam 5, length penalty as run_onmt.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import torch

from seq2seq.atomic import write_atomic
from seq2seq.config import task_data
from seq2seq.data.corpus import data_folder
from seq2seq.data.download import sha256_of_file
from seq2seq.data.files import find_file
from seq2seq.evaluation.scores import corpus_scores
from seq2seq.layout import RunFolder
from seq2seq.runs.checkpoint import MODEL_FILE
from seq2seq.runs.folder import read_checkpoint

from peers import train_onmt, translate_onmt, work_dir
from trainings import ROOT, config_problem, test_scores, train_once, whole_process_rate


def budget_overrides(minutes: float, points: List[float], extra: List[str]) -> List[str]:
    """A run's overrides: the wall-clock budget alone stops it, with a model kept at each point, then `extra`."""
    marks = ",".join(f"{p:g}" for p in points)
    return ["trainer.max_minutes=0", "trainer.max_epochs=0", "trainer.max_steps=0",
            f"trainer.max_wall_minutes={minutes:g}", f"trainer.snapshot_minutes=[{marks}]", *extra]


def train(preset: str, run: Path, minutes: float, points: List[float], seed: int, extra: List[str],
          nproc: int = 1) -> None:
    train_once(preset, seed, run, budget_overrides(minutes, points, extra), nproc)


def translation_rate(folder: Path) -> float:
    """Whole-process beam-5 sentences/s of seq2seq-translate with a kept model on its test split's source."""
    info = read_checkpoint(folder)
    task = info.tasks[0]
    data = task_data(info.data, task)
    return whole_process_rate(folder, find_file(data_folder(data, info.run.path), data.test, task.src), "beam")


def score_snapshots(run: Path, points: List[float]) -> List[Dict[str, Any]]:
    """Beam-5 test scores of every snapshot the run kept (a point the run never reached is left out)."""
    out = []
    for minute in points:
        folder = RunFolder(run).snapshot(minute)
        if not folder.is_dir():
            continue
        scores = snapshot_scores(folder)
        out.append({"minutes": minute, "bleu": scores["bleu"], "chrf": scores["chrf"],
                    "step": read_checkpoint(folder).state["step"]})
    if out:  # the last model's whole-process translation speed, comparable with the peer's in the same run
        last = RunFolder(run).snapshot(out[-1]["minutes"])
        out[-1]["translate_sentences_per_s"] = round(translation_rate(last), 1)
    return out


def snapshot_scores(folder: Path) -> Dict[str, Any]:
    """A kept model's beam-5 test BLEU and chrF, decoded once: kept beside its weights (test_scores.json, with their
    sha256), so a reused run's curve is read, not decoded again."""
    kept, weights = folder / "test_scores.json", sha256_of_file(folder / MODEL_FILE)
    if kept.is_file() and (scores := json.loads(kept.read_text(encoding="utf-8"))).get("model_sha256") == weights:
        return scores
    _, _, measured = test_scores(folder)
    scores = {"bleu": measured["bleu"], "chrf": measured["chrf"], "model_sha256": weights}
    write_atomic(kept, json.dumps(scores) + "\n")
    return scores


def show(name: str, points: List[Dict[str, Any]]) -> None:
    for point in points:
        print(f"{name}: {point['minutes']:g} min (step {point['step']}): BLEU {point['bleu']:.2f}", flush=True)


def cpu_name() -> str:
    """e.g. "CPU: AMD EPYC 7B13, 2 cores" (what the curves were measured on)."""
    model = platform.processor() or "unknown model"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return f"CPU: {model}, {os.cpu_count()} cores"


# --peers: the run name and what OpenNMT-py trains, over ../shared/peers/onmt_multi30k_lstm.yaml
PEER_RECIPES = {"reference": ("opennmt-py", None),
                "our-recipe": ("opennmt-py-our-recipe", ROOT / "tools" / "onmt_our_recipe.yaml")}


def peer_points(run: Path, minutes: float, points: List[float], seed: int, recipe: Path | None = None,
                model: Path | None = None) -> List[Dict[str, Any]]:
    steps = train_onmt(run, minutes, points, seed, recipe, model)
    refs = (work_dir() / "data" / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()
    out = []
    for minute, step in sorted(steps.items()):
        started = time.perf_counter()
        hyps = translate_onmt(run / "snapshots" / f"min_{minute:g}.pt", run / f"test_2016_flickr.min_{minute:g}.de")
        rate = len(hyps) / (time.perf_counter() - started)  # its whole process, as translation_rate counts ours
        scores = corpus_scores(hyps, refs)
        out.append({"minutes": minute, "bleu": scores["bleu"], "chrf": scores["chrf"], "step": step,
                    "translate_sentences_per_s": round(rate, 1)})
    return out


def plot(runs: Dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    beside = len(runs) > 4  # many curves: the legend beside the plot, not over them
    figure, axes = plt.subplots(figsize=(9.5 if beside else 7, 4.5))
    for name, run in runs.items():
        points = run["points"]
        axes.plot([p["minutes"] for p in points], [p["bleu"] for p in points], marker="o", label=name)
    axes.set_xlabel("wall-clock training minutes (validation included)")
    axes.set_ylabel("test BLEU (beam 5)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if beside:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    else:
        axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(tmp, dpi=120)
    plt.close(figure)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="*", default=["multi30k_attention", "multi30k_context"])
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget of every run")
    parser.add_argument("--points", type=float, nargs="+", default=[5, 10, 20, 30, 45, 60],
                        help="wall-clock minutes at which the model is kept and scored")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", help="the run's name in the JSON and its folder (one preset; default: the preset), "
                                       "e.g. to compare a recipe's overrides with the preset as it is")
    parser.add_argument("--nproc", type=int, default=1,
                        help="train our runs data-parallel with this many torchrun ranks, the cores split between "
                             "them (the lever: 2 single-thread ranks against one process with 2 threads)")
    parser.add_argument("--peers", nargs="*", choices=sorted(PEER_RECIPES), default=None,
                        help="also train OpenNMT-py on the same budget: with the peers' reference config "
                             "(../shared/peers; `--peers` alone, run name opennmt-py) and/or with our recipe wherever "
                             "it has the knob (tools/onmt_our_recipe.yaml, on the first preset's SentencePiece "
                             "model; run name opennmt-py-our-recipe)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "time_to_bleu")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "time_to_bleu.json")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "results" / "time_to_bleu.png")
    parser.add_argument("overrides", nargs="*", help="extra config overrides for every run")
    args = parser.parse_args()
    if any(p > args.minutes for p in args.points):
        parser.error(f"--points {args.points}: every point must be within --minutes {args.minutes:g}")
    if args.name and len(args.presets) != 1:
        parser.error("--name names one run: give exactly one preset with it")
    for preset in args.presets:  # every run checked before the first trains, as the commands check theirs
        if why := config_problem(preset, args.seed, budget_overrides(args.minutes, args.points, args.overrides)):
            parser.error(f"{preset}: {why}")
    out = args.out.resolve()
    previous = json.loads(args.json.read_text(encoding="utf-8"))["runs"] if args.json.is_file() else {}
    runs: Dict[str, Any] = {}
    budget = f"--minutes {args.minutes:g} --points " + " ".join(f"{p:g}" for p in args.points) + f" --seed {args.seed}"
    for flag in ("out", "json", "png"):  # where the curves went, when not to the defaults
        path = getattr(args, flag).resolve()
        if path != parser.get_default(flag).resolve():
            budget += f" --{flag} {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
    for preset in args.presets:
        name = args.name or preset
        run = out / name
        train(preset, run, args.minutes, args.points, args.seed, args.overrides, args.nproc)
        command = (f"python tools/time_to_bleu.py --presets {preset}" + (f" --name {name}" if args.name else "")
                   + (f" --nproc {args.nproc}" if args.nproc > 1 else "") + f" {budget}"
                   + "".join(f" {o}" for o in args.overrides))
        runs[name] = {"points": score_snapshots(run, args.points), "seed": args.seed, "command": command}
        show(name, runs[name]["points"])
    peers = [] if args.peers is None else args.peers or ["reference"]  # `--peers` alone: the reference config
    for recipe in peers:
        name, options = PEER_RECIPES[recipe]
        model = None
        if options is not None:  # the text segmented as ours: the first preset's run's SentencePiece model
            if not args.presets:
                parser.error(f"--peers {recipe} segments with our run's SentencePiece model: give --presets too")
            info = read_checkpoint(out / (args.name or args.presets[0]))
            model = info.vocab_path(info.tasks[0].src)
            if model != info.vocab_path(info.tasks[0].tgt):
                sys.exit(f"--peers {recipe}: {info.run.path} has a SentencePiece model per language; OpenNMT-py "
                         "shares one vocabulary here, so the first preset must use a joint model")
        what = ("../shared/peers/onmt_multi30k_lstm.yaml" if options is None
                else f"{options.relative_to(ROOT)} over ../shared/peers/onmt_multi30k_lstm.yaml")
        runs[name] = {"points": peer_points(out / name, args.minutes, args.points, args.seed, options, model),
                      "seed": args.seed, "command": f"python tools/time_to_bleu.py --peers {recipe} {budget} "
                      f"(OpenNMT-py 3.0.4, {what})"}
        show(name, runs[name]["points"])
    runs = {**{k: v for k, v in previous.items() if k not in runs}, **runs}  # other runs of earlier invocations
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else cpu_name()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.json, json.dumps({"runs": runs, "device": device}, indent=2) + "\n")
    plot(runs, args.png, f"test_2016_flickr BLEU against training time ({device})")
    print(f"wrote {args.json} and {args.png}")


if __name__ == "__main__":
    main()
