#!/usr/bin/env python
"""Speed benchmark of the reference model and recipe (experiment=multi30k_reference) on Multi30k en->de.

Trains for --steps steps and prints target tokens/s (padding excluded), the model FLOPs done per second and their
ratio to a float32 matrix product timed in the same process; then translates test_2016_flickr greedily and with
beam 5 (sentences/s) with the trained --checkpoint run if given, else with the benchmark's own model. With --peers
it also runs ../shared/peers (JoeyNMT, OpenNMT-py) in the same invocation and prints the ratios.

    SEQ2SEQ_DATA=../shared/data python tools/bench.py --steps 30 --json bench.json
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

import torch
from torch.utils.flop_counter import FlopCounterMode

from seq2seq.config import DecodingConfig, Strategy, TrainConfig, compose, task_data, to_typed
from seq2seq.evaluation.split import translate_split
from seq2seq.runs.device import describe
from seq2seq.runs.trained import load_trained, quantized
from seq2seq.training.trainer import Trainer

from peers import PEERS, ensure_peers, peer_env
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
    directions = 2 if enc.bidirectional else 1
    flops, size = 0.0, enc.embedding_dim
    for _ in range(enc.layers):
        flops += directions * 2 * gates * enc.hidden_size * (size + enc.hidden_size)
        size = enc.hidden_size * directions
    return flops


def bench_training(cfg: TrainConfig, run_dir: Path, steps: int) -> dict:
    trainer = Trainer(cfg, run_dir)
    task = cfg.tasks[0].name
    for _ in range(3):  # warm-up: allocator, first-call overheads
        trainer.train_step(task)
    # FLOPs of one counted step (matrix products seen by the counter + the encoder RNN, x3 for the backward)
    batch = next(trainer.iterators[task])
    counter = FlopCounterMode(display=False)
    with counter:
        loss = trainer.model.loss(task, batch)
        loss.backward()
    trainer.optimizer.zero_grad(set_to_none=True)
    src_tokens = int(batch.src_lengths.sum())
    step_flops = counter.get_total_flops() + 3 * encoder_flops_per_source_token(cfg) * src_tokens
    flops_per_tgt_token = step_flops / batch.n_tgt_tokens
    tokens, spent, rates = 0, 0.0, []
    for _ in range(steps):
        start = time.perf_counter()
        _, n = trainer.train_step(task)
        elapsed = time.perf_counter() - start
        tokens, spent = tokens + n, spent + elapsed
        rates.append(n / elapsed)
    return {"trainer": trainer, "train_tgt_tokens_per_s": tokens / spent,
            "train_tgt_tokens_per_s_median_step": statistics.median(rates),
            "model_gflops_per_tgt_token": flops_per_tgt_token / 1e9,
            "train_gflops_per_s": flops_per_tgt_token * tokens / spent / 1e9, "train_steps": steps}


def bench_translation(model, vocabs, cfg: TrainConfig, run_dir: Path, device: torch.device,
                      label_prefix: str = "") -> dict:
    """Decoding speed (in-process: encode, search, detokenise) and BLEU, greedy and beam 5, on the test set."""
    task = cfg.tasks[0]
    data = task_data(cfg.data, task)
    out = {}
    for label, decoding in (("greedy", DecodingConfig(strategy=Strategy.greedy)),
                            ("beam5", DecodingConfig(strategy=Strategy.beam, beam_size=5))):
        result = translate_split(model, vocabs, task, data, data.test, decoding, device, run_dir)
        out[f"{label_prefix}{label}_sentences_per_s"] = result.sentences_per_second
        out[f"{label_prefix}{label}_bleu"] = result.scores["bleu"]
    return out


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = to_typed(compose("train", ["experiment=multi30k_reference", "trainer.progress=false", *args.override]),
                   TrainConfig)
    cfg.data.root = os.path.abspath(cfg.data.root)

    with tempfile.TemporaryDirectory() as tmp:
        train = bench_training(cfg, Path(tmp), args.steps)
        trainer = train.pop("trainer")
        device = trainer.device  # trainer.device (auto: a CUDA GPU when there is one); translation runs there too
        report = {"device": describe(device),
                  "threads": args.threads, "torch": torch.__version__, "precision": cfg.trainer.precision.value,
                  "matmul_gflops_per_s": matmul_gflops(device)}
        report.update(train)
        report["train_flops_fraction_of_matmul"] = report["train_gflops_per_s"] / report["matmul_gflops_per_s"]
        if args.checkpoint:
            trained = load_trained(args.checkpoint, device)
            report.update(bench_translation(trained.model, trained.vocabs, cfg, Path(tmp), device))
            if device.type == "cpu":  # dynamic int8 quantisation is a CPU path
                report.update(bench_translation(quantized(trained.model), trained.vocabs, cfg, Path(tmp),
                                                torch.device("cpu"), "int8_"))
            source = Path(cfg.data.root) / cfg.data.dir / f"{cfg.data.test}.{cfg.data.src}.gz"
            for label, decoding in (("greedy", "greedy"), ("beam5", "beam")):
                rate = whole_process_rate(args.checkpoint, source, decoding)
                report[f"{label}_sentences_per_s_whole_process"] = rate
            report["translation_model"] = str(args.checkpoint)
        else:
            report.update(bench_translation(trainer.model.eval(), trainer.vocabs, cfg, Path(tmp), device))
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
