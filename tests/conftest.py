"""Shared helpers: compose the real configs from conf/, and build tiny models and toy runs."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import List, Sequence

import pytest
import torch

from seq2seq.config import TrainConfig, compose, to_typed

ROOT = Path(__file__).resolve().parents[1]


def compose_config(name: str, overrides: Sequence[str] = (), return_hydra_config: bool = False):
    return compose(name, overrides, return_hydra_config)


def train_config(overrides: Sequence[str] = ()) -> TrainConfig:
    return to_typed(compose_config("train", overrides), TrainConfig)


# A toy run small enough for a unit test: a few hundred steps of a tiny attention model, on the CPU also where a GPU
# is visible (the exact-resume and data-parallel tests compare bits that cuDNN does not reproduce; test_cuda.py
# covers the GPU).
TINY_TOY = [
    "experiment=toy_reverse",
    "data.toy.train_size=600",
    "data.toy.valid_size=20",
    "data.toy.test_size=20",
    "data.toy.max_length=6",
    "model.encoder.embedding_dim=16",
    "model.encoder.hidden_size=16",
    "model.decoder.embedding_dim=16",
    "model.decoder.hidden_size=32",
    "model.encoder.dropout=0.1",
    "model.decoder.dropout=0.1",
    "trainer.batch_tokens=200",
    "trainer.progress=false",
    "trainer.device=cpu",
]

# the deep layout (model=gnmt) at TINY_TOY's sizes, three layers a side (residual connections from the third on)
TINY_GNMT = ["model=gnmt", "model.encoder.layers=3", "model.decoder.layers=3", "model.encoder.embedding_dim=16",
             "model.encoder.hidden_size=16", "model.decoder.embedding_dim=16", "model.decoder.hidden_size=32"]


def run_cli(args: List[str], cwd: Path, stdin: str | None = None, timeout: int = 300,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a console entry point (`python -m seq2seq.cli.X`) the way a user would."""
    command, *rest = args
    module = command.removeprefix("seq2seq-")  # seq2seq-train -> seq2seq.cli.train
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", f"seq2seq.cli.{module}", *rest], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture(autouse=True, scope="session")
def _prepared_corpora(tmp_path_factory):
    """Prepared corpora and SentencePiece models of the whole session in one temporary folder (shared by the tests,
    as runs share them), never in the user's cache; subprocesses inherit it."""
    os.environ["SEQ2SEQ_PREPARED"] = str(tmp_path_factory.mktemp("prepared"))
    yield


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Path:
    """A tiny toy_reverse run trained through the CLI, shared by the tests that translate or evaluate with it."""
    run = tmp_path_factory.mktemp("tiny") / "run"
    result = run_cli(["seq2seq-train", *TINY_TOY, "trainer.max_steps=150", "trainer.validate_every=75",
                      f"hydra.run.dir={run}"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return run


@contextlib.contextmanager
def running_server(checkpoint: Path, *overrides: str):
    """seq2seq-serve's Server on a free loopback port, serving in a thread until the block ends."""
    from seq2seq.config import ServeConfig
    from seq2seq.server import Server

    server = Server(to_typed(compose_config("serve", [f"checkpoint={checkpoint}", "port=0", *overrides]),
                             ServeConfig))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.close()


def post(url: str, body: bytes | dict, timeout: float = 120) -> tuple:
    """(status, JSON answer) of POST URL/translate with `body` (bytes as they are, a dict as JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url + "/translate", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
