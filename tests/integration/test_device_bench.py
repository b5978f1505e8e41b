"""tools/bench.py --table (the GPU benchmark), run on the CPU at toy sizes: a row per model, batch and precision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

DATA = Path(os.environ.get("SEQ2SEQ_DATA", ROOT.parent / "shared" / "data"))
TINY = ["model.encoder.embedding_dim=16", "model.encoder.hidden_size=16", "model.decoder.embedding_dim=16",
        "model.decoder.hidden_size=32"]


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "multi30k").is_dir() or not (DATA / "tatoeba-deu-eng").is_dir(),
                    reason="Multi30k and tatoeba-deu-eng not under SEQ2SEQ_DATA")
def test_the_device_table_has_a_row_per_model_batch_and_precision(tmp_path, trained):
    sys.path.insert(0, str(ROOT / "tools"))
    from scale_corpus import write_corpus

    corpus = write_corpus(DATA, tmp_path / "corpus", 2000)
    table = tmp_path / "table.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench.py"), "--table", str(table), "--device", "cpu", "--corpus",
         str(corpus), "--vocab-size", "300", "--batches", "300", "600", "--deep-batch", "600", "--precisions",
         "fp32", "--steps", "2", "--warmup", "1", "--threads", "1", "--checkpoint", str(trained), "--override", *TINY,
         "--deep-override", "model.encoder.layers=3", "model.decoder.layers=3"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(table.read_text())
    assert out["device"].startswith("cpu") and out["torch"]
    rows = out["rows"]
    assert [(r["model"], r["batch_tokens"], r["precision"]) for r in rows] == [
        ("reference", 300, "fp32"), ("reference", 600, "fp32"), ("deep", 600, "fp32")]
    for row in rows:
        assert row["tool"] == "seq2seq"
        assert row["train_tokens_per_second"] > row["train_tgt_tokens_per_second"] > 0
    deep, reference = rows[2], rows[0]
    assert deep["parameters"] > reference["parameters"]  # three layers a side against one
    assert reference["beam5_sentences_per_second"] > 0 and reference["greedy_sentences_per_second"] > 0
    assert deep["beam5_sentences_per_second"] is None  # no trained deep run given: no decoding figure
