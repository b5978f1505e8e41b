#!/usr/bin/env python
"""Speed benchmark of the reference model and recipe (experiment=multi30k_reference) on Multi30k en->de.

Trains for --steps steps and prints target tokens/s (padding excluded), the model FLOPs done per second and their
ratio to a float32 matrix product timed in the same process; then translates test_2016_flickr greedily and with
beam 5 (sentences/s) with the trained --checkpoint run if given, else with the benchmark's own model. With --peers
it also runs ../shared/peers (JoeyNMT, OpenNMT-py) in the same invocation and prints the ratios.

    SEQ2SEQ_DATA=../shared/data python tools/bench.py --steps 30 --json bench.json

With --table, the device benchmark instead (made for a GPU: --device cuda): on a synthetic WMT-length corpus
(tools/scale_corpus.py), training tokens/s (source + target, and target alone; padding excluded) of the reference
model at 2,048 and 8,192-token batches and of the deep model (model=gnmt) at the largest batch that fits, for each
precision, timed over --steps steps after --warmup; greedy and beam-5 sentences/s in-process at batch 128 on
test_2016_flickr with the trained runs given (--checkpoint: the reference model, --deep-checkpoint: the deep one).
One row per (model, batch, precision) in the table JSON:

    SEQ2SEQ_DATA=../shared/data python tools/bench.py --device cuda --table docs/results/gpu_bench.json \
        --checkpoint runs/time_to_bleu_gpu/multi30k_gpu
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

import torch
from torch.utils.flop_counter import FlopCounterMode

from seq2seq.atomic import write_atomic
from seq2seq.config import (
    DataConfig,
    DecodingConfig,
    Layout,
    Precision,
    Strategy,
    TaskConfig,
    TrainConfig,
    compose,
    task_data,
    to_typed,
)
from seq2seq.evaluation.split import translate_split
from seq2seq.runs.device import describe
from seq2seq.runs.trained import load_trained, quantized
from seq2seq.training.parts import TrainingParts, make_parts

from peers import PEERS, ensure_peers, peer_env
from scale_corpus import write_corpus
from trainings import whole_process_rate


def matmul_gflops(device: torch.device, size: int = 2048, repeat: int = 10) -> float:
    """float32 matrix-product rate on the device the benchmark trains on (the ceiling its FLOPs are compared to)."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    synchronize(device)
    return 2 * size**3 * repeat / (time.perf_counter() - start) / 1e9


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def encoder_flops_per_source_token(cfg: TrainConfig) -> float:
    """Forward FLOPs of the encoder RNN per source token (the flop counter does not see fused RNN kernels)."""
    enc = cfg.model.encoder
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[enc.cell.value]
    gnmt = enc.layout == Layout.gnmt  # bidirectional first layer only
    flops, size = 0.0, enc.embedding_dim
    for layer in range(enc.layers):
        directions = 2 if enc.bidirectional and (layer == 0 or not gnmt) else 1
        flops += directions * 2 * gates * enc.hidden_size * (size + enc.hidden_size)
        size = enc.hidden_size * directions
    return flops


def count_sources(parts: TrainingParts, task: str) -> List[int]:
    """The source tokens (padding excluded) of every batch the task's iterator hands out from now on."""
    iterator, counts = parts.iterators[task], []
    take = iterator.next_share

    def next_share():
        batch, tokens = take()
        counts.append(int(batch.src_lengths.sum()))
        return batch, tokens

    iterator.next_share = next_share
    return counts


def bench_training(cfg: TrainConfig, run_dir: Path, steps: int, warmup: int = 3) -> dict:
    """Training steps timed on the parts a run is made of (the trainer's own step, without its loop)."""
    parts = make_parts(cfg, run_dir)
    task, step = cfg.tasks[0].name, 0

    def train_step() -> Tuple[float, int]:
        nonlocal step
        step += 1
        return parts.train_step(cfg.trainer, task, step, 0.0)

    for _ in range(warmup):  # warm-up: allocator, cuDNN plans, first-call overheads
        train_step()
    # FLOPs of one counted step (matrix products seen by the counter + the encoder RNN, x3 for the backward)
    batch = next(parts.iterators[task])
    counter = FlopCounterMode(display=False)
    with counter:
        loss = parts.model.loss(task, batch)
        loss.backward()
    parts.optimizer.zero_grad(set_to_none=True)
    src_tokens = int(batch.src_lengths.sum())
    step_flops = counter.get_total_flops() + 3 * encoder_flops_per_source_token(cfg) * src_tokens
    flops_per_tgt_token = step_flops / batch.n_tgt_tokens
    sources = count_sources(parts, task)
    tokens, spent, rates = 0, 0.0, []
    for _ in range(steps):
        start = time.perf_counter()
        _, n = train_step()  # ends in .item(): the device has finished the step
        elapsed = time.perf_counter() - start
        tokens, spent = tokens + n, spent + elapsed
        rates.append(n / elapsed)
    return {"parts": parts, "train_tgt_tokens_per_s": tokens / spent,
            "train_tokens_per_s": (tokens + sum(sources)) / spent,
            "train_tgt_tokens_per_s_median_step": statistics.median(rates),
            "model_gflops_per_tgt_token": flops_per_tgt_token / 1e9,
            "train_gflops_per_s": flops_per_tgt_token * tokens / spent / 1e9, "train_steps": steps}


