#!/usr/bin/env python
"""Scale benchmark: memory and start-up time against corpus size, for `seq2seq-train` and OpenNMT-py 3.0.4.

For each size it builds a synthetic WMT-length de-en corpus (tools/scale_corpus.py; the smaller ones are the first
lines of the largest), then runs the reference model (experiment=multi30k_reference, data=files) through the real
command three times, each in a fresh process:
  1. first run: SentencePiece and the prepared corpus made from nothing (its own empty data.prepared), --steps steps;
  2. resume: the same command on the same run folder, a few more steps;
  3. new run: another run folder on the already prepared corpus (a sweep member, a torchrun rank).
Each records seconds from the command's start to the end of its first training step, the peak anonymous memory of
its process tree (RssAnon summed over the processes, sampled every 50 ms: a memory-mapped corpus is page cache, not
the process's own memory) and training target tokens/s (the median over steps after the first). OpenNMT-py runs
on the 1M corpus (`onmt_build_vocab` on 100k sampled pairs, then `onmt_train` with the same SentencePiece model as
an on-the-fly transform and its default bucketing) for the same figures.

    SEQ2SEQ_DATA=../shared/data python tools/scale_bench.py --sizes 100000 1000000 5000000 \
        --json docs/results/scale.json

Writes {"rows": [{"tool", "pairs", "prepare_seconds", "first_step_seconds", "resume_seconds", "peak_anon_mb",
"resume_peak_anon_mb", "tokens_per_second", ...}]} and prints the table of docs/scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from seq2seq.layout import RunFolder

from peers import ensure_peers, peer_env
from scale_corpus import prefix_corpus, write_corpus
from trainings import ROOT

STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})")


def tree_anon_kb(pid: int) -> Tuple[int, int]:
    """(RssAnon, VmRSS) in kB summed over `pid` and its descendants."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    anon = rss = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status", encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("RssAnon:"):
                        anon += int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return anon, rss


def measured(command: Sequence[str], log: Path, env: Dict[str, str] | None = None) -> Dict[str, float]:
    """Run `command` (stdout and stderr to LOG), sampling its tree's memory; returns start time and peaks."""
    started = time.time()
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        peak_anon = peak_rss = 0
        while process.poll() is None:
            anon, rss = tree_anon_kb(process.pid)
            peak_anon, peak_rss = max(peak_anon, anon), max(peak_rss, rss)
            time.sleep(0.05)
    if process.returncode != 0:
        sys.exit(f"{command[0]} ... failed (exit {process.returncode}); see {log}")
    return {"started": started, "seconds": time.time() - started, "peak_anon_mb": peak_anon / 1024,
            "peak_rss_mb": peak_rss / 1024}


def stamped(text: str, since: float) -> List[Tuple[float, str]]:
    """(time, line) of the log lines with a timestamp at or after `since` (ours `[DATE TIME,ms][...`, OpenNMT-py's
    `[DATE TIME,ms INFO]`)."""
    out = []
    for line in text.splitlines():
        match = STAMP.match(line)
        if match:
            when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if when >= since - 1.0:
                out.append((when, line))
    return out


