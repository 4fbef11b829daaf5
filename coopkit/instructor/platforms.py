"""The commands that hand grading to other platforms: the nbgrader course, Gradescope and the LMSs."""

from __future__ import annotations

import sys
from pathlib import Path

from ..paths import find_kit
from .usage import UsageProblem


def cmd_nbgrader_build(args) -> int:
    from ..course import build as nbbuild

    kit = find_kit()
    course = Path(args.course_dir).expanduser() if args.course_dir else Path.home() / "coopkit-course"
    target = course.resolve()
    if target == kit.root or (kit.root in target.parents and (kit.root / "build") not in [target, *target.parents]):
        raise UsageProblem(f"{course} is inside the kit's repository, where gradebooks and submissions could be committed: build the course outside it (default: ~/coopkit-course)")
    if course.exists() and not course.is_dir():
        raise UsageProblem(f"{course} is a file: give a folder for the nbgrader course")
    try:
        written = nbbuild.build(kit, course)
    except nbbuild.CourseError as exc:
        raise UsageProblem(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    names = " / ".join(f"{a.assignment} (part {a.number})" for a in kit.manifest.assignments)
    print(f"assignments: {names}")
    print(f"next: cd {course} && nbgrader generate_assignment {kit.manifest.assignments[0].assignment}")
    return 0


def cmd_nbgrader_exchange(args) -> int:
    from ..course import folders

    root = Path(args.root).expanduser().absolute()
    try:
        folders.make_exchange(root)
    except folders.CourseError as exc:
        raise UsageProblem(str(exc)) from None
    modes = ", ".join(f"{relative or '.'} {mode:o}" for relative, mode in folders.EXCHANGE_MODES.items())
    print(f"made {root} (nbgrader's modes: {modes})")
    print(f"next: set c.Exchange.root = {str(root)!r} in the course's nbgrader_config.py and in the students' ~/.jupyter/nbgrader_config.py")
    return 0


def cmd_nbgrader_autograde(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ..course import autograde as nbgrader_course
    from . import report
    from .report import escape

    course = Path(args.course)
    if not course.is_dir():
        raise UsageProblem(f"no folder at {course}: give the nbgrader course folder with --course (default: the current folder)")
    try:
        students = args.student or nbgrader_course.students_of(course, args.assignment)
    except nbgrader_course.CourseError as exc:
        raise UsageProblem(str(exc)) from None
    progress = Progress(TextColumn("autograding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}", markup=False))
    with progress:
        task = progress.add_task("", total=len(students))

        def done(student, outcome):
            progress.update(task, advance=1, description=report.one_line(f"{student}: {'graded' if outcome.nbgrader_ok else 'nbgrader could not grade it'}"))

        try:
            outcomes = nbgrader_course.autograde(find_kit(), course, args.assignment, args.jobs, done, only=args.student)
        except nbgrader_course.CourseError as exc:
            raise UsageProblem(str(exc)) from None
    table = Table(title=f"{args.assignment}: {len(outcomes)} submission(s)")
    for column in ("student", "score", "status"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for student, outcome in sorted(outcomes.items()):
        status = outcome.status_line().partition(" ")[2]
        if outcome.corrected:
            status += f"; {len(outcome.corrected)} score(s) set to the grader's: {', '.join(outcome.corrected[:3])}"
        table.add_row(escape(report.one_line(student)), outcome.score, escape(report.one_line(status, 2000)))
    Console(soft_wrap=False).print(table)
    print(f"log: {course / nbgrader_course.LOG}; next: nbgrader generate_feedback {args.assignment} && nbgrader export")
    return 1 if any(outcome.not_recorded for outcome in outcomes.values()) else 0


def cmd_export_lms(args) -> int:
    from . import lms, report

    grades = Path(args.grades_dir)
    try:
        reports = report.load_reports(grades)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    try:
        if args.export_command == "canvas":
            part = next(iter(reports.values())).get("part", 1)
            exported = lms.canvas(reports, Path(args.roster), args.assignment or find_kit().manifest.part_info(part).assignment)
        else:
            exported = lms.moodle(reports, Path(args.roster))
    except lms.RosterProblem as exc:
        raise UsageProblem(str(exc)) from None
    out = Path(args.out or grades / f"{args.export_command}.csv")
    if out.resolve() == Path(args.roster).resolve():
        raise UsageProblem(f"--out {out} is the roster: choose another file, so the LMS's export stays as it was")
    report.write_atomic(out, exported.text)
    for line in exported.warnings:
        print(f"coopkit: {report.one_line(line)}", file=sys.stderr)
    print(f"wrote {out}: {exported.matched} of {len(reports)} graded students matched the roster; import it into {args.export_command.capitalize()} as is")
    return 0


def cmd_export_gradescope(args) -> int:
    from ..gradescope import autograder as gradescope

    kit = find_kit()
    out = gradescope.build_autograder(kit, Path(args.out), part=args.part)
    names = ", ".join(exercise.name for exercise in kit.manifest.part(args.part).exercises)
    print(f"wrote {out}: the Gradescope autograder of Part {args.part} ({names}); upload it as is (setup.sh and run_autograder at its root)")
    return 0


def cmd_gradescope_results(args) -> int:
    from .. import grading
    from ..gradescope import autograder as gradescope

    try:
        written = gradescope.run_autograder(find_kit(), Path(args.submission), Path(args.results), args.part,
                                            args.isolation, args.student_user, args.student_python)
    except grading.SandboxUnavailable as exc:  # Gradescope shows this line to the instructor
        raise UsageProblem(f"no sandbox, so nothing was graded: {exc}") from None
    warning = gradescope.isolation_warning(written["extra_data"]["isolation"]) if written["extra_data"]["isolation"] else ""
    print(f"Part {args.part}: {written['score']} points; isolation: {written['extra_data']['isolation'] or 'nothing ran'}")
    if warning:
        print(f"coopkit: {warning}", file=sys.stderr)
    return 0
