"""Working with a real nbgrader course: submissions in, parallel autograde, checked scores out.

* ``fill_notebook``: a release notebook with the solution cells replaced by
  given module code (how tests and benchmarks make submissions).
* ``notebook_sources``: the exercise code of a submitted notebook, read from
  the file, outside any kernel.
* ``autograde``: first the sandboxed grader grades every notebook's code
  (read from the file, ``jobs`` sandboxes at a time) and leaves the reports
  where the course's ``SandboxedExecute`` finds them; then ``jobs`` nbgrader
  workers, each one process over its share of the students (forked from a
  server that imported nbgrader once), autograde on the shared SQLite
  gradebook, every kernel in a sandbox and every check cell showing the
  grader's report (see ``coopkit.kernels``); last, the gradebook is checked
  against the grader's reports, and a notebook nbgrader could not grade gets
  its cause in one line, a stand-in autograded notebook and a full row.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .. import grading
from ..instructor.report import one_line
from ..kernels.checks import exercise_slice
from ..manifest import ManifestError, Part
from ..notebook import NOTEBOOK_BYTES, solution_sources, strip_relative_imports
from ..paths import Kit
from .gradebook import in_gradebook, reconcile
from .ungradable import edited_checks, safe_why, stand_in
from .workers import CourseError, in_fresh_worker, run_nbgrader_here


def fill_notebook(release: dict, sources: dict[str, str]) -> dict:
    """A copy of ``release`` whose solution cells hold ``sources`` (module code, by exercise)."""
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and grade_id in sources:
            cell["source"] = strip_relative_imports(sources[grade_id])
    return nb




def notebook_sources(path: Path, kit: Kit, part: int = 1) -> dict[str, str]:
    """The exercise modules of ``part`` in a submitted notebook: its solution cells, by grade_id."""
    with open(path, "rb") as file:
        raw = file.read(NOTEBOOK_BYTES + 1)
    if len(raw) > NOTEBOOK_BYTES:
        raise ValueError(f"the notebook is over {NOTEBOOK_BYTES // (1024 * 1024)} MB")
    return solution_sources(json.loads(raw.decode("utf-8")), kit, part)


@dataclass
class StudentOutcome:
    student: str
    nbgrader_ok: bool = False
    message: str = ""
    corrected: list[str] = field(default_factory=list)
    report: dict | None = None
    restored: list[str] = field(default_factory=list)
    max_score: float = 0
    not_recorded: str = ""  # why the gradebook could not take this student's scores ("" when it did)

    @property
    def score(self) -> str:
        return f"{self.report['score']:g}/{self.report['max_score']:g}" if self.report else f"0/{self.max_score:g}"

    def status_line(self) -> str:
        """One line: the score, and how the notebook was graded."""
        if self.not_recorded:
            return f"{self.score} NOT RECORDED in the gradebook ({self.not_recorded}): run the autograde again for this student"
        if self.nbgrader_ok:
            return f"{self.score} graded" + (f" (edited check cells, restored by nbgrader: {', '.join(self.restored)})" if self.restored else "")
        return f"{self.score} nbgrader could not grade it: {self.message}; scores from the sandboxed grader"


def students_of(course: Path, assignment: str) -> list[str]:
    submitted = course / "submitted"
    if not submitted.is_dir():
        raise CourseError(f"{course} has no submitted/ folder: put each student's notebook in submitted/<student>/{assignment}/")
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def _autograde_group(course: Path, assignment: str, group: list[str], everyone: list[str], cache: Path | None) -> str:
    """One nbgrader autograde over ``group`` (the others excluded), in a fresh worker process; returns its log."""
    others = [student for student in everyone if student not in group]
    args = ["autograde", assignment, "--create", "--force"]
    if others:
        args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
    env = {"COOPKIT_REPORT_CACHE": str(cache)} if cache is not None else {}
    log = ""
    for _ in range(2):  # a second go if another worker held the gradebook too long
        _, log = in_fresh_worker(run_nbgrader_here, str(course), args, env)
        if "database is locked" not in log:
            break
    return log


def _student_result(course: Path, assignment: Part, student: str, log: str) -> tuple[bool, str]:
    graded = (course / "autograded" / student / assignment.assignment / assignment.notebook).is_file()
    lines = [line for line in log.splitlines() if student in line and ("ERROR" in line or "WARNING" in line)]
    if graded:
        return True, ""
    return False, (lines[-1] if lines else "no autograded notebook was written").strip()[:300]


def _read_sources(course: Path, assignment: Part, student: str, kit: Kit) -> dict[str, str] | None:
    try:
        return notebook_sources(course / "submitted" / student / assignment.assignment / assignment.notebook, kit, assignment.number)
    except Exception:  # noqa: BLE001 - missing, unreadable, too deep, too big: no code, no points (and no crash)
        return None


def sandbox_reports(kit: Kit, sources: dict[str, dict[str, str]], jobs: int, part: int = 1) -> dict[str, dict]:
    """The sandboxed grader's report for each student's exercise code."""
    with tempfile.TemporaryDirectory(prefix="coopkit-nbsrc-") as scratch:
        folders = {}
        for student, modules in sources.items():
            folder = Path(scratch) / student
            folder.mkdir()
            for exercise, source in modules.items():
                (folder / f"{exercise}.py").write_text(source, encoding="utf-8")
            folders[student] = folder
        with grading.GradingRun.create(kit, part=part) as run:
            return grading.grade_folders(run, folders, jobs)


LOG = "coopkit-autograde.log"


def log_outcomes(course: Path, assignment: str, outcomes: dict[str, StudentOutcome]) -> Path:
    """Append one line per student (time, assignment, student, status and cause) to the course's log file."""
    import datetime

    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    with (course / LOG).open("a", encoding="utf-8") as log:
        for student, outcome in sorted(outcomes.items()):
            log.write(f"{stamp} {assignment} {one_line(repr(student))}: {one_line(outcome.status_line(), 2000)}\n")
    return course / LOG


