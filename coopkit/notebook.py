"""Helpers the coopkit notebook calls from its cells.

The notebook's solution cells hold the same code as the exercise modules. To
test them, the code is taken back out of the kernel's history (the latest
executed cell that defines the exercise's names), written as module files
into a temporary folder, and tested there, outside the kernel:

* ``check_public(exercise, check)``: the public tests of one check, through
  ``coopkit.student.publictests``, with the messages a student gets from `pytest`.
  Skipped while nbgrader autogrades (the hidden suites decide then).
* ``grade_check(exercise, check)``: the exercise's full hidden suite through
  the real sandboxed grader (once per kernel and code version), returning the check's
  points as the cell's value, which nbgrader reads as its score. Needs the
  full kit (instructors' machines).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from textwrap import indent

from .paths import Kit, find_kit
from .states import PASSED
from .student import publictests

IMPORTS_NOTE = "# added by coopkit: in the notebook these names come from the cells above\n"
# A notebook is one namespace: a cell uses the names earlier cells defined, so the modules'
# relative imports are left out of the cells and put back when a cell becomes a module again.
RELATIVE_IMPORT = re.compile(r"^from \.[\w.]* import [^\n]*\n", re.MULTILINE)


def strip_relative_imports(source: str) -> str:
    return RELATIVE_IMPORT.sub("", source)


def leftover_imports(module_source: str) -> list[str]:
    """The relative import lines a cell brought itself (copied from a module file), as ``cell_to_module`` kept them."""
    if module_source.startswith(IMPORTS_NOTE):
        return []
    return [line.rstrip("\n") for line in RELATIVE_IMPORT.findall(module_source)]


class NotebookCheckFailed(AssertionError):
    """A check failed; the message is written for the student."""


def defined_names(source: str) -> set[str]:
    """Top-level functions and classes a piece of code defines."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}


@lru_cache(maxsize=None)
def _exercise_names(kit_root: str) -> dict[str, frozenset[str]]:
    kit = Kit(Path(kit_root))
    return {exercise.name: frozenset(defined_names(kit.stub_file(exercise.name).read_text(encoding="utf-8"))) for exercise in kit.manifest.exercises}


@lru_cache(maxsize=None)
def _relative_imports(kit_root: str) -> dict[str, str]:
    """Each exercise's relative import lines, as its stub (and so its reference module) has them."""
    kit = Kit(Path(kit_root))
    return {e.name: "".join(RELATIVE_IMPORT.findall(kit.stub_file(e.name).read_text(encoding="utf-8"))) for e in kit.manifest.exercises}


def cell_to_module(exercise: str, source: str, kit: Kit | None = None) -> str:
    """A notebook cell's code as the module file the grader expects (kernel history and file agree on it).

    The cell uses the names of the cells above; the module imports them as
    the reference module does, unless the cell brings its own relative imports.
    """
    kit = kit or find_kit()
    source = source.rstrip() + "\n"
    imports = _relative_imports(str(kit.root)).get(exercise, "")
    if imports and not RELATIVE_IMPORT.search(source):
        return IMPORTS_NOTE + imports + source
    return source


def sources_from_cells(cells: list[str], kit: Kit | None = None, part: int | None = None) -> dict[str, str]:
    """``{exercise: module source}`` from cell sources, the latest defining cell winning (only ``part``'s exercises, if given)."""
    kit = kit or find_kit()
    wanted = _exercise_names(str(kit.root))
    if part is not None:
        names = {exercise.name for exercise in kit.manifest.part(part).exercises}
        wanted = {name: required for name, required in wanted.items() if name in names}
    found = {}
    for source in reversed(cells):
        names = defined_names(source)
        for exercise, required in wanted.items():
            if exercise not in found and required and required <= names:
                found[exercise] = cell_to_module(exercise, source, kit)
    return found


