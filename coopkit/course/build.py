"""The nbgrader course, built from the kit's sources: lesson pages, solutions and the manifest.

Each part of the kit is one assignment with one notebook (the manifest's
``[[part]]`` tables). The notebook is the lesson: each ``docs/`` page
becomes markdown cells with its ``python`` code blocks as runnable example
cells; then comes the
exercise's solution cell (the reference module with its solution regions,
grade_id = exercise) and one autograded cell per rubric check (grade_id
``<exercise>-<check>``, the check's points). A check cell runs the check's
public tests for the student and, between hidden-test markers, the real
sandboxed grader: no test logic lives in the notebook. Output is plain JSON
with sorted keys and fixed cell ids, so building twice gives the same bytes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..authoring import regions
from ..manifest import ManifestError, Part
from ..notebook import strip_relative_imports
from ..paths import Kit
from .folders import COURSE_ID, COURSE_MODE, make_exchange, untrusted_folder
from .workers import CourseError

_FENCE = re.compile(r"^```python\n(.*?)^```\n?", re.MULTILINE | re.DOTALL)

CONFIG = '''"""nbgrader configuration for the coopkit course (written by `coopkit nbgrader build`)."""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

import os

from coopkit.kernels.execute import SandboxedExecute

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "{course_id}"
# Release, fetch, submit and collect go through this folder: beside the course, for one machine (nbgrader's
# default, /usr/local/share/nbgrader/exchange, needs root to create). On JupyterHub, set it to a folder every
# user can reach, here and in the students' nbgrader config (~/.jupyter/nbgrader_config.py).
c.Exchange.root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange")
# Collect takes only entries each student really handed in: a real folder, owned by that student, no links.
c.ExchangeFactory.collect = "coopkit.course.exchange.TrustedCollect"
# Every notebook runs in a bubblewrap sandbox, and its check cells get the sandboxed grader's scores
# and feedback before nbgrader records them: whoever runs `nbgrader autograde`, the scores are the grader's.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
# A cell's time limit: the check cells only show reports computed outside the kernel.
c.Execute.timeout = {timeout}
c.ClearSolutions.code_stub = {{"python": "# TODO: write your code here\\nraise NotImplementedError()"}}
# Deleted check cells come back, and get their grader's score like every other check cell.
c.OverwriteCells.add_missing_cells = True
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
# formgrader and generate_feedback render submitted notebooks as HTML: sanitized, so a student's markdown or
# output cannot run script in the instructor's browser.
c.HTMLExporter.sanitize_html = True
# `nbgrader zip_collect ASSIGNMENT`: the LMS's download in downloaded/ASSIGNMENT/archive/ (zips are unpacked).
# The student id is the text before the first underscore of a file named <id>_<anything><notebook>.ipynb (Canvas)
# or of a folder named <id>_..._assignsubmission_file_ holding the notebook (Moodle), at the top of the download or
# of one zip in it whose name has no underscore (unzip a download whose name has one). A file found deeper (inside a student's own zip) is skipped, so no upload can file a notebook
# under a classmate's name.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/extracted/(?:[^/_]+/)??(?P<student_id>[^/_]+)_(?:[^/]*?|[^/]*_assignsubmission_file_/[^/]*?)(?P<file_id>{notebooks})\\.ipynb$"
)
'''


def _cell(cell_type: str, source: str, cell_id: str, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": cell_type, "id": cell_id, "metadata": {}, "source": source.strip("\n")}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = {"schema_version": 3, "task": False, **nbgrader}
        if nbgrader.get("locked"):
            cell["metadata"]["editable"] = False
            cell["metadata"]["deletable"] = False
    if cell_type == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def lesson_cells(page: str, prefix: str) -> list[dict]:
    """A markdown page as cells: prose as markdown, ```python blocks as code cells."""
    cells, cursor, n = [], 0, 0
    for match in _FENCE.finditer(page):
        prose = page[cursor : match.start()].strip()
        if prose:
            n += 1
            cells.append(_cell("markdown", prose, f"{prefix}-{n:02d}"))
        n += 1
        cells.append(_cell("code", match.group(1), f"{prefix}-{n:02d}"))
        cursor = match.end()
    rest = page[cursor:].strip()
    if rest:
        n += 1
        cells.append(_cell("markdown", rest, f"{prefix}-{n:02d}"))
    return cells


def solution_cell_source(kit: Kit, exercise: str) -> str:
    """The module's code with its solution regions, using the names of the cells above instead of relative imports."""
    source = kit.solution_file(exercise).read_text(encoding="utf-8")
    regions.find_regions(source, f"solutions/{exercise}.py")
    return strip_relative_imports(source)


def check_cell_source(exercise: str, check) -> str:
    return (
        f"# Check: {exercise} / {check.name} ({check.points} point{'s' * (check.points != 1)})\n"
        f"# {check.summary}\n"
        "# Run this cell to try the public tests of this check on your code above.\n"
        "from coopkit.notebook import check_public, grade_check\n"
        f'check_public("{exercise}", "{check.name}")\n'
        "### BEGIN HIDDEN TESTS\n"
        f'grade_check("{exercise}", "{check.name}")\n'
        "### END HIDDEN TESTS\n"
    )


def timeline_cells() -> list[dict]:
    """A picture of the interleaving: the notebook's own Scheduler, run and drawn step by step."""
    return [
        _cell("markdown", "### See it\n\nThe cell below runs a small workload on *your* `Scheduler` and draws every "
              "step: one row per task, one column per `next()` call. Tasks take turns; C adds task D while it runs; "
              "E fails and is dropped while the others carry on.", "timeline-intro"),
        _cell("code", "from coopkit.student.trace import show\n\nshow(Scheduler)", "timeline"),
    ]


# Cells a manifest exercise may ask for after its check cells (``notebook_extras``).
EXTRAS = {"timeline": timeline_cells}


def notebook(kit: Kit, assignment: Part) -> dict:
    if assignment.intro:
        cells = lesson_cells((kit.root / assignment.intro).read_text(encoding="utf-8"), "intro")
    else:
        cells = [_cell("markdown", assignment.heading, "intro")]
    for exercise in kit.manifest.part(assignment.number).exercises:
        cells += lesson_cells((kit.root / exercise.lesson).read_text(encoding="utf-8"), f"{exercise.name}-lesson")
        cells.append(_cell(
            "markdown",
            f"### Your turn: {exercise.title}\n\nReplace the `# TODO` line and the `raise NotImplementedError(...)` "
            "in the cell below, run it, then run the check cells after it.",
            f"{exercise.name}-task",
        ))
        cells.append(_cell("code", solution_cell_source(kit, exercise.name), exercise.name,
                           {"grade": False, "solution": True, "locked": False, "grade_id": exercise.name}))
        for check in exercise.checks:
            cells.append(_cell("code", check_cell_source(exercise.name, check), check.key,
                               {"grade": True, "solution": False, "locked": True, "grade_id": check.key, "points": check.points}))
        for extra in exercise.notebook_extras:
            if extra not in EXTRAS:
                raise ManifestError(f"exercise {exercise.name}: no notebook extra called {extra!r} (there are: {', '.join(EXTRAS)})")
            cells += EXTRAS[extra]()
    cells.append(_cell("markdown", assignment.closing, "done"))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebook_text(kit: Kit, assignment: Part) -> str:
    return json.dumps(notebook(kit, assignment), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def config_text(kit: Kit) -> str:
    notebooks = "|".join(re.escape(assignment.notebook_id) for assignment in kit.manifest.assignments)
    return CONFIG.format(timeout=int(kit.manifest.exercise_budget * 2), notebooks=notebooks, course_id=COURSE_ID)


def course_files(kit: Kit) -> dict[str, str]:
    """``{relative path: text}`` of a complete nbgrader course directory: one notebook per assignment."""
    files = {"nbgrader_config.py": config_text(kit)}
    for assignment in kit.manifest.assignments:
        files[f"source/{assignment.assignment}/{assignment.notebook}"] = notebook_text(kit, assignment)
    return files


def build(kit: Kit, course_dir: Path) -> list[Path]:
    """Write the course into ``course_dir``, with its exchange folder; returns the files written.

    The course folder is the instructor's alone (mode 700): it holds the solutions, the gradebook and every
    submission, and its config runs as the instructor, so a folder another account owns or could swap (it,
    or a folder above it, writable by others) is refused (``CourseError``). The exchange must exist before
    formgrader opens: its Release and Collect buttons are only offered when nbgrader finds the exchange
    folder writable, and nbgrader does not create it.
    """
    course = Path(course_dir).absolute()
    why = untrusted_folder(course)
    if why:
        raise CourseError(f"{why}, which could change what the course runs as you: build the course in a new folder of your own")
    course.mkdir(parents=True, exist_ok=True)
    course.chmod(COURSE_MODE)
    written = []
    for relative, text in course_files(kit).items():
        path = course / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    make_exchange(course / "exchange")
    return written
