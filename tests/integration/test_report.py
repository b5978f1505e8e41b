"""Evaluation reports: numbers equal sacrebleu's, significance behaves, figures are embedded PNGs, sweeps."""

from __future__ import annotations

import base64
import json
import random
import re

import pytest
from sacrebleu.metrics import BLEU, CHRF, TER

from conftest import TINY_TOY, run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A reference and three systems: good, the same as good, and clearly worse."""
    folder = tmp_path_factory.mktemp("report")
    rng = random.Random(0)
    words = "the a cat dog sat on mat runs in park red blue big small man woman".split()
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 35))) for _ in range(300)]
    good = [" ".join(w if rng.random() < 0.8 else rng.choice(words) for w in r.split()) for r in refs]
    bad = [" ".join(w if rng.random() < 0.5 else rng.choice(words) for w in r.split()) for r in refs]
    for name, lines in (("ref", refs), ("src", refs), ("good", good), ("twin", good), ("bad", bad)):
        (folder / f"{name}.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return folder


def evaluate(folder, *args):
    return run_cli(["seq2seq-evaluate", f"ref={folder / 'ref.txt'}", *args], cwd=folder)


@pytest.mark.slow
def test_report_numbers_equal_sacrebleu_and_significance_behaves(files):
    out = files / "out"
    result = evaluate(files, f"hyps=[{files / 'good.txt'},{files / 'twin.txt'},{files / 'bad.txt'}]",
                      "baseline=good", f"src={files / 'src.txt'}", f"out={out}")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    refs = (files / "ref.txt").read_text().splitlines()
    for name in ("good", "twin", "bad"):
        hyps = (files / f"{name}.txt").read_text().splitlines()
        system = report["systems"][name]
        assert system["bleu"] == round(BLEU().corpus_score(hyps, [refs]).score, 2)
        assert system["chrf"] == round(CHRF().corpus_score(hyps, [refs]).score, 2)
        assert system["ter"] == round(TER().corpus_score(hyps, [refs]).score, 2)
        low, high = system["bleu_ci"]
        assert low <= system["bleu"] <= high
    assert report["systems"]["good"]["p_value"] is None
    assert report["systems"]["twin"]["p_value"] > 0.5  # a system against itself is not significant
    assert report["systems"]["bad"]["p_value"] < 0.01  # a clearly worse one is
    assert report["best"] in ("good", "twin")
    assert report["signatures"]["bleu"].startswith("nrefs:1|case:mixed")
    assert "p=" in result.stdout and "report:" in result.stdout
    md = (out / "report.md").read_text()
    assert "95% CI" in md and "(baseline)" in md and "By source length" in md


def test_every_image_in_the_html_is_an_embedded_png(files):
    out = files / "out2"
    result = evaluate(files, f"hyps=[{files / 'good.txt'},{files / 'bad.txt'}]", f"out={out}")
    assert result.returncode == 0, result.stderr
    html = (out / "report.html").read_text()
    sources = re.findall(r"<img[^>]*src='([^']*)'", html)
    assert sources, "no figures in the report"
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("make, needle", [
    (lambda f: (f / "short.txt").write_text("one line\n"), "short has 1 lines but the reference has 300"),
    (lambda f: (f / "short.txt").write_text(""), "short: the hypothesis file is empty"),
])
def test_bad_hypotheses_leave_no_report(files, make, needle):
    make(files)
    out = files / "never"
    result = evaluate(files, f"hyps=[{files / 'good.txt'},{files / 'short.txt'}]", f"out={out}")
    assert result.returncode == 2 and needle in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not (files / "never.partial").exists()


def test_a_run_folder_without_a_log_is_one_line(tmp_path):
    (tmp_path / "sweep" / "0").mkdir(parents=True)
    result = run_cli(["seq2seq-evaluate", f"sweep={tmp_path / 'sweep'}", f"out={tmp_path / 'r'}"], cwd=tmp_path)
    assert result.returncode == 2 and "no finished runs" in result.stderr


@pytest.mark.slow
def test_a_sweep_of_two_toy_runs_gives_one_report(tmp_path):
    result = run_cli(["seq2seq-train", "-m", *TINY_TOY, "trainer.max_steps=30", "trainer.validate_every=15",
                      "model.decoder.attention=luong_general,bahdanau", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "report"
    result = run_cli(["seq2seq-evaluate", f"sweep={tmp_path / 'sweep'}", f"out={out}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert sorted(report["systems"]) == ["run 0", "run 1"]
    columns = {s["config"]["model.decoder.attention"] for s in report["systems"].values()}
    assert columns == {"luong_general", "bahdanau"}
    assert report["systems"][report["best"]]["p_value"] is None  # the best run is the baseline
    assert any(f["file"] == "learning_curves.png" for f in report["figures"])
    # a run folder that lost its training log: one clear line, and the old report is left as it was
    (tmp_path / "sweep" / "1" / "metrics.jsonl").unlink()
    result = run_cli(["seq2seq-evaluate", f"sweep={tmp_path / 'sweep'}", f"out={out}"], cwd=tmp_path)
    assert result.returncode == 2 and "no metrics.jsonl training log" in result.stderr
    assert json.loads((out / "report.json").read_text()) == report


def test_checkpoint_report_has_attention_and_learning_curves(tmp_path, trained):
    out = tmp_path / "report"
    result = run_cli(["seq2seq-evaluate", f"checkpoint={trained}", "decoding=greedy", f"out={out}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = {f["file"] for f in json.loads((out / "report.json").read_text())["figures"]}
    assert {"by_length.png", "learning_curves.png", "attention_1.png"} <= files
