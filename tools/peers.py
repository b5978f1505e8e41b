"""The peer toolkits of ../shared/peers (JoeyNMT 2.3.0, OpenNMT-py 3.0.4) as the benchmarks run them: their venvs
and data under $WORK (default ~/seq2seq-peers), made on first use by the peers' own scripts, and an OpenNMT-py
training on a wall-clock budget whose weights are kept at fixed minutes of its training loop, as our
`trainer.snapshot_minutes` keeps ours."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from trainings import ROOT

PEERS = ROOT.parent / "shared" / "peers"
VENVS = {"joeynmt": ("run_joey.sh", "joey-venv/bin/joeynmt"), "opennmt-py": ("run_onmt.sh", "onmt-venv/bin/onmt_train")}


def work_dir() -> Path:
    return Path(os.environ.get("WORK", Path.home() / "seq2seq-peers"))


def peer_env(**extra: str) -> Dict[str, str]:
    return {**os.environ, "WORK": str(work_dir()), **extra}


def ensure_peers(names: Sequence[str]) -> Path:
    """The named peers' venvs (their `setup`, about a minute each) and the shared data and SentencePiece model
    (prepare_data.sh, with the OpenNMT-py venv's sentencepiece 0.2.0, the version the peers' README pins)."""
    if not PEERS.is_dir():
        sys.exit(f"{PEERS}: no peer scripts there; the peer comparison needs ../shared/peers beside the checkout")
    work = work_dir()
    for name in names:
        script, binary = VENVS[name]
        if not (work / binary).exists():
            subprocess.run(["bash", str(PEERS / script), "setup"], check=True, env=peer_env())
    if not (work / "data" / "spm8k.model").is_file():
        python = work / "onmt-venv" / "bin" / "python"
        if not python.exists():
            python = work / "joey-venv" / "bin" / "python"
        subprocess.run(["bash", str(PEERS / "prepare_data.sh")], check=True, capture_output=True,
                       env=peer_env(PY=str(python)))
    return work


def segment(model: Path, text: Path) -> Path:
    """The peers' Multi30k text (train, val, test_2016_flickr; en, de) segmented into pieces with `model` as
    prepare_data.sh segments it with theirs: text/SPLIT.sp.LANG, and the model itself as text/spm.model."""
    import sentencepiece

    text.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, text / "spm.model")
    processor = sentencepiece.SentencePieceProcessor(model_file=str(model))
    for split in ("train", "val", "test_2016_flickr"):
        for lang in ("en", "de"):
            lines = (work_dir() / "data" / f"{split}.{lang}").read_text(encoding="utf-8").splitlines()
            pieces = processor.encode(lines, out_type=str)
            (text / f"{split}.sp.{lang}").write_text("".join(" ".join(p) + "\n" for p in pieces), encoding="utf-8")
    return text


def text_of(run: Path) -> Tuple[Path, Path]:
    """The segmented text a peer run trained on and its SentencePiece model: its own (segment) or the peers'."""
    own = run / "text"
    return (own, own / "spm.model") if (own / "spm.model").is_file() else (work_dir() / "data",
                                                                            work_dir() / "data" / "spm8k.model")


def onmt_config(run: Path, seed: int, recipe: Path | None = None) -> Path:
    """The peers' OpenNMT-py config with its files in `run`, a checkpoint every 20 steps (~25 s), no step limit,
    `recipe`'s options over it, and the text of text_of(run)."""
    work = work_dir()
    text = (PEERS / "onmt_multi30k_lstm.yaml").read_text(encoding="utf-8").replace("@WORK@", str(work))
    cfg = yaml.safe_load(text)
    pieces, _ = text_of(run)
    cfg.update({"save_data": str(run / "data"), "src_vocab": str(run / "vocab.shared"),
                "tgt_vocab": str(run / "vocab.shared"), "save_model": str(run / "model"), "seed": seed,
                "save_checkpoint_steps": 20, "keep_checkpoint": 3,
                "data": {"corpus_1": {"path_src": str(pieces / "train.sp.en"), "path_tgt": str(pieces / "train.sp.de")},
                         "valid": {"path_src": str(pieces / "val.sp.en"), "path_tgt": str(pieces / "val.sp.de")}}})
    if recipe is not None:
        cfg.update(yaml.safe_load(recipe.read_text(encoding="utf-8")))
    path = run / "onmt.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def _checkpoints(run: Path) -> Dict[int, float]:
    """step -> modification time of OpenNMT-py's model_step_N.pt files now present."""
    out = {}
    for path in run.glob("model_step_*.pt"):
        try:
            out[int(re.search(r"(\d+)\.pt$", path.name).group(1))] = path.stat().st_mtime
        except (AttributeError, FileNotFoundError):  # rotated away between glob and stat
            continue
    return out