def bench_translation(model, vocabs, task: TaskConfig, data: DataConfig, run_dir: Path, device: torch.device,
                      label_prefix: str = "", precision: Precision = Precision.fp32) -> dict:
    """Decoding speed (in-process: encode, search, detokenise) and BLEU, greedy and beam 5, on the test set."""
    out = {}
    for label, decoding in (("greedy", DecodingConfig(strategy=Strategy.greedy)),
                            ("beam5", DecodingConfig(strategy=Strategy.beam, beam_size=5))):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == Precision.bf16):
            result = translate_split(model, vocabs, task, data, data.test, decoding, device, run_dir)
        out[f"{label_prefix}{label}_sentences_per_s"] = result.sentences_per_second
        out[f"{label_prefix}{label}_bleu"] = result.scores["bleu"]
    return out


def trained_translation(path: Path, device: torch.device, run_dir: Path, precision: Precision) -> dict:
    """bench_translation of a trained run on its own first task's test split."""
    trained = load_trained(path, device)
    task = trained.tasks[0]
    data = task_data(trained.info.data, task)
    data.root = str(Path(trained.info.data.root).resolve())
    return bench_translation(trained.model, trained.vocabs, task, data, run_dir, device, precision=precision)


def device_table(args: argparse.Namespace) -> dict:
    """The --table benchmark: a row per (model, batch tokens, precision); see the module's docstring."""
    corpus = args.corpus or write_corpus(Path(os.environ.get("SEQ2SEQ_DATA", "../shared/data")).resolve(),
                                         Path.home() / "seq2seq-scale" / f"table_{args.pairs}", args.pairs)
    common = ["experiment=multi30k_reference", "data=files", f"data.root={Path(corpus).resolve()}",
              "data.train=train", "data.valid=val", "data.test=test", "data.src=en", "data.tgt=de",
              f"data.spm.vocab_size={args.vocab_size}", "trainer.progress=false", f"trainer.device={args.device}",
              "trainer.validate_every=100000", *args.override]
    models = {"reference": (common, args.batches, args.checkpoint),
              "deep": ([*common, "model=gnmt", *args.deep_override], [args.deep_batch], args.deep_checkpoint)}
    rows, device = [], torch.device("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (overrides, batches, checkpoint) in models.items():
            for precision in args.precisions:
                translation = {}
                for batch_tokens in batches:
                    cfg = to_typed(compose("train", [*overrides, f"trainer.precision={precision}",
                                                     f"trainer.batch_tokens={batch_tokens or args.batches[-1]}"]),
                                   TrainConfig)
                    if not batch_tokens:  # the largest that fits, doubling from the reference's largest
                        cfg.trainer.batch_tokens = largest_batch(cfg, Path(tmp) / "probe", args.batches[-1])
                    train = bench_training(cfg, Path(tmp) / f"{name}_{precision}_{batch_tokens}", args.steps,
                                           args.warmup)
                    made = train.pop("parts")
                    device = made.placement.device  # where trainer.device (auto: a GPU when there is one) put it
                    if checkpoint and not translation:
                        translation = trained_translation(checkpoint, device, Path(tmp), cfg.trainer.precision)
                    rows.append({"tool": "seq2seq", "model": name, "batch_tokens": cfg.trainer.batch_tokens,
                                 "precision": precision, "device": describe(device),
                                 "parameters": made.model.parameter_counts()["total"],
                                 "train_tokens_per_second": round(train["train_tokens_per_s"]),
                                 "train_tgt_tokens_per_second": round(train["train_tgt_tokens_per_s"]),
                                 "beam5_sentences_per_second": translation.get("beam5_sentences_per_s"),
                                 "greedy_sentences_per_second": translation.get("greedy_sentences_per_s"),
                                 "translation_model": str(checkpoint) if checkpoint else None})
                    print(json.dumps(rows[-1]), flush=True)
                    del made
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
    return {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else describe(device),
            "torch": torch.__version__,
            "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
            "corpus": f"{corpus} (tools/scale_corpus.py, {args.pairs:,} pairs)" if not args.corpus else str(corpus),
            "steps": args.steps, "warmup": args.warmup, "rows": rows}


def largest_batch(cfg: TrainConfig, run_dir: Path, start: int, limit: int = 1 << 20) -> int:
    """The largest batch (tokens, doubling from `start`) whose training steps fit in the GPU's memory; `start`
    off a GPU, where memory is not what bounds the batch."""
    if not cfg.trainer.device.startswith("cuda"):
        return start
    fits, size = start, start
    while size <= limit:
        cfg.trainer.batch_tokens = size
        try:
            bench_training(cfg, run_dir / str(size), steps=1, warmup=2)
        except torch.cuda.OutOfMemoryError:
            break
        finally:
            torch.cuda.empty_cache()
        fits, size = size, size * 2
    return fits


def run_peers(seconds: int) -> dict:
    """Train and translate with JoeyNMT and OpenNMT-py through ../shared/peers (sequentially), parse their logs."""
    work = ensure_peers(["joeynmt", "opennmt-py"])
    env = peer_env(TRAIN_SECONDS=str(seconds))
    results = {}
    for name, script in (("joeynmt", "run_joey.sh"), ("opennmt", "run_onmt.sh")):
        subprocess.run(["bash", str(PEERS / script), "all"], check=True, env=env, capture_output=True)
        res = work / "results" / ("joey" if name == "joeynmt" else "onmt")
        if name == "joeynmt":
            rates = [float(x) for x in re.findall(r"Tokens per Sec:\s+(\d+)", (res / "train.log").read_text())]
        else:
            rates = [float(x) for x in re.findall(r"\d+/\s*(\d+) tok/s;", (res / "train.stdout").read_text())]
        entry = {"train_tgt_tokens_per_s": statistics.median(rates) if rates else None}
        for tag in ("greedy", "beam5"):
            timing = (res / f"translate_{tag}.time").read_text()
            wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", timing).group(1)
            seconds_wall = sum(float(x) * 60**i for i, x in enumerate(reversed(wall.split(":"))))
            entry[f"{tag}_sentences_per_s_whole_process"] = 1000 / seconds_wall
        results[name] = entry
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", type=Path, help="a trained multi30k_reference run for the translation timing")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--peers", action="store_true", help="also run ../shared/peers in this invocation")
    parser.add_argument("--peer-seconds", type=int, default=120, help="training seconds per peer")
    parser.add_argument("--override", nargs="*", default=[], help="extra Hydra overrides for the model")
    table = parser.add_argument_group("the device table (--table)")
    table.add_argument("--table", type=Path, help="run the device benchmark and write its rows to this JSON")
    table.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    table.add_argument("--corpus", type=Path, help="a folder from tools/scale_corpus.py (default: made with --pairs)")
    table.add_argument("--pairs", type=int, default=200_000)
    table.add_argument("--vocab-size", type=int, default=32_000, help="joint SentencePiece pieces")
    table.add_argument("--batches", type=int, nargs="+", default=[2048, 8192], help="the reference model's batches")
    table.add_argument("--deep-batch", type=int, default=0, help="the deep model's batch (0: the largest that fits)")
    table.add_argument("--precisions", nargs="+", choices=[p.value for p in Precision], default=["fp32", "bf16"])
    table.add_argument("--warmup", type=int, default=10)
    table.add_argument("--deep-override", nargs="*", default=[], help="extra overrides of the deep rows")
    table.add_argument("--deep-checkpoint", type=Path, help="a trained deep run for the deep rows' translation")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.table:
        out = device_table(args)
        args.table.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.table, json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.table}")
        return
    cfg = to_typed(compose("train", ["experiment=multi30k_reference", "trainer.progress=false", *args.override]),
                   TrainConfig)
    cfg.data.root = os.path.abspath(cfg.data.root)
    task = cfg.tasks[0]
    data = task_data(cfg.data, task)

    with tempfile.TemporaryDirectory() as tmp:
        train = bench_training(cfg, Path(tmp), args.steps)
        made = train.pop("parts")
        device = made.placement.device  # trainer.device (auto: a CUDA GPU when there is one); translation too
        report = {"device": describe(device),
                  "threads": args.threads, "torch": torch.__version__, "precision": cfg.trainer.precision.value,
                  "matmul_gflops_per_s": matmul_gflops(device)}
        report.update(train)
        report["train_flops_fraction_of_matmul"] = report["train_gflops_per_s"] / report["matmul_gflops_per_s"]
        if args.checkpoint:
            trained = load_trained(args.checkpoint, device)
            report.update(bench_translation(trained.model, trained.vocabs, task, data, Path(tmp), device))
            if device.type == "cpu":  # dynamic int8 quantisation is a CPU path
                report.update(bench_translation(quantized(trained.model), trained.vocabs, task, data, Path(tmp),
                                                torch.device("cpu"), "int8_"))
            source = Path(cfg.data.root) / cfg.data.dir / f"{cfg.data.test}.{cfg.data.src}.gz"
            for label, decoding in (("greedy", "greedy"), ("beam5", "beam")):
                rate = whole_process_rate(args.checkpoint, source, decoding)
                report[f"{label}_sentences_per_s_whole_process"] = rate
            report["translation_model"] = str(args.checkpoint)
        else:
            report.update(bench_translation(made.model.eval(), made.vocabs, task, data, Path(tmp), device))
            report["translation_model"] = f"untrained ({args.steps} benchmark steps)"
    report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.peers:
        report["peers"] = run_peers(args.peer_seconds)
        for name, peer in report["peers"].items():
            for key, value in peer.items():
                ours = report.get(key)
                if value and ours:
                    report.setdefault("ratios", {})[f"{key} vs {name}"] = ours / value
    for key, value in report.items():
        print(f"{key:45s} {value:.3f}" if isinstance(value, float) else f"{key:45s} {value}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
