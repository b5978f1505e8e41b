"""Render a report dict as Markdown (figures beside it) and as self-contained HTML (figures embedded as PNG)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Dict, List

METRIC_NAMES = {"bleu": "BLEU", "chrf": "chrF", "ter": "TER"}


def _mark(p: Any) -> str:
    """p-value with significance stars (* p < 0.05, ** p < 0.01); '—' for the baseline."""
    if p is None:
        return "—"
    stars = "**" if p < 0.01 else "*" if p < 0.05 else ""
    return f"{p:.3f}{stars}"


def score_rows(report: Dict[str, Any]) -> List[List[str]]:
    config_keys = sorted({k for s in report["systems"].values() for k in s["config"]})
    header = ["system", *config_keys]
    for m in METRIC_NAMES.values():
        header += [m, "95% CI", "p"]
    header += ["BP", "len ratio"]
    rows = [header]
    for name, s in report["systems"].items():
        label = f"{name} (baseline)" if name == report["baseline"] else name
        if name == report["best"]:
            label += " ★"
        row = [label, *[s["config"].get(k, "") for k in config_keys]]
        for m in METRIC_NAMES:
            low, high = s[f"{m}_ci"]
            row += [f"{s[m]:.2f}", f"[{low:.2f}, {high:.2f}]", _mark(s["p_values"][m])]
        row += [f"{s['bp']:.3f}", f"{s['length_ratio']:.3f}"]
        rows.append(row)
    return rows


def length_rows(report: Dict[str, Any]) -> List[List[str]]:
    table = report["by_length"]
    rows = [[f"{table['basis']} words", "sentences",
             *[f"{name} {METRIC_NAMES[m]}" for name in table["systems"] for m in ("bleu", "chrf")]]]
    for i, bucket in enumerate(table["buckets"]):
        row = [bucket, str(table["counts"][i])]
        for scores in table["systems"].values():
            row += [f"{scores['bleu'][i]:.2f}", f"{scores['chrf'][i]:.2f}"]
        rows.append(row)
    return rows


def example_rows(examples: List[Dict[str, Any]]) -> List[List[str]]:
    names = list(examples[0]["hypotheses"]) if examples else []
    rows = [["line", "chrF", "source", "reference", *names]]
    for e in examples:
        rows.append([str(e["line"]), f"{e['chrf']:.1f}", e["source"] or "", e["reference"],
                     *[e["hypotheses"][n] for n in names]])
    return rows


def _md_table(rows: List[List[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _sections(report: Dict[str, Any]):
    yield "Scores", score_rows(report)
    yield f"By {report['by_length']['basis']} length", length_rows(report)
    for key, title in (("best", "Best sentences"), ("worst", "Worst sentences"), ("random", "Random sample")):
        yield f"{title} (by {report['examples']['ranked_by']})", example_rows(report["examples"][key])


def _notes(report: Dict[str, Any]) -> List[str]:
    notes = [f"{report['sentences']} test sentences; baseline: {report['baseline']}; best BLEU: {report['best']} ★.",
             f"95% CI: {report['method']['ci']}. p: {report['method']['significance']} against the baseline "
             "(* p < 0.05, ** p < 0.01)."]
    notes += [f"{METRIC_NAMES[m]} signature: {sig}" for m, sig in report["signatures"].items()]
    return notes


def render_markdown(report: Dict[str, Any]) -> str:
    parts = ["# Evaluation report", "", *[f"- {note}" for note in _notes(report)], ""]
    for title, rows in _sections(report):
        parts += [f"## {title}", "", _md_table(rows), ""]
    for figure in report["figures"]:
        parts += [f"## {figure['title']}", "", f"![{figure['title']}]({figure['file']})", ""]
    return "\n".join(parts)


def _html_table(rows: List[List[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee}
li{margin:0.2em 0}code{font-size:0.9em}"""


def render_html(report: Dict[str, Any], folder: Path) -> str:
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Evaluation report</title>",
             f"<style>{STYLE}</style></head><body><h1>Evaluation report</h1><ul>"]
    parts += [f"<li>{html.escape(note)}</li>" for note in _notes(report)]
    parts.append("</ul>")
    for title, rows in _sections(report):
        parts.append(f"<h2>{html.escape(title)}</h2>{_html_table(rows)}")
    for figure in report["figures"]:
        data = base64.b64encode((folder / figure["file"]).read_bytes()).decode("ascii")
        parts.append(f"<h2>{html.escape(figure['title'])}</h2>"
                     f"<img alt='{html.escape(figure['title'])}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)
