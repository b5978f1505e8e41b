"""The console commands end to end in a temporary folder (their errors for user mistakes: test_bad_input.py)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, TINY_TOY, run_cli


def test_train_writes_the_run_folder(trained):
    for name in ("results.json", "train.log", "metrics.jsonl", ".hydra/config.yaml", "spm.in-reverse.model",
                 "checkpoints/best/model.safetensors", "checkpoints/best/state.json", "checkpoints/latest"):
        assert (trained / name).exists(), name
    results = json.loads((trained / "results.json").read_text())
    task = results["tasks"]["in-reverse"]
    assert {"bleu", "chrf", "ter", "signature"} <= set(task)
    assert results["parameters"]["encoders"]["in"] > 0 and results["parameters"]["decoders"]["reverse"] > 0
    assert "validation step 75" in (trained / "train.log").read_text()


def test_rerunning_a_finished_run_resumes_instead_of_retraining(trained):
    before = (trained / "checkpoints" / "latest").read_text()
    result = run_cli(["seq2seq-train", *TINY_TOY, "trainer.max_steps=150", "trainer.validate_every=75",
                      f"hydra.run.dir={trained}"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (trained / "checkpoints" / "latest").read_text() == before
    assert "resumed from" in (trained / "train.log").read_text()


def test_train_reports_a_task_without_a_test_split_as_trained_only(tmp_path):
    tasks = ("tasks=[{name: in-reverse, src: in, tgt: reverse, encoder: in, decoder: reverse},"
             "{name: ae, src: reverse, tgt: reverse, encoder: ae, decoder: reverse, data: {valid: '', test: ''}}]")
    result = run_cli(["seq2seq-train", *TINY_TOY, tasks, "trainer.max_steps=20", "trainer.validate_every=20",
                      f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("in-reverse: BLEU ") for line in lines), lines
    assert "ae: trained on 600 pairs, not tested (no test split)" in lines


@pytest.mark.parametrize("decoding", ["greedy", "beam", "sample"])
def test_translate_keeps_one_line_per_line_and_empty_lines(trained, decoding):
    source = "a b c\n\n   \nd e f g h\n"
    result = run_cli(["seq2seq-translate", f"checkpoint={trained}", f"decoding={decoding}"], cwd=ROOT,
                     stdin=source)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert len(lines) == 5 and lines[-1] == ""  # four lines, each ended by a newline
    assert lines[1] == "" and lines[2] == ""
    assert lines[0] and lines[3]


def test_translate_files_and_n_best(trained, tmp_path):
    (tmp_path / "in.txt").write_text("a b c\nd e\n", encoding="utf-8")
    result = run_cli(["seq2seq-translate", f"checkpoint={trained}", f"input={tmp_path / 'in.txt'}",
                      f"output={tmp_path / 'out.txt'}", "decoding=beam", "decoding.n_best=3"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
    assert [r.split(" ||| ")[0] for r in rows] == ["0", "0", "0", "1", "1", "1"]
    scores = [float(r.split(" ||| ")[2]) for r in rows[:3]]
    assert scores == sorted(scores, reverse=True)
    tabbed = run_cli(["seq2seq-translate", f"checkpoint={trained}", f"input={tmp_path / 'in.txt'}",
                      "decoding=beam", "decoding.n_best=3", "decoding.output_scores=true"], cwd=ROOT)
    assert tabbed.returncode == 0, tabbed.stderr
    assert [r.split("\t") for r in tabbed.stdout.splitlines()] == [r.split(" ||| ") for r in rows]
    one_best = run_cli(["seq2seq-translate", f"checkpoint={trained}", f"input={tmp_path / 'in.txt'}",
                        "decoding=beam", "decoding.output_scores=true"], cwd=ROOT)
    assert [r.split("\t") for r in one_best.stdout.splitlines()] == [r.split(" ||| ")[1:] for r in rows[::3]]


def test_evaluate_scores_files_and_checkpoints(trained, tmp_path):
    ref = trained / "data" / "test.reverse"
    hyp = next(trained.glob("test.in-reverse.hyp.reverse"))
    out = tmp_path / "scores.json"
    result = run_cli(["seq2seq-evaluate", f"ref={ref}", f"hyp={hyp}", f"json={out}"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "BLEU" in result.stdout and "nrefs:1|case:mixed" in result.stdout and "chrF" in result.stdout
    scores = json.loads(out.read_text())[hyp.stem]
    results = json.loads((trained / "results.json").read_text())["tasks"]["in-reverse"]
    assert scores["bleu"] == results["bleu"] and scores["chrf"] == results["chrf"]
    from_checkpoint = run_cli(["seq2seq-evaluate", f"checkpoint={trained}", "decoding=greedy"], cwd=ROOT)
    assert from_checkpoint.returncode == 0, from_checkpoint.stderr
    assert "TER" in from_checkpoint.stdout


def test_prepare_ahead_then_train_reads_what_was_prepared(tmp_path):
    """seq2seq-prepare with a run's overrides makes what the run reads: the run then encodes nothing itself."""
    env = {"SEQ2SEQ_PREPARED": str(tmp_path / "prepared")}
    overrides = [*TINY_TOY, "data.toy.seed=11", "trainer.max_steps=4", "trainer.validate_every=4"]
    prepared = run_cli(["seq2seq-prepare", *overrides], cwd=ROOT, env=env)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.startswith("in-reverse: 600 training pairs") and "pairs in" in prepared.stderr
    run = run_cli(["seq2seq-train", *overrides, f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, env=env)
    assert run.returncode == 0, run.stderr
    log = (tmp_path / "run" / "train.log").read_text()
    assert "pairs in" not in log and "SentencePiece spm" not in log  # neither trained nor encoded again
    assert f"prepared in {tmp_path / 'prepared'}" in log


def test_prepare_refuses_a_back_translated_task_in_one_line(tmp_path):
    result = run_cli(["seq2seq-prepare", *TINY_TOY, "data.back_translation=somewhere"], cwd=ROOT)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "data.back_translation: its sources" in result.stderr