def ours(corpus: Path, run: Path, prepared: Path, steps: int, logs: Path, label: str) -> Dict[str, float]:
    """One `seq2seq-train` process of the reference model on CORPUS; its first step, memory, speed."""
    command = [sys.executable, "-m", "seq2seq.cli.train", "experiment=multi30k_reference", "data=files",
               f"data.root={corpus}", "data.train=train", "data.valid=val", "data.test=", "data.src=de",
               "data.tgt=en", "data.valid_max_sentences=50", f"trainer.max_steps={steps}", "trainer.max_minutes=0",
               "trainer.validate_every=100000", "trainer.log_every=1", "trainer.progress=false",
               "trainer.threads=2", f"hydra.run.dir={run}"]
    result = measured(command, logs / f"{label}.out", {**os.environ, "SEQ2SEQ_PREPARED": str(prepared)})
    lines = stamped(RunFolder(run).log.read_text(encoding="utf-8"), result["started"])
    step_lines = [(when, line) for when, line in lines if re.search(r" - step \d+ \|", line)]
    rates = [float(re.search(r"\| ([\d,]+) tokens/s", line).group(1).replace(",", "")) for _, line in step_lines]
    prepared_line = next((line for _, line in lines if "prepared" in line and "pairs in" in line), None)
    vocab_line = next((when for when, line in lines if "SentencePiece spm." in line), None)
    out = {"first_step_seconds": step_lines[0][0] - result["started"], "peak_anon_mb": result["peak_anon_mb"],
           "peak_rss_mb": result["peak_rss_mb"], "tokens_per_second": statistics.median(rates[1:] or rates)}
    if prepared_line:
        out["prepare_seconds"] = float(re.search(r"pairs in ([\d.]+) s", prepared_line).group(1))
    if vocab_line:
        out["sentencepiece_seconds"] = vocab_line - result["started"]
    return out


def bench_ours(corpus: Path, pairs: int, work: Path, steps: int) -> Dict[str, float]:
    prepared, logs = work / f"prepared-{pairs}", work / f"logs-{pairs}"
    for folder in (prepared, work / f"run-{pairs}", work / f"new-{pairs}", logs):
        shutil.rmtree(folder, ignore_errors=True)
    logs.mkdir(parents=True)
    first = ours(corpus, work / f"run-{pairs}", prepared, steps, logs, "first")
    resume = ours(corpus, work / f"run-{pairs}", prepared, steps + 3, logs, "resume")
    again = ours(corpus, work / f"new-{pairs}", prepared, 3, logs, "new")
    disk = sum(p.stat().st_size for p in (prepared / "corpus").rglob("*") if p.is_file())
    row = {"tool": "seq2seq", "pairs": pairs, "prepare_seconds": first.get("prepare_seconds"),
           "prepare_pairs_per_second": pairs / first["prepare_seconds"] if first.get("prepare_seconds") else None,
           "sentencepiece_seconds": first.get("sentencepiece_seconds"),
           "first_step_seconds": first["first_step_seconds"], "resume_seconds": resume["first_step_seconds"],
           "new_run_seconds": again["first_step_seconds"], "peak_anon_mb": first["peak_anon_mb"],
           "resume_peak_anon_mb": resume["peak_anon_mb"], "new_run_peak_anon_mb": again["peak_anon_mb"],
           "peak_rss_mb": first["peak_rss_mb"], "tokens_per_second": first["tokens_per_second"],
           "prepared_mb": disk / 1e6}
    return {key: round(value, 1) if isinstance(value, float) else value for key, value in row.items()}


