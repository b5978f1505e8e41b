"""The CUDA path: training (float32 and bf16 autocast), resuming, and translating on a GPU, and a GPU-trained run
translated on the CPU. Skipped where no CUDA GPU is visible (CI); on a GPU machine these and every other test
marked `gpu` (back-translation on CUDA, in test_task_data.py):

    SEQ2SEQ_DATA=../shared/data python -m pytest -m gpu
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, TINY_TOY, run_cli

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_toy_reversal_learns_on_the_gpu(tmp_path, precision):
    """The shipped toy_reverse experiment (BLEU >= 95 on the CPU) must learn on the GPU too, in both precisions."""
    run = tmp_path / "run"
    done = run_cli(["seq2seq-train", "experiment=toy_reverse", "trainer.progress=false", "trainer.device=cuda",
                    f"trainer.precision={precision}", f"hydra.run.dir={run}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((run / "results.json").read_text())
    assert results["tasks"]["in-reverse"]["bleu"] >= 90, results["tasks"]


def test_a_gpu_run_resumes_and_translates_on_the_gpu_and_the_cpu(tmp_path):
    """A run stopped at step 40 and continued to 80 on the GPU ends where one uninterrupted run ends (up to the
    last bits cuDNN does not reproduce); its checkpoint translates on the CPU as on the GPU."""
    args = ["seq2seq-train", *TINY_TOY, "trainer.device=cuda", "trainer.checkpoint_every=20",
            "trainer.validate_every=40", "model.encoder.dropout=0.0", "model.decoder.dropout=0.0"]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    for run, steps in ((straight, [80]), (resumed, [40, 80])):
        for max_steps in steps:
            done = run_cli([*args, f"trainer.max_steps={max_steps}", f"hydra.run.dir={run}"], cwd=tmp_path)
            assert done.returncode == 0, done.stderr
    for run in (straight, resumed):
        assert (run / "checkpoints" / "latest").read_text().strip() == "step_0000080"
    a = json.loads((straight / "results.json").read_text())["tasks"]["in-reverse"]["bleu"]
    b = json.loads((resumed / "results.json").read_text())["tasks"]["in-reverse"]["bleu"]
    assert abs(a - b) < 5.0, (a, b)

    source = "".join(" ".join("abcdefgh"[(i * 3 + j) % 8] for j in range(2 + i % 4)) + "\n" for i in range(40))
    outputs = {}
    for device in ("cuda", "cpu"):
        done = run_cli(["seq2seq-translate", f"checkpoint={straight}", "decoding=beam", f"device={device}"],
                       cwd=tmp_path, stdin=source)
        assert done.returncode == 0, done.stderr
        outputs[device] = done.stdout.splitlines()
    assert len(outputs["cuda"]) == len(outputs["cpu"]) == 40
    same = sum(x == y for x, y in zip(outputs["cuda"], outputs["cpu"]))
    assert same >= 36, (same, outputs)  # float sums in another order may flip a near-tie, not most outputs


def test_the_curve_tool_trains_and_scores_on_the_gpu(tmp_path):
    """tools/time_to_bleu.py runs unchanged on CUDA: a toy preset, two points, scored with beam 5 there."""
    out = tmp_path / "curves"
    extra = [o for o in TINY_TOY if not o.startswith("experiment=")]
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "time_to_bleu.py"), "--presets", "toy_reverse", "--minutes", "0.3",
         "--points", "0.15", "0.3", "--out", str(out), "--json", str(out / "t.json"), "--png", str(out / "t.png"),
         *extra, "trainer.device=cuda", "trainer.validate_every=100"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "t.json").read_text())
    assert report["device"] == torch.cuda.get_device_name()
    points = report["runs"]["toy_reverse"]["points"]
    assert [p["minutes"] for p in points] == [0.15, 0.3] and points[0]["step"] < points[1]["step"]
    assert "device: cuda" in (out / "toy_reverse" / "train.log").read_text()


def test_more_processes_than_gpus_is_a_clear_error(tmp_path):
    cards = torch.cuda.device_count()
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                             f"--nproc_per_node={cards + 1}", "-m", "seq2seq.cli.train", *TINY_TOY,
                             "trainer.device=cuda", "trainer.max_steps=4", f"hydra.run.dir={tmp_path / 'run'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert f"{cards} CUDA GPU(s)" in result.stderr and "trainer.device=cpu" in result.stderr


def test_the_deep_model_scores_alike_fused_and_step_by_step_on_the_gpu():
    """model=gnmt's cuDNN-fused teacher forcing and its one-position steps give the same scores on the GPU."""
    from helpers import GNMT, fused_and_stepped, tiny_model

    total, stepped = fused_and_stepped(tiny_model(**GNMT).cuda(), "cuda")
    assert stepped == pytest.approx(total, rel=1e-4)
