"""What the experiment tools share: a preset trained into a run folder through the real command, one training at a
time; a finished run (results.json) is reused and a killed one resumes from its last checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from omegaconf import OmegaConf

import seq2seq
from seq2seq.cli.common import CONFIG_ERRORS, describe_config_error
from seq2seq.commands.evaluate import from_checkpoint
from seq2seq.config import DecodingConfig, EvaluateConfig, Strategy, TrainConfig, compose, config_dict, to_typed
from seq2seq.config.changes import config_changes, trained_keys
from seq2seq.data.files import read_lines
from seq2seq.evaluation.scores import corpus_scores
from seq2seq.layout import RunFolder

ROOT = Path(__file__).resolve().parents[1]
if Path(seq2seq.__file__).resolve().parents[1] != ROOT:
    # Trainings and decodings run `python -m seq2seq...` from ROOT, i.e. with this checkout's package; a tool that
    # composed and scored with another one (a second worktree's editable install) would mix two versions of the code.
    sys.exit(f"{Path(sys.argv[0]).name}: imports seq2seq from {Path(seq2seq.__file__).parent}, but its trainings "
             f"run this checkout's ({ROOT / 'seq2seq'}); run it with PYTHONPATH={ROOT} (or pip install -e {ROOT})")


def command_overrides(preset: str, seed: int, overrides: Sequence[str] = ()) -> List[str]:
    """What `train_once` gives the training command (and `trained_config` composes, so the two cannot drift)."""
    return [f"experiment={preset}", f"trainer.seed={seed}", "trainer.progress=false", *overrides]


def command_config(preset: str, seed: int, overrides: Sequence[str] = ()) -> TrainConfig:
    """The typed training config `train_once` gives a run."""
    return to_typed(compose("train", command_overrides(preset, seed, overrides)), TrainConfig)


def config_problem(preset: str, seed: int, overrides: Sequence[str] = ()) -> str | None:
    """Why the training command would refuse the config `train_once` gives a run (a key the preset lacks, a bad
    value), in the command's own one line; None if it composes and validates. A tool checks every run it may train
    before the first, as the commands check their command line before any work."""
    try:
        command_config(preset, seed, overrides)
    except CONFIG_ERRORS as err:
        return describe_config_error(err)
    return None


def trained_config(preset: str, seed: int, overrides: Sequence[str] = ()) -> Dict[str, Any]:
    """The training config `train_once` gives a run, flattened to dotted keys, without the UNTRAINED ones."""
    return comparable(command_config(preset, seed, overrides))


def comparable(cfg: TrainConfig) -> Dict[str, Any]:
    """A typed training config as {dotted key: value}, the keys that do not change what a run learns left out."""
    return trained_keys(config_dict(cfg))


def refuse_stale(what: Path, made: Dict[str, Any], preset: str, wanted: Dict[str, Any],
                 fix: str = "delete it to train the preset as it is, or train under another name") -> None:
    """Stop, naming the keys, when a finished or killed run (or a record) was made with another config than the
    preset and overrides compose to now: reusing it would put an old recipe's numbers under the new one."""
    changes = config_changes(made, wanted)
    if changes:
        shown = "; ".join(changes[:4]) + (f"; and {len(changes) - 4} more" if len(changes) > 4 else "")
        sys.exit(f"{what}: made with another config than {preset} gives now ({shown}); {fix}")


def train_once(preset: str, seed: int, run: Path, overrides: Sequence[str] = (), nproc: int = 1) -> None:
    """Train unless the run has finished; `nproc` > 1 trains data-parallel under torchrun, the cores split
    between the ranks. A finished or killed run made with another config is refused (refuse_stale)."""
    made = run / ".hydra" / "config.yaml"
    if made.is_file():
        refuse_stale(run, comparable(to_typed(OmegaConf.load(made), TrainConfig)), preset,
                     trained_config(preset, seed, overrides))
    if RunFolder(run).results.is_file():
        return
    print(f"training {preset} seed {seed} into {run}" + (f" ({nproc} ranks)" if nproc > 1 else ""), flush=True)
    launcher, env = [sys.executable], None
    if nproc > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
        env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // nproc))}
    subprocess.run([*launcher, "-m", "seq2seq.cli.train", *command_overrides(preset, seed, overrides),
                    f"hydra.run.dir={run}"], check=True, cwd=ROOT, env=env)


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
