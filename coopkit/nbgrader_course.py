"""Working with a real nbgrader course: submissions in, parallel autograde, checked scores out.

* ``fill_notebook``: a release notebook with the solution cells replaced by
  given module code (how tests and benchmarks make submissions).
* ``notebook_sources``: the exercise code of a submitted notebook, read from
  the file, outside any kernel.
* ``autograde``: ``nbgrader autograde`` for each student, ``jobs`` at a time,
  each in its own process on the shared SQLite gradebook; then every check of
  every student is set to what the sandboxed grader gives the same code, so
  nothing done inside the notebook kernel (patching the checker, deleting
  check cells, killing the kernel) can raise a score, and every student has a
  full row even when nbgrader could not grade the notebook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import grader
from .nbbuild import ASSIGNMENT, NOTEBOOK, RELATIVE_TASK_IMPORT
from .notebook import sources_from_cells
from .paths import Kit


class CourseError(RuntimeError):
    """The course directory is not usable; the message says how to fix it."""


def nbgrader_env() -> dict:
    """nbgrader calls helper programs (alembic): put this environment's bin first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise CourseError(f"nbgrader {' '.join(args)} failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")
    return result


def fill_notebook(release: dict, sources: dict[str, str]) -> dict:
    """A copy of ``release`` whose solution cells hold ``sources`` (module code, by exercise)."""
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and grade_id in sources:
            cell["source"] = RELATIVE_TASK_IMPORT.sub("", sources[grade_id])
    return nb


def notebook_sources(path: Path, kit: Kit) -> dict[str, str]:
    """The exercise modules a notebook defines, in cell order (the latest defining cell wins)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for cell in nb.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append("".join(source) if isinstance(source, list) else str(source))
    return sources_from_cells(cells, kit)


@dataclass
class StudentOutcome:
    student: str
    nbgrader_ok: bool = False
    message: str = ""
    corrected: list[str] = field(default_factory=list)
    report: dict | None = None


def students_of(course: Path, assignment: str) -> list[str]:
    submitted = course / "submitted"
    if not submitted.is_dir():
        raise CourseError(f"{course} has no submitted/ folder: put each student's notebook in submitted/<student>/{assignment}/")
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def _autograde_one(course: Path, assignment: str, student: str) -> tuple[bool, str]:
    args = ["autograde", assignment, "--student", student, "--create", "--force"]
    result = nbgrader(course, *args, check=False)
    if result.returncode != 0 and "database is locked" in (result.stdout + result.stderr):
        result = nbgrader(course, *args, check=False)  # another worker held the gradebook: once more
    log = (result.stderr + result.stdout).strip().splitlines()
    errors = [line for line in log if "ERROR" in line or "Error" in line]
    return result.returncode == 0, (errors[-1] if errors else (log[-1] if log else ""))[:300]


def sandbox_reports(kit: Kit, course: Path, assignment: str, students: list[str], jobs: int) -> dict[str, dict | None]:
    """The sandboxed grader's report for each student's submitted notebook (None: no readable notebook)."""
    folders, reports = {}, {}
    scratch = Path(grader.tempfile.mkdtemp(prefix="coopkit-nbsrc-"))
    try:
        for student in students:
            path = course / "submitted" / student / assignment / NOTEBOOK
            try:
                sources = notebook_sources(path, kit)
            except (OSError, ValueError, AttributeError, TypeError):
                reports[student] = None
                continue
            folder = scratch / student
            folder.mkdir()
            for exercise, source in sources.items():
                (folder / f"{exercise}.py").write_text(source, encoding="utf-8")
            folders[student] = folder
        with grader.GradingRun.create(kit) as run:
            reports.update(grader.grade_folders(run, folders, jobs))
    finally:
        grader.shutil.rmtree(scratch, ignore_errors=True)
    return reports


def reconcile(kit: Kit, course: Path, assignment: str, outcomes: dict[str, StudentOutcome], jobs: int) -> None:
    """Make every student's gradebook scores equal the sandboxed grader's, creating missing rows."""
    from nbgrader.api import Gradebook, MissingEntry

    reports = sandbox_reports(kit, course, assignment, list(outcomes), jobs)
    notebook_id = NOTEBOOK.removesuffix(".ipynb")
    # nbgrader's API trips SQLAlchemy autoflush warnings when a submission row is rebuilt; the rows are right.
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        for student, outcome in outcomes.items():
            outcome.report = reports.get(student)
            gb.update_or_create_student(student)
            try:
                submission = gb.find_submission_notebook(notebook_id, assignment, student)
            except MissingEntry:  # nbgrader could not grade it: give the student a complete row
                try:
                    gb.find_submission(assignment, student)
                    gb.remove_submission(assignment, student)
                except MissingEntry:
                    pass
                gb.add_submission(assignment, student)
                submission = gb.find_submission_notebook(notebook_id, assignment, student)
            for grade in submission.grades:
                exercise, _, check = grade.name.partition("-")
                if not check:
                    continue
                report = outcome.report
                earned = float(report["exercises"][exercise]["checks"][check]["score"]) if report else 0.0
                if grade.auto_score is None or abs(grade.auto_score - earned) > 1e-9:
                    outcome.corrected.append(f"{grade.name}: {grade.auto_score} -> {earned:g}")
                    grade.auto_score = earned
            gb.db.commit()


def autograde(kit: Kit, course: Path, assignment: str = ASSIGNMENT, jobs: int = 1, check_scores: bool = True, on_done=None) -> dict[str, StudentOutcome]:
    """nbgrader autograde for every student, ``jobs`` at a time, then (by default) scores checked against the sandbox."""
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").is_file():
        raise CourseError(f"{course} is not an nbgrader course (no nbgrader_config.py): build one with `coopkit nbgrader build DIR`")
    if not (course / "release" / assignment).is_dir():
        raise CourseError(f"assignment {assignment!r} has no release: run `nbgrader generate_assignment {assignment}` in {course} first")
    students = students_of(course, assignment)
    outcomes = {student: StudentOutcome(student) for student in students}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_autograde_one, course, assignment, student): student for student in students}
        for future in as_completed(futures):
            student = futures[future]
            outcomes[student].nbgrader_ok, outcomes[student].message = future.result()
            if on_done:
                on_done(student, outcomes[student])
    if check_scores:
        reconcile(kit, course, assignment, outcomes, jobs)
    return outcomes
