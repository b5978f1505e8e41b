"""The package's layers import one way: config -> text -> data -> model -> decoding -> runs -> evaluation ->
training -> api -> server -> commands -> cli (plus the leaf modules errors, atomic and layout), so no subpackage
imports one above it and none imports another in a cycle; and only seq2seq.layout spells the names of a run
folder's files."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import seq2seq

PACKAGE = Path(seq2seq.__file__).resolve().parent
LAYERS = ["__init__", "errors", "atomic", "layout", "config", "text", "data", "model", "decoding", "runs", "evaluation",
          "training", "api", "server", "commands", "cli"]
FACADE = {("__init__", "api")}  # `from seq2seq import load`, imported lazily on first use
LEAVES = {"__init__", "errors", "atomic", "layout"}  # below everything, importing nothing of the package's layers


def layer_of(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "seq2seq", module
    return "__init__" if len(parts) == 1 else parts[1].removesuffix(".py")


def imports_by_layer() -> Dict[str, Set[str]]:
    graph: Dict[str, Set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "conf" in path.relative_to(PACKAGE).parts:
            continue
        relative = path.relative_to(PACKAGE).with_suffix("")
        own = layer_of(".".join(("seq2seq", *relative.parts)))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # function-level imports count too
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]  # `from seq2seq import X` names the package itself
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.split(".")[0] == "seq2seq":
                    target = layer_of(name)
                    if target != own:
                        graph.setdefault(own, set()).add(target)
    return graph


def test_every_subpackage_is_a_known_layer():
    found = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").is_file()))}
    assert found <= set(LAYERS), sorted(found - set(LAYERS))


def test_imports_only_go_down_the_layers():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = sorted(f"{a} -> {b}" for a, targets in imports_by_layer().items() for b in targets
                    if rank[b] > rank[a] and not (a in LEAVES and b in LEAVES) and (a, b) not in FACADE)
    assert upward == [], upward


def test_no_import_cycle_between_subpackages():
    graph = imports_by_layer()
    for a, b in FACADE:
        graph[a].discard(b)
    seen: Set[str] = set()

    def visit(node: str, path: list) -> None:
        assert node not in path, " -> ".join([*path[path.index(node):], node])
        if node in seen:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*path, node])
        seen.add(node)

    for start in sorted(graph):
        visit(start, [])


def test_the_checker_reads_the_real_imports():
    rank = {name: i for i, name in enumerate(LAYERS)}
    graph = imports_by_layer()
    assert "config" in graph.get("data", set()) and rank["config"] < rank["data"]  # it reads real imports
    assert "evaluation" in graph.get("training", set())  # training scores validation through evaluation


# what a run folder holds, by name (seq2seq.layout's RunFolder); inside checkpoints/ is seq2seq.runs.checkpoint's
RUN_FILES = {"results.json", "metrics.jsonl", "config.yaml", "overrides.yaml", "train.log"}
RUN_FOLDERS = {"checkpoints", "snapshots", "data", ".hydra"}  # as a path component: run / "data"
RUN_PREFIXES = ("backtranslated.", "spm.", "min_")


def run_folder_names(tree: ast.AST) -> List[str]:
    """Where a module spells a run-folder name: a file name anywhere, a folder name joined onto a path with `/`,
    a name prefix opening a string (f-strings too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value in RUN_FILES or node.value.startswith(RUN_PREFIXES)):
            found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant) \
                and node.right.value in RUN_FOLDERS:
            found.append(f"line {node.lineno}: / {node.right.value!r}")
    return found


def test_only_the_layout_module_spells_a_run_folder_name():
    spelled = {}
    for path in PACKAGE.rglob("*.py"):
        if "conf" in path.relative_to(PACKAGE).parts or path.name == "layout.py":
            continue
        found = run_folder_names(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            spelled[str(path.relative_to(PACKAGE))] = found
    assert spelled == {}, spelled
    # the checker sees what it must: the layout module itself spells every kind
    layout = " ".join(run_folder_names(ast.parse((PACKAGE / "layout.py").read_text(encoding="utf-8"))))
    for name in ("results.json", "'checkpoints'", "'data'", "backtranslated.", "spm.", "min_"):
        assert name in layout, name
