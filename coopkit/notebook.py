"""Helpers the coopkit notebook calls from its cells.

The notebook's solution cells hold the same code as the exercise modules. To
test them, the code is taken back out of the kernel's history (the latest
executed cell that defines the exercise's names), written as module files
into a temporary folder, and tested there, outside the kernel:

* ``check_public(exercise, check)``: the public tests of one check, in a
  pytest subprocess, with the friendly messages a student gets from `pytest`.
  Skipped while nbgrader autogrades (the hidden suites decide then).
* ``grade_check(exercise, check)``: the full hidden suite through the real
  sandboxed grader (once per kernel and code version), returning the check's
  points as the cell's value, which nbgrader reads as its score. Needs the
  full kit (instructors' machines).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from .paths import Kit, find_kit

SCHEDULER_IMPORT = "from .task import Task  # added by coopkit: in the notebook, Task comes from the cell above\n"


class NotebookCheckFailed(AssertionError):
    """A check failed; the message is written for the student."""


def defined_names(source: str) -> set[str]:
    """Top-level functions and classes a piece of code defines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}


@lru_cache(maxsize=None)
def _exercise_names(kit_root: str) -> dict[str, frozenset[str]]:
    kit = Kit(Path(kit_root))
    return {exercise.name: frozenset(defined_names(kit.stub_file(exercise.name).read_text(encoding="utf-8"))) for exercise in kit.manifest.exercises}


def cell_to_module(exercise: str, source: str) -> str:
    """A notebook cell's code as the module file the grader expects (kernel history and file agree on it)."""
    source = source.rstrip() + "\n"
    if exercise == "scheduler" and "import Task" not in source:
        return SCHEDULER_IMPORT + source
    return source


def sources_from_cells(cells: list[str], kit: Kit | None = None) -> dict[str, str]:
    """``{exercise: module source}`` from cell sources, the latest defining cell winning."""
    kit = kit or find_kit()
    wanted = _exercise_names(str(kit.root))
    found = {}
    for source in reversed(cells):
        names = defined_names(source)
        for exercise, required in wanted.items():
            if exercise not in found and required and required <= names:
                found[exercise] = cell_to_module(exercise, source)
    return found


def _history() -> list[str]:
    try:
        shell = get_ipython()  # noqa: F821 - defined inside IPython kernels
    except NameError:
        raise NotebookCheckFailed("these checks run inside a Jupyter notebook (IPython kernel)") from None
    return [cell for cell in shell.user_ns.get("In", []) if isinstance(cell, str)]


def _write_folder(sources: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for exercise, source in sources.items():
        (folder / f"{exercise}.py").write_text(source, encoding="utf-8")
    return folder


def check_public(exercise: str, check: str) -> None:
    """Run this check's public tests on the notebook's code and print what happened."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        return None
    kit = find_kit()
    sources = sources_from_cells(_history(), kit)
    if exercise not in sources:
        raise NotebookCheckFailed(f"no cell defines the {exercise} exercise yet: run its code cell first")
    with tempfile.TemporaryDirectory(prefix="coopkit-nb-") as scratch:
        folder = _write_folder(sources, Path(scratch) / "code")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", str(kit.public_test_file(exercise)), "--impl", str(folder), "-q", "--no-header"],
            cwd=kit.root, capture_output=True, text=True,
        )
    out = result.stdout
    state = re.search(rf"^\s*(\S) {re.escape(exercise)}\s+{re.escape(check)}\s", out, re.MULTILINE)
    if state is None:
        raise NotebookCheckFailed(f"{exercise} / {check}: the public tests could not run:\n{(out + result.stderr)[-1500:]}")
    if state.group(1) != "✔":
        blocks = [block for block in out.split("\n_") if f"[{exercise}.{check}]" in block]
        text = "\n".join(line for block in blocks for line in block.splitlines()[1:] if line.strip() and not line.startswith("="))
        raise NotebookCheckFailed(f"{exercise} / {check}: a public test fails\n{text}")
    print(f"{exercise} / {check}: the public tests pass (the hidden tests check more when your notebook is graded)")
    return None


_graded: dict[str, dict] = {}


def report_key(sources: dict[str, str]) -> str:
    """The cache key of a set of module sources."""
    return hashlib.sha256(repr(sorted(sources.items())).encode()).hexdigest()


def grade_sources(sources: dict[str, str], kit: Kit | None = None) -> dict:
    """The sandboxed grader's report for these module sources (cached by content).

    Under ``coopkit nbgrader autograde`` the reports were computed before the
    kernels started and are read from $COOPKIT_REPORT_CACHE; the gradebook is
    set from the grader's own copy afterwards, so a forged cache file changes
    nothing but the forger's own feedback.
    """
    from . import grader

    kit = kit or find_kit()
    key = report_key(sources)
    cache = os.environ.get("COOPKIT_REPORT_CACHE")
    if key not in _graded and cache and (Path(cache) / f"{key}.json").is_file():
        _graded[key] = json.loads((Path(cache) / f"{key}.json").read_text(encoding="utf-8"))
    if key not in _graded:
        with tempfile.TemporaryDirectory(prefix="coopkit-nb-") as scratch:
            folder = _write_folder(sources, Path(scratch) / "notebook")
            with grader.GradingRun.create(kit) as run:
                _graded[key] = grader.grade_folders(run, {"notebook": folder}, jobs=os.cpu_count() or 1)["notebook"]
    return _graded[key]


def grade_check(exercise: str, check: str) -> float:
    """The points this notebook earns for one rubric check, printed with its feedback."""
    report = grade_sources(sources_from_cells(_history()))
    data = report["exercises"][exercise]
    result = data["checks"][check]
    print(f"{exercise} / {check}: {result['score']}/{result['max_score']} points")
    print(result["feedback"])
    return float(result["score"])
