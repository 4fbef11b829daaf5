"""Notebooks nbgrader could not grade (the cause in one line, a stand-in autograded notebook), and
check cells a student edited.

``why_ungradable`` names the first real cause it finds (a missing notebook,
invalid JSON at line N, an invalid notebook, a deleted, renamed or duplicated
check cell). ``stand_in`` builds the notebook formgrader and
``nbgrader generate_feedback`` show instead: the release notebook with the
student's code in its solution cells, a note with the cause, and every check
cell's output set from the sandboxed grader's report.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import nbformat

from ..instructor.report import one_line
from ..kernels.checks import set_check_cells
from ..notebook import NOTEBOOK_BYTES, nbgrader_meta, strip_relative_imports


def grade_ids(nb) -> list[str]:
    """The grade_ids of a notebook's cells (non-string ids are shown by their repr)."""
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    ids = [nbgrader_meta(cell).get("grade_id") for cell in cells if isinstance(cell, dict)]
    return [grade_id if isinstance(grade_id, str) else ascii(grade_id) for grade_id in ids if grade_id is not None]


def safe_why(path: Path, release) -> str:
    """``why_ungradable``, which never raises: a notebook too odd to examine says so."""
    try:
        return one_line(why_ungradable(path, release))
    except Exception as exc:  # noqa: BLE001 - deep nesting, huge numbers, odd types: one line, never a crash
        return f"the notebook could not be examined ({type(exc).__name__}): open it in Jupyter and save it again"


def why_ungradable(path: Path, release) -> str:
    """The first reason ``path`` cannot be graded as ``release``'s notebook ('' if none is found)."""
    path = Path(path)
    if not path.is_file():
        others = sorted(p.name for p in path.parent.glob("*.ipynb")) if path.parent.is_dir() else []
        found = f"found {', '.join(others)}: rename it to {path.name}" if others else "nothing by that name was submitted"
        return f"no {path.name} in the submission ({found})"
    if path.stat().st_size > NOTEBOOK_BYTES:
        return f"{path.name} is over {NOTEBOOK_BYTES // (1024 * 1024)} MB: clear its outputs and hand it in again"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return f"{path.name} is not UTF-8 text (a notebook is JSON): it was probably damaged in the upload"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): it was damaged by hand-editing or a partial upload"
    try:
        nbformat.validate(nbformat.reads(text, as_version=4))
    except (nbformat.ValidationError, AttributeError, KeyError, TypeError, ValueError) as exc:
        said = str(getattr(exc, "message", exc)).splitlines()[0][:160]
        return f"{path.name} is not a valid notebook ({said}): open it in Jupyter and save it again"
    expected = [grade_id for grade_id in grade_ids(release) if grade_id]
    submitted = Counter(grade_id for grade_id in grade_ids(raw) if grade_id)
    causes = [f"check cell {grade_id} was deleted or its grade_id renamed" for grade_id in expected if grade_id not in submitted]
    causes += [f"a cell has grade_id {grade_id!r}, which the assignment does not have" for grade_id in submitted if grade_id not in expected]
    causes += [f"grade_id {grade_id!r} appears {count} times (a copied cell)" for grade_id, count in submitted.items() if count > 1]
    return "; ".join(causes[:3]) + (f" (and {len(causes) - 3} more)" if len(causes) > 3 else "")


def edited_checks(path: Path, release) -> list[str]:
    """The check cells of a submitted notebook that differ from the release (nbgrader restores them when it
    grades; its own "checksum has changed" warnings also fire for untouched cells, so they cannot tell)."""
    def checks(nb):
        found = {}
        for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and not meta.get("solution"):
                source = cell.get("source", "")
                found[str(meta.get("grade_id"))] = ("".join(map(str, source)) if isinstance(source, list) else str(source)).strip()
        return found

    try:
        mine = checks(json.loads(Path(path).read_text(encoding="utf-8")))
    except Exception:  # noqa: BLE001 - unreadable or odd: nothing to name (why_ungradable speaks for it)
        return []
    return [grade_id for grade_id, source in checks(release).items() if mine.get(grade_id) != source]


def markdown_text(text: str) -> str:
    """Text shown as itself in a markdown cell: HTML escaped, markdown's special characters backslashed."""
    return re.sub(r"([\\`*_{}\[\]()#+!|~-])", r"\\\1", html.escape(one_line(text), quote=False))


def stand_in(release, sources: dict[str, str] | None, report: dict | None, cause: str):
    """The release notebook with ``sources`` in its solution cells and the grader's report in its check cells."""
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and sources and meta.get("grade_id") in sources:
            cell.source = strip_relative_imports(sources[meta["grade_id"]])
    exercises = {cell.metadata.get("nbgrader", {}).get("grade_id", "").partition("-")[0] for cell in nb.cells}
    set_check_cells(nb, {exercise: report for exercise in exercises} if report else {},
                    missing="no exercise code could be read from the submitted notebook")
    note = (f"**coopkit:** nbgrader could not grade the submitted notebook: {markdown_text(cause)}. "
            "The scores below are the sandboxed grader's, on the code read from the submitted file.")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(note, id="coopkit-ungradable-note"))
    return nb