# A submitted notebook larger than this is not read (by any path: nbgrader, grade-class, Gradescope).
NOTEBOOK_BYTES = 20 * 1024 * 1024


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata, or ``{}`` when the cell or its metadata is not what nbgrader writes."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    found = meta.get("nbgrader") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def solution_sources(nb: dict, kit: Kit | None = None, part: int | None = None) -> dict[str, str]:
    """``{exercise: module source}`` from a graded notebook: each exercise's solution cell, found by its nbgrader
    grade_id (whatever the cell's type; the first such cell, as nbgrader keeps it), turned into a module. Nothing
    else of the notebook is graded, so code hidden in other cells earns nothing."""
    kit = kit or find_kit()
    exercises = {e.name for e in (kit.manifest.part(part) if part is not None else kit.manifest).exercises}
    found = {}
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if meta.get("solution") is True and isinstance(grade_id, str) and grade_id in exercises and grade_id not in found:
            source = cell.get("source", "")
            source = "".join(part for part in source if isinstance(part, str)) if isinstance(source, list) else str(source)
            found[grade_id] = cell_to_module(grade_id, source, kit)
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
    sources = sources_from_cells(_history(), kit, kit.manifest.exercise(exercise).part)
    if exercise not in sources:
        raise NotebookCheckFailed(f"no cell defines the {exercise} exercise yet: run its code cell first")
    for line in leftover_imports(sources[exercise]):
        print(f"note: delete `{line}` from your {exercise} cell: it is for module files and raises ImportError in a notebook, "
              "where the cells above already define those names.")
    with tempfile.TemporaryDirectory(prefix="coopkit-nb-") as scratch:
        run = publictests.run(kit, exercise, impl=_write_folder(sources, Path(scratch) / "code"))
    if not run.ran:
        raise NotebookCheckFailed(f"{exercise} / {check}: {run.reason}\n{run.output[-1500:]}")
    if run.checks.get((exercise, check)) != PASSED:
        failing = run.failing(exercise, check)
        text = "\n".join(f"[{exercise}.{check}] {t.title}\n" + indent(t.message.strip(), "  ") for t in failing)
        raise NotebookCheckFailed(f"{exercise} / {check}: " + (f"a public test fails\n{text}" if failing else "no public test of this check ran"))
    print(f"{exercise} / {check}: the public tests pass (the hidden tests check more when your notebook is graded)")
    return None


_graded: dict[str, dict] = {}


def report_key(exercise: str, source: str | None, part: int = 1) -> str:
    """The cache key of one exercise's code graded as ``part`` (an exercise's grade depends on its own file only)."""
    return hashlib.sha256(repr((part, exercise, source)).encode()).hexdigest()


def exercise_report(exercise: str, source: str | None, kit: Kit | None = None, part: int = 1) -> dict:
    """The sandboxed grader's report on one exercise's code (``None``: no cell defines it), cached by content.

    While nbgrader autogrades, the kernel runs in a sandbox and the reports
    were computed outside it (see ``coopkit.kernels``): they are read from
    $COOPKIT_REPORT_CACHE, and the check cells' outputs are replaced by the
    grader's own afterwards, so a forged report changes nothing.
    """
    from . import grading

    kit = kit or find_kit()
    key = report_key(exercise, source, part)
    cache = os.environ.get("COOPKIT_REPORT_CACHE")
    if key not in _graded and cache:
        if not (Path(cache) / f"{key}.json").is_file():
            raise NotebookCheckFailed(f"{exercise}: this kernel ran other code than the notebook file holds; the grader's score for the file replaces this cell's output")
        _graded[key] = json.loads((Path(cache) / f"{key}.json").read_text(encoding="utf-8"))
    if key not in _graded:
        with tempfile.TemporaryDirectory(prefix="coopkit-nb-") as scratch:
            folder = _write_folder({} if source is None else {exercise: source}, Path(scratch) / "notebook")
            with grading.GradingRun.create(kit, part=part) as run:
                _graded[key] = grading.grade_folders(run, {"notebook": folder}, jobs=1)["notebook"]
    return _graded[key]


def grade_check(exercise: str, check: str) -> float:
    """The points this notebook earns for one rubric check, printed with its feedback."""
    kit = find_kit()
    part = kit.manifest.exercise(exercise).part
    source = sources_from_cells(_history(), kit, part).get(exercise)
    result = exercise_report(exercise, source, kit, part)["exercises"][exercise]["checks"][check]
    print(f"{exercise} / {check}: {result['score']}/{result['max_score']} points")
    print(result["feedback"])
    return float(result["score"])
