"""What the experiment tools share: a preset trained into a run folder through the real command, one training at a
time; a finished run (results.json) is reused and a killed one resumes from its last checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from seq2seq.config import DecodingConfig, EvaluateConfig, Strategy
from seq2seq.data.files import read_lines
from seq2seq.evaluation.run import from_checkpoint
from seq2seq.evaluation.scores import corpus_scores
from seq2seq.runs.folder import RunFolder

ROOT = Path(__file__).resolve().parents[1]


def train_once(preset: str, seed: int, run: Path, overrides: Sequence[str] = (), nproc: int = 1) -> None:
    """Train unless the run has finished; `nproc` > 1 trains data-parallel under torchrun, the cores split
    between the ranks."""
    if RunFolder(run).results.is_file():
        return
    print(f"training {preset} seed {seed} into {run}" + (f" ({nproc} ranks)" if nproc > 1 else ""), flush=True)
    launcher, env = [sys.executable], None
    if nproc > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
        env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // nproc))}
    subprocess.run([*launcher, "-m", "seq2seq.cli.train", f"experiment={preset}", f"trainer.seed={seed}",
                    "trainer.progress=false", *overrides, f"hydra.run.dir={run}"], check=True, cwd=ROOT, env=env)


def test_scores(checkpoint: Path, pair: str | None = None) -> Tuple[List[str], List[str], Dict[str, Any]]:
    """Beam-5 translations of a task's test split by a run's best checkpoint (or a checkpoint folder), the
    references and the scores, through the path of `seq2seq-evaluate checkpoint=... decoding=beam`."""
    cfg = EvaluateConfig(checkpoint=str(checkpoint), pair=pair, attention_plots=0,
                         decoding=DecodingConfig(strategy=Strategy.beam))
    systems = next(iter(from_checkpoint(cfg).values()))
    hyps = systems.hyps[systems.names[0]]
    return hyps, systems.refs, corpus_scores(hyps, systems.refs)


def whole_process_rate(checkpoint: Path, source: Path, decoding: str = "beam") -> float:
    """Sentences per second of `seq2seq-translate` as a user runs it on `source` (start-up, imports, model load,
    SentencePiece and decoding: what the peers' whole-process figures count)."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "seq2seq.cli.translate", f"checkpoint={checkpoint}",
                             f"decoding={decoding}", f"input={source}", "output=/dev/null"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return len(read_lines(source)) / (time.perf_counter() - start)
