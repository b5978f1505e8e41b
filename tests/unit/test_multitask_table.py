"""tools/multitask_table.py: the ablation rows (a row against the same row without one auxiliary task) and the bar a
gain must pass to be a claim."""

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
    assert x["holds"] == "not yet: 2 of 3 seeds"
    assert "| an auxiliary task | full | ablated | 2, 3 | 33.00 / 29.75 | +3.25 (+0.50, +6.00) | " in table
    assert table.rstrip().endswith("| not yet: 2 of 3 seeds |")


def test_a_gain_holds_from_three_seeds_with_p_below_005_and_above_twice_the_larger_sd():
    holds = multitask_table.holds
    assert holds(4.0, [0.5, 1.2], 0.001, 3) == "yes"
    assert holds(4.0, [0.5, 1.2], 0.001, 2) == "not yet: 2 of 3 seeds"
    assert holds(4.0, [0.5, 1.2], 0.06, 5) == "no: p = 0.060"
    assert holds(2.4, [0.5, 1.2], 0.001, 3) == "no: +2.40 is not above 2 × sd 1.20"  # at the bar: not above it
    assert holds(-1.0, [0.1, 0.2], 0.001, 3).startswith("no: -1.00")