def bench_onmt(corpus: Path, pairs: int, work: Path, steps: int, spm_model: Path) -> Dict[str, float]:
    """OpenNMT-py 3.0.4 on the same corpus and model shape, SentencePiece as its on-the-fly transform."""
    venv = ensure_peers(["opennmt-py"]) / "onmt-venv" / "bin"
    run = work / f"onmt-{pairs}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    base = yaml.safe_load((ROOT.parent / "shared" / "peers" / "onmt_multi30k_lstm.yaml").read_text(encoding="utf-8")
                          .replace("@WORK@", str(run)))
    for key in ("bucket_size", "valid_steps"):
        base.pop(key, None)  # OpenNMT-py's own defaults, as a user with a big corpus gets them
    base.update({"save_data": str(run / "data"), "src_vocab": str(run / "vocab.shared"),
                 "tgt_vocab": str(run / "vocab.shared"), "save_model": str(run / "model"),
                 "data": {"corpus_1": {"path_src": str(corpus / "train.de"), "path_tgt": str(corpus / "train.en"),
                                       "transforms": ["sentencepiece"]}},
                 "src_subword_model": str(spm_model), "tgt_subword_model": str(spm_model),
                 "train_steps": steps, "report_every": 1, "save_checkpoint_steps": 100000})
    cfg = run / "onmt.yaml"
    cfg.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    vocab = measured([str(venv / "onmt_build_vocab"), "-config", str(cfg), "-n_sample", "100000"],
                     run / "build_vocab.log", peer_env())
    train = measured([str(venv / "onmt_train"), "-config", str(cfg)], run / "train.log", peer_env())
    lines = stamped((run / "train.log").read_text(encoding="utf-8", errors="replace"), train["started"])
    step_lines = [(when, line) for when, line in lines if re.search(r"Step +\d+/", line)]
    rates = [float(re.search(r"\d+/\s*(\d+) tok/s", line).group(1)) for _, line in step_lines]
    return {"tool": "opennmt-py 3.0.4", "pairs": pairs, "prepare_seconds": round(vocab["seconds"], 1),
            "first_step_seconds": round(step_lines[0][0] - train["started"], 1), "resume_seconds": None,
            "peak_anon_mb": round(max(train["peak_anon_mb"], vocab["peak_anon_mb"]), 1),
            "resume_peak_anon_mb": None, "peak_rss_mb": round(train["peak_rss_mb"], 1),
            "tokens_per_second": round(statistics.median(rates[1:] or rates), 1),
            "note": "prepare = onmt_build_vocab on 100k sampled pairs; resume not measured; OpenNMT-py's default "
                    "bucket_size (262144 pairs held in memory)"}


def table(rows: Sequence[Dict]) -> str:
    head = ("| tool | pairs | SentencePiece s | prepare s (pairs/s) | first step s | resume: first step s | new run: "
            "first step s | peak anon MB | resume peak anon MB | new run peak anon MB | tgt tokens/s |")
    lines = [head, "|---|" + "---:|" * 10]

    def cell(value, fmt="{:,.0f}"):
        return "—" if value is None else fmt.format(value)

    for r in rows:
        rate = f" ({r['prepare_pairs_per_second']:,.0f})" if r.get("prepare_pairs_per_second") else ""
        lines.append(f"| {r['tool']} | {r['pairs']:,} | {cell(r.get('sentencepiece_seconds'), '{:.1f}')} | "
                     f"{cell(r.get('prepare_seconds'), '{:.1f}')}{rate} | {cell(r['first_step_seconds'], '{:.1f}')} | "
                     f"{cell(r.get('resume_seconds'), '{:.1f}')} | {cell(r.get('new_run_seconds'), '{:.1f}')} | "
                     f"{cell(r['peak_anon_mb'])} | {cell(r.get('resume_peak_anon_mb'))} | "
                     f"{cell(r.get('new_run_peak_anon_mb'))} | {cell(r['tokens_per_second'])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--work", type=Path, default=Path.home() / "seq2seq-scale",
                        help="where the corpora, prepared data and runs go (outside the repository)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--peer-pairs", type=int, default=1_000_000, help="the corpus size OpenNMT-py runs on")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SEQ2SEQ_DATA", "../shared/data")))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = args.work.expanduser().resolve()
    full = write_corpus(args.data.resolve(), work / f"corpus-{max(args.sizes)}", max(args.sizes))
    rows = []
    for pairs in sorted(args.sizes):
        corpus = full if pairs == max(args.sizes) else prefix_corpus(full, work / f"corpus-{pairs}", pairs)
        print(f"seq2seq on {pairs:,} pairs ...", flush=True)
        rows.append(bench_ours(corpus, pairs, work, args.steps))
        print(json.dumps(rows[-1]), flush=True)
        if pairs == args.peer_pairs and not args.no_peer:
            print(f"opennmt-py on {pairs:,} pairs ...", flush=True)
            spm_model = next((work / f"run-{pairs}").glob("spm.*.model"))
            rows.append(bench_onmt(corpus, pairs, work, args.steps, spm_model))
            print(json.dumps(rows[-1]), flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(["python", "tools/scale_bench.py", *sys.argv[1:]]),
                                         "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
