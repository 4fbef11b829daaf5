"""Writing the course's SQLite gradebook from the sandboxed grader's reports (run in an nbgrader worker)."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..manifest import Part


def submitted_timestamp(course: Path, assignment: str, student: str):
    """The submission's timestamp.txt as nbgrader reads it (None without one)."""
    from nbgrader.utils import parse_utc

    stamp = course / "submitted" / student / assignment / "timestamp.txt"
    try:
        return parse_utc(stamp.read_text(encoding="utf-8").strip()) if stamp.is_file() else None
    except (OSError, ValueError):
        return None


def reconcile(course: Path, assignment: Part, reports: dict[str, dict | None], stand_ins: dict[str, str]) -> tuple[dict, dict]:
    """Make every student's gradebook scores equal their sandbox report (None: no code, all zeros), creating
    missing rows; a notebook nbgrader could not grade gets its stand-in (``stand_ins``, notebook JSON) in
    autograded/ and the submission's own timestamp, so formgrader and generate_feedback show it. Each student is
    recorded on their own: one that fails is rolled back and named. Returns ``(corrections, failures)`` by student."""
    from nbgrader.api import Gradebook

    corrected, failed = {}, {}
    late = LatePenalties(course)
    # nbgrader's API trips SQLAlchemy autoflush warnings when a submission row is rebuilt; the rows are right.
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        for student, report in reports.items():
            try:
                corrected[student] = _reconcile_student(gb, course, assignment, student, report, stand_ins.get(student))
                gb.db.commit()
                if student in stand_ins:  # nbgrader's own AssignLatePenalties never ran for this notebook
                    late.assign(gb, assignment, student)
                    gb.db.commit()
            except Exception as exc:  # noqa: BLE001 - one student's row never stops the others'
                gb.db.rollback()
                failed[student] = f"{type(exc).__name__}: {exc}"[:300]
    return corrected, failed


class LatePenalties:
    """The course's own late-submission rule (its nbgrader_config.py), applied as nbgrader's AssignLatePenalties does."""

    def __init__(self, course: Path):
        from nbgrader.preprocessors import AssignLatePenalties
        from traitlets.config.loader import PyFileConfigLoader

        self.assigner = AssignLatePenalties(config=PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config())
        self.assigner.init_plugin()

    def assign(self, gb, assignment: Part, student: str) -> None:
        submitted = gb.find_submission(assignment.assignment, student)
        notebook = gb.find_submission_notebook(assignment.notebook_id, assignment.assignment, student)
        gb.db.refresh(notebook)
        notebook.late_submission_penalty = None
        if submitted.total_seconds_late > 0:
            penalty = self.assigner.plugin_inst.late_submission_penalty(student, notebook.score, submitted.total_seconds_late)
            if penalty is not None:
                notebook.late_submission_penalty = self.assigner._check_late_penalty(notebook, penalty)


def _reconcile_student(gb, course: Path, assignment: Part, student: str, report: dict | None, stand_in_text: str | None) -> list[str]:
    from nbgrader.api import MissingEntry

    notebook_id, name, corrected = assignment.notebook_id, assignment.assignment, []
    gb.update_or_create_student(student)
    try:
        submission = gb.find_submission_notebook(notebook_id, name, student)
    except MissingEntry:  # nbgrader could not grade it: give the student a complete row
        try:
            gb.find_submission(name, student)
            gb.remove_submission(name, student)
        except MissingEntry:
            pass
        gb.add_submission(name, student)
        submission = gb.find_submission_notebook(notebook_id, name, student)
    for grade in submission.grades:
        exercise, _, check = grade.name.partition("-")
        if not check:
            continue
        earned = float(report["exercises"][exercise]["checks"][check]["score"]) if report else 0.0
        if grade.auto_score is None or abs(grade.auto_score - earned) > 1e-9:
            corrected.append(f"{grade.name}: {grade.auto_score} -> {earned:g}")
            grade.auto_score = earned
        grade.needs_manual_grade = False
    if stand_in_text is not None:
        folder = course / "autograded" / student / name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / assignment.notebook
        if target.exists():
            target.chmod(0o644)
        target.write_text(stand_in_text, encoding="ascii")
        gb.update_or_create_submission(name, student, timestamp=submitted_timestamp(course, name, student))
    return corrected


def in_gradebook(course: Path, assignment: str) -> bool:
    """Whether the course's gradebook knows ``assignment`` (nbgrader generate_assignment puts it there)."""
    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            return False
    return True
