"""tools/multitask_table.py's ablation rows: a row against the same row without one auxiliary task."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import multitask_table  # noqa: E402

REFS = [f"a man rides a horse number {i} down the road" for i in range(40)]
WORSE = [f"a man sits number {i}" for i in range(40)]


def write(records, name, seed, hyps):
    multitask_table.write_record(multitask_table.record_path(records, name, seed), {"hyps": hyps})


def test_an_ablation_pairs_the_seeds_both_rows_have_and_tests_the_median_difference(tmp_path, monkeypatch):
    monkeypatch.setattr(multitask_table, "references", lambda preset, task: REFS)
    row = {"baseline": "base", "task": "de-en", "variant": ""}
    rows = [{**row, "preset": "full", "seeds": [1, 2, 3], "bleu": [30.0, 31.0, 35.0]},
            {**row, "preset": "ablated", "seeds": [3, 2], "bleu": [29.0, 30.5]}]
    write(tmp_path, "full", 3, REFS)  # the median difference's seed (+6.0 on seed 3, +0.5 on seed 2: median +6.0)
    write(tmp_path, "ablated", 3, WORSE)
    x = multitask_table.ablation_of(rows, tmp_path, "full", "ablated", "an auxiliary task")
    assert x["seeds"] == [2, 3] and x["delta"] == [0.5, 6.0] and x["delta_mean"] == 3.25
    assert x["bleu"] == [31.0, 35.0] and x["without_bleu"] == [30.5, 29.0]
    assert x["p_seed"] == 3 and x["p_value"] < 0.05  # perfect translations against much worse ones
    assert multitask_table.ablation_of(rows, tmp_path, "full", "never trained", "x") is None
    table = multitask_table.ablations_markdown([x])
    assert "| an auxiliary task | full | ablated | 2, 3 | 33.00 / 29.75 | +3.25 (+0.50, +6.00) |" in table
