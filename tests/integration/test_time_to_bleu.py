"""tools/time_to_bleu.py end to end on a toy preset: two points of the wall clock, JSON and PNG."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, TINY_TOY


@pytest.mark.slow
def test_the_tool_keeps_and_scores_models_at_points_of_the_clock(tmp_path):
    extra = [o for o in TINY_TOY if not o.startswith("experiment=")]
    command = [sys.executable, str(ROOT / "tools" / "time_to_bleu.py"), "--presets", "toy_reverse", "--minutes",
               "0.15", "--points", "0.05", "0.15", "--out", str(tmp_path / "runs"), "--json",
               str(tmp_path / "curves.json"), "--png", str(tmp_path / "curves.png"), *extra,
               "trainer.validate_every=20"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    curves = json.loads((tmp_path / "curves.json").read_text())
    points = curves["runs"]["toy_reverse"]["points"]
    assert [p["minutes"] for p in points] == [0.05, 0.15]
    assert points[0]["step"] < points[1]["step"] and all(0 <= p["bleu"] <= 100 for p in points)
    assert points[-1]["translate_sentences_per_s"] > 0 and "translate_sentences_per_s" not in points[0]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    snapshot = json.loads((tmp_path / "runs" / "toy_reverse" / "snapshots" / "min_0.15" / "state.json").read_text())
    assert snapshot["wall"] >= 0.15 * 60 and snapshot["wall"] > snapshot["elapsed"]  # validation time counts
    # each kept model's scores are kept beside it: a reused run reads them (here made up, to tell), unless they are
    # another model's
    kept = [tmp_path / "runs" / "toy_reverse" / "snapshots" / f"min_{m}" / "test_scores.json" for m in (0.05, 0.15)]
    scores = [json.loads(path.read_text()) for path in kept]
    assert [s["bleu"] for s in scores] == [p["bleu"] for p in points]
    kept[0].write_text(json.dumps({**scores[0], "bleu": 12.5, "model_sha256": "0" * 64}))
    kept[1].write_text(json.dumps({**scores[1], "bleu": 12.5}))
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)  # reuses the run
    assert again.returncode == 0, again.stderr[-2000:]
    reused = json.loads((tmp_path / "curves.json").read_text())
    assert [p["bleu"] for p in reused["runs"]["toy_reverse"]["points"]] == [points[0]["bleu"], 12.5]
    assert [p["step"] for p in reused["runs"]["toy_reverse"]["points"]] == [p["step"] for p in points]
    curves = reused

    def scored(runs):  # the points as scored (the translation speed is timed anew on every invocation)
        return {name: [{k: v for k, v in p.items() if k != "translate_sentences_per_s"} for p in run["points"]]
                for name, run in runs.items()}

    # the finished run is never reused for another recipe: refused, naming the run and the key that changed
    stale = subprocess.run([*command, "trainer.lr=0.5"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert stale.returncode != 0 and "trainer.lr: 0.003 -> 0.5" in stale.stderr
    assert str(tmp_path / "runs" / "toy_reverse") in stale.stderr
    # a named run of the same preset with other settings (here also data-parallel) joins the same JSON beside it
    named = [*command[:4], "--name", "toy_linear", "--nproc", "2", *command[4:], "trainer.schedule=linear",
             "trainer.warmup_steps=10"]
    result = subprocess.run(named, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    both = json.loads((tmp_path / "curves.json").read_text())["runs"]
    assert set(both) == {"toy_reverse", "toy_linear"}
    assert scored(both)["toy_reverse"] == scored(curves["runs"])["toy_reverse"]
    assert "--name toy_linear --nproc 2" in both["toy_linear"]["command"]
    assert "replica weight checksums" in (tmp_path / "runs" / "toy_linear" / "train.log").read_text()
    assert (tmp_path / "runs" / "toy_linear" / "snapshots" / "min_0.15").is_dir()


def test_a_run_config_the_training_command_would_refuse_stops_the_tool_before_any_run(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "time_to_bleu.py"), "--presets", "toy_reverse",
                             "--minutes", "1", "--points", "1", "--out", str(tmp_path / "runs"), "--json",
                             str(tmp_path / "curves.json"), "--png", str(tmp_path / "curves.png"),
                             "model.encoder.dropout=1.5"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "error: toy_reverse: model.encoder.dropout: must be in [0, 1), got 1.5")
    assert not (tmp_path / "runs").exists() and not (tmp_path / "curves.json").exists()