def train_onmt(run: Path, minutes: float, points: List[float], seed: int, recipe: Path | None = None,
               model: Path | None = None) -> Dict[float, int]:
    """OpenNMT-py on the peers' reference config (with `recipe`'s options over it, on text segmented with the
    SentencePiece `model` when given, else the peers' own) for `minutes` of its training loop (from its "Start training
    loop" log line: imports and data loading excluded, as our wall clock excludes ours; validation included), its
    newest complete checkpoint at each point hard-linked to run/snapshots/min_P.pt. Returns point -> step. A run
    finished before (run/points.yaml) is reused; an unfinished one starts again (OpenNMT-py cannot resume on a
    wall clock)."""
    done = run / "points.yaml"
    if done.is_file():
        return {float(k): v for k, v in yaml.safe_load(done.read_text(encoding="utf-8")).items()}
    work = ensure_peers(["opennmt-py"])
    if run.exists():
        shutil.rmtree(run)
    (run / "snapshots").mkdir(parents=True)
    if model is not None:
        segment(model, run / "text")
    cfg = onmt_config(run, seed, recipe)
    venv = work / "onmt-venv" / "bin"
    with open(run / "build_vocab.log", "w", encoding="utf-8") as log:
        subprocess.run([str(venv / "onmt_build_vocab"), "-config", str(cfg), "-n_sample", "-1"], check=True,
                       stdout=log, stderr=subprocess.STDOUT, env=peer_env())
    print(f"training opennmt-py for {minutes:g} minutes into {run}", flush=True)
    taken: Dict[float, int | None] = {}
    # a SIGTERM to this tool (timeout, kill) must still end the training below: it becomes SystemExit
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with open(run / "train.stdout", "w", encoding="utf-8") as out:
        process = subprocess.Popen([str(venv / "onmt_train"), "-config", str(cfg)], stdout=out,
                                   stderr=subprocess.STDOUT, env=peer_env())
        start = None
        try:
            while len(taken) < len(points):
                time.sleep(1.0)
                if process.poll() is not None:
                    sys.exit(f"opennmt-py stopped early (exit {process.returncode}); see {run / 'train.stdout'}")
                if start is None:
                    if "Start training loop" in (run / "train.stdout").read_text(encoding="utf-8", errors="replace"):
                        start = time.time()
                    continue
                for point in points:
                    mark = start + point * 60
                    # a checkpoint last written before the mark, looked for 3 s after it: one still being
                    # written at the mark has a later modification time, so only complete files qualify
                    if point in taken or time.time() < mark + 3:
                        continue
                    ready = [step for step, mtime in _checkpoints(run).items() if mtime <= mark]
                    taken[point] = max(ready) if ready else None  # None: no checkpoint yet, the point is left out
                    if ready:
                        os.link(run / f"model_step_{max(ready)}.pt", run / "snapshots" / f"min_{point:g}.pt")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            signal.signal(signal.SIGTERM, previous)
    for path in run.glob("model_step_*.pt"):
        path.unlink()
    kept = {point: step for point, step in taken.items() if step is not None}
    done.write_text(yaml.safe_dump({f"{k:g}": v for k, v in kept.items()}), encoding="utf-8")
    return kept


def translate_onmt(checkpoint: Path, out: Path, beam: int = 5) -> List[str]:
    """test_2016_flickr en->de by an OpenNMT-py checkpoint as run_onmt.sh decodes it (beam, GNMT length penalty
    alpha 1.0, 64-sentence batches), pieces joined back to text with the SentencePiece model its run trained on."""
    import sentencepiece

    work = work_dir()
    text, model = text_of(checkpoint.parent.parent)  # RUN/snapshots/min_P.pt
    pieces = out.with_suffix(".sp")
    # OpenNMT-py 3.0.4 checkpoints pickle an argparse.Namespace, which torch>=2.6 refuses to load by default
    env = peer_env(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")
    subprocess.run([str(work / "onmt-venv" / "bin" / "onmt_translate"), "-model", str(checkpoint),
                    "-src", str(text / "test_2016_flickr.sp.en"), "-output", str(pieces), "-beam_size", str(beam),
                    "-batch_size", "64", "-batch_type", "sents", "-max_length", "100", "-length_penalty", "wu",
                    "-alpha", "1.0", "-gpu", "-1"], check=True, capture_output=True, env=env)
    processor = sentencepiece.SentencePieceProcessor(model_file=str(model))
    lines = [processor.decode_pieces(line.split()) for line in pieces.read_text(encoding="utf-8").splitlines()]
    out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return lines