def autograde(kit: Kit, course: Path, assignment: str = "coop", jobs: int = 1, on_done=None, only: list[str] | None = None) -> dict[str, StudentOutcome]:
    """The sandboxed grader first, then ``jobs`` nbgrader workers (their kernels sandboxed by the course's
    config), then the gradebook checked against the grader's reports, and a stand-in notebook for each
    notebook nbgrader could not grade. ``only``: just these students (late submissions).

    nbgrader runs in worker processes (see ``in_fresh_worker``), so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard of multiprocessing.
    """
    from ..notebook import report_key

    course = Path(course).resolve()
    try:
        chosen = kit.manifest.assignment(assignment)
    except ManifestError as exc:
        raise CourseError(str(exc)) from None
    if not (course / "nbgrader_config.py").is_file():
        raise CourseError(f"{course} is not an nbgrader course (no nbgrader_config.py): build one with `coopkit nbgrader build DIR`")
    release_file = course / "release" / assignment / chosen.notebook
    if not release_file.is_file():
        raise CourseError(f"assignment {assignment!r} has no release: run `nbgrader generate_assignment {assignment}` in {course} first")
    everyone = students_of(course, assignment)
    if only:
        unknown = sorted(set(only) - set(everyone))
        if unknown:
            raise CourseError(f"no submission of {assignment} from {', '.join(map(repr, unknown))} in {course / 'submitted'}: check the student id (folders there: {', '.join(everyone[:8]) or 'none'})")
    students = sorted(set(only)) if only else everyone
    most = sum(check.points for check in kit.manifest.part(chosen.number).checks)
    outcomes = {student: StudentOutcome(student, max_score=most) for student in students}
    with tempfile.TemporaryDirectory(prefix="coopkit-reports-") as scratch, ThreadPoolExecutor(max_workers=1) as background:
        # The first worker starts the forkserver, which imports nbgrader while the sandbox grades.
        known = background.submit(in_fresh_worker, in_gradebook, course, assignment)
        sources = {student: _read_sources(course, chosen, student, kit) for student in students}
        reports = sandbox_reports(kit, {s: src for s, src in sources.items() if src is not None}, jobs, chosen.number)
        cache = Path(scratch)
        for student, src in sources.items():
            outcomes[student].report = reports.get(student)
            if src is not None and reports.get(student):
                for exercise in kit.manifest.part(chosen.number).exercises:  # one exercise's part of the report per file
                    text = json.dumps(exercise_slice(reports[student], exercise.name), ensure_ascii=True)
                    (cache / f"{report_key(exercise.name, src.get(exercise.name), chosen.number)}.json").write_text(text, encoding="utf-8")
        if not known.result():
            raise CourseError(f"assignment {assignment!r} is not in {course / 'gradebook.db'}: run `nbgrader generate_assignment {assignment} --force` in {course} first")
        groups = [students[n::max(1, jobs)] for n in range(max(1, jobs))]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(_autograde_group, course, assignment, group, everyone, cache): group for group in groups if group}
            for future in as_completed(futures):
                log = future.result()
                for student in futures[future]:
                    outcomes[student].nbgrader_ok, outcomes[student].message = _student_result(course, chosen, student, log)
                    if on_done:
                        on_done(student, outcomes[student])
    release = json.loads(release_file.read_text(encoding="utf-8"))
    stand_ins = {}
    for student, outcome in outcomes.items():
        submitted = course / "submitted" / student / assignment / chosen.notebook
        outcome.restored = edited_checks(submitted, release) if outcome.nbgrader_ok else []
        if not outcome.nbgrader_ok:
            outcome.message = safe_why(submitted, release) or one_line(outcome.message)
            try:
                stand_ins[student] = json.dumps(stand_in(release, sources[student], outcome.report, outcome.message), ensure_ascii=True, indent=1)
            except Exception as exc:  # noqa: BLE001 - the row and the scores still get written
                outcome.message += f"; no stand-in notebook ({type(exc).__name__})"
    try:
        corrected, failed = in_fresh_worker(reconcile, course, chosen, {student: outcome.report for student, outcome in outcomes.items()}, stand_ins)
    except CourseError as exc:
        corrected, failed = {}, {student: str(exc) for student in outcomes}
    for student, outcome in outcomes.items():
        outcome.corrected = corrected.get(student, [])
        outcome.not_recorded = one_line(failed.get(student, ""))
    log_outcomes(course, assignment, outcomes)
    return outcomes
