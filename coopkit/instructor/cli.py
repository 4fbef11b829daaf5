"""The ``coopkit`` command: a thin layer over plain functions.

Student commands and instructor commands are listed in one table; author
commands live under ``coopkit dev``. Every expected failure is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..manifest import ManifestError
from ..paths import find_kit
from ..student.commands import StudentProblem
from .platforms import cmd_export_gradescope, cmd_export_lms, cmd_gradescope_results, cmd_nbgrader_autograde, cmd_nbgrader_build, cmd_nbgrader_exchange
from .usage import UsageProblem

# Entries of a class folder that tools leave behind, never a student's folder.
NOT_STUDENTS = {".git", ".ipynb_checkpoints", "__MACOSX", ".DS_Store", ".coopkit"}



def _jobs(value: str) -> int:
    jobs = int(value)
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return jobs


def cmd_grade(args) -> int:
    from .. import grading
    from . import report

    folder = Path(args.submission)
    if not folder.is_dir():
        raise UsageProblem(f"no folder at {folder}: give the folder that holds the exercise files ({_exercise_files(args.part or 1)})")
    _choose_part(args, [folder])
    with _grading_run(args) as run:
        result = grading.grade_folders(run, {folder.resolve().name: folder.resolve()}, args.jobs)
        graded = next(iter(result.values()))
        if args.json:  # written before the scratch folder is removed
            sys.stdout.write(report.to_json(graded))
        else:
            report.print_submission(graded)
    return _grader_failures(result)


def _exercise_files(part: int) -> str:
    try:
        return ", ".join(f"{e.name}.py" for e in find_kit().manifest.part(part).exercises)
    except ManifestError:
        return "the exercise .py files"


def _listed(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _choose_part(args, folders: list[Path]) -> None:
    """``--part``, else the part whose exercise files the folders hold: one vote per student (folder) holding any.

    Students who hand in different parts' files make ``--part`` necessary: one student's files never decide the class's part.
    """
    if args.part is None:
        manifest = find_kit().manifest
        names = {f"{exercise.name}.py" for exercise in manifest.exercises}
        votes = [manifest.part_of(listed) for listed in map(_listed, folders) if names & set(listed)]
        parts = sorted(set(votes))
        if len(parts) > 1:
            counts = " and ".join(f"{votes.count(part)} hold Part {part} files" for part in parts)
            raise UsageProblem(f"the students' files are not all of one part ({counts}): give --part {' or --part '.join(map(str, parts))}")
        args.part = parts[0] if parts else manifest.parts[0]


def _grading_run(args):
    from .. import grading

    try:
        return grading.GradingRun.create(find_kit(), seed=args.seed, part=args.part, unsafe_no_sandbox=args.unsafe_no_sandbox)
    except grading.SandboxUnavailable as exc:
        raise UsageProblem(f"no sandbox, so nothing was graded: {exc}") from None
    except grading.GraderError as exc:
        raise UsageProblem(str(exc)) from None


def _grader_failures(reports: dict) -> int:
    """Exit status 1, with one line on stderr, when the grader itself failed on any exercise."""
    failed = [f"{name}/{exercise}" for name, rep in reports.items() for exercise, data in rep["exercises"].items() if data["status"] == "grader_error"]
    if failed:
        print(f"coopkit: the grader itself failed on {len(failed)} exercise(s) ({', '.join(failed[:5])}); their status is grader_error in the reports", file=sys.stderr)
        return 1
    return 0


def cmd_grade_class(args) -> int:
    import shutil
    import tempfile
    import zipfile

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import grading
    from ..grading import intake
    from . import report

    root, out = Path(args.root), Path(args.out)
    if root.is_file() and not zipfile.is_zipfile(root):
        raise UsageProblem(f"{root} is a file, not a zip: give the class folder, or the LMS's bulk-download zip")
    if not root.is_dir() and not root.is_file():
        raise UsageProblem(f"no folder at {root}: give the folder that holds one subfolder per student")
    if out.resolve() == root.resolve() or root.resolve() in out.resolve().parents:
        raise UsageProblem(f"--out {out} is inside {root}: choose an output folder outside the submissions")
    scratch = Path(tempfile.mkdtemp(prefix="coopkit-intake-"))
    try:
        if root.is_file():
            try:
                root, refused = intake.unpack_bulk(root, scratch / "bulk")
            except intake.ZIP_ERRORS as exc:
                raise UsageProblem(f"{args.root} cannot be unzipped ({exc}): unzip it yourself and give the folder") from None
        else:
            refused = {}
        intakes, skipped = intake.gather(root, scratch / "students", find_kit(), NOT_STUDENTS, refused)
        if not intakes:
            raise UsageProblem(f"{root} has no student subfolders: put each student's files in ROOT/<student>/ (or a zip, a notebook, an LMS bulk download)")
        folders = {name: found.folder for name, found in intakes.items()}
        _choose_part(args, list(folders.values()))
        out.mkdir(parents=True, exist_ok=True)
        if skipped:
            from ..grading.report import display_name

            names = ", ".join(display_name(name) for name in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
            print(f"coopkit: skipped {len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} of {root} that are not student folders: {names}", file=sys.stderr)
        with _grading_run(args) as run:
            progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}", markup=False), transient=False, disable=args.quiet)
            with progress:
                task = progress.add_task("", total=len(folders))

                def done(name, graded):
                    graded["status"], graded["message"] = report.submission_status(graded, intakes[name].status, intakes[name].message)
                    report.write_atomic(out / f"{report.file_label(name)}.json", report.to_json(graded))
                    progress.update(task, advance=1, description=report.one_line(f"{graded['submission']}: {graded['score']}/{graded['max_score']}"))

                reports = grading.grade_folders(run, folders, args.jobs, on_done=done)
            report.write_atomic(out / "grades.csv", report.class_csv(reports, run.manifest))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not args.quiet:
        from rich.console import Console

        Console().print(report.class_table(reports, run.manifest))
        print(f"wrote {out / 'grades.csv'} and {len(reports)} JSON reports")
    return _grader_failures(reports)


def cmd_report(args) -> int:
    from rich.console import Console

    from . import classreport, report

    try:
        reports = report.load_reports(Path(args.out))
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    part = next(iter(reports.values())).get("part", 1)
    console = Console()
    console.print(report.class_table(reports, find_kit().manifest.part(part)))
    console.print(report.mistakes_table(classreport.top_mistakes(list(reports.values()))))
    if args.html:
        try:
            page = classreport.page(list(reports.values()), f"{find_kit().manifest.part_info(part).title}: class report")
        except ImportError:
            raise UsageProblem("the HTML class report draws with matplotlib: install it (`pip install matplotlib`, or the kit's [nbgrader] extra)") from None
        report.write_atomic(Path(args.html), page)
        print(f"wrote {args.html}: open it in a browser (it needs no server)")
    return 0


def cmd_bundle(args) -> int:
    from ..authoring.bundle import build_bundle

    out = Path(args.out)
    kit = find_kit()
    target = out.resolve()
    if target == kit.root or target in kit.root.parents or target in kit.contents:
        raise UsageProblem(f"--out {out} would overwrite part of the kit: choose a new folder")
    path = build_bundle(kit, out)
    print(f"wrote the student bundle to {path}: students run `python3 -m venv .venv && .venv/bin/pip install -e .` then `.venv/bin/pytest` there")
    return 0


def cmd_dev_generate(args) -> int:
    from ..authoring.generate import generate

    stale = generate(find_kit(), check=args.check)
    kit_root = find_kit().root
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(kit_root)}")
    if args.check and stale:
        print("generated files are out of date: run `coopkit dev generate`", file=sys.stderr)
        return 1
    return 0


def cmd_dev_check(args) -> int:
    from ..authoring.devcheck import run_dev_check

    return run_dev_check(find_kit())


def build_parser() -> argparse.ArgumentParser:
    try:
        manifest = find_kit().manifest
        parts, assignments = manifest.parts_help(), ", ".join(f"{p.assignment} (part {p.number})" for p in manifest.assignments)
    except ManifestError:  # the command itself then says what is wrong
        parts = assignments = "see manifest.toml"
    parser = argparse.ArgumentParser(prog="coopkit", description="Build a tiny async framework from plain generators, and grade it.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from ..student.cli import add_student_commands

    add_student_commands(sub)

    grade = sub.add_parser("grade", help="grade one submission folder")
    grade.add_argument("submission", help="folder with the student's exercise files (one .py file per exercise of the part)")
    grade.add_argument("--json", action="store_true", help="print the report as JSON")
    grade.add_argument("-j", "--jobs", type=_jobs, default=os.cpu_count() or 1, help="sandboxes at a time (default: CPU count)")
    grade.add_argument("--seed", type=int, default=None, help="seed for the hidden inputs (default: the manifest's)")
    grade.add_argument("--part", type=int, default=None, help=f"which part to grade: {parts}; default: the part whose exercise files the folder holds")
    grade.add_argument("--unsafe-no-sandbox", action="store_true", help="run student code without the bubblewrap sandbox (every report says so)")
    grade.set_defaults(func=cmd_grade)

    klass = sub.add_parser("grade-class", help="grade every student folder under ROOT")
    klass.add_argument("root", help="folder with one subfolder per student")
    klass.add_argument("--out", required=True, help="where grades.csv and <student>.json go")
    klass.add_argument("-j", "--jobs", type=_jobs, default=os.cpu_count() or 1, help="sandboxes at a time (default: CPU count)")
    klass.add_argument("--seed", type=int, default=None, help="seed for the hidden inputs (default: the manifest's)")
    klass.add_argument("--part", type=int, default=None, help=f"which part to grade: {parts}; default: the part whose exercise files most folders hold")
    klass.add_argument("-q", "--quiet", action="store_true", help="no progress bar or table")
    klass.add_argument("--unsafe-no-sandbox", action="store_true", help="run student code without the bubblewrap sandbox (every report and CSV row says so)")
    klass.set_defaults(func=cmd_grade_class)

    bun = sub.add_parser("bundle", help="build the student distribution (no solutions, no hidden tests, no grader)")
    bun.add_argument("--out", required=True)
    bun.set_defaults(func=cmd_bundle)

    rep = sub.add_parser("report", help="show the class table from a grade-class output folder")
    rep.add_argument("out", help="the --out folder of grade-class")
    rep.add_argument("--html", metavar="FILE", help="also write the class report (score histogram, pass rates, most common mistakes) as one HTML page")
    rep.set_defaults(func=cmd_report)

    nbg = sub.add_parser("nbgrader", help="the nbgrader course").add_subparsers(dest="nbgrader_command", metavar="NBGRADER_COMMAND")
    build = nbg.add_parser("build", help="write a complete nbgrader course directory")
    build.add_argument("course_dir", nargs="?", default=None, help="where the course goes, outside the kit (default: ~/coopkit-course)")
    build.set_defaults(func=cmd_nbgrader_build)
    exch = nbg.add_parser("exchange", help="make a shared nbgrader exchange for students with their own accounts (then set c.Exchange.root to it)")
    exch.add_argument("root", help="the exchange folder to make, outside the course (say /srv/nbgrader/exchange)")
    exch.set_defaults(func=cmd_nbgrader_exchange)
    auto = nbg.add_parser("autograde", help="nbgrader autograde in parallel, with scores checked against the sandboxed grader")
    auto.add_argument("assignment", help=f"the assignment: {assignments}")
    auto.add_argument("--course", default=".", help="the nbgrader course folder (default: the current folder)")
    auto.add_argument("-j", "--jobs", type=_jobs, default=os.cpu_count() or 1, help="notebooks at a time (default: CPU count)")
    auto.add_argument("--student", action="append", metavar="ID", help="autograde only this student (repeat for more): a late submission")
    auto.set_defaults(func=cmd_nbgrader_autograde)

    export = sub.add_parser("export", help="export the grader (gradescope) or the grades (canvas, moodle) for another platform").add_subparsers(dest="export_command", metavar="PLATFORM")
    gs = export.add_parser("gradescope", help="a Gradescope autograder zip")
    gs.add_argument("--out", default="autograder.zip")
    gs.add_argument("--part", type=int, default=1, help=f"which part the autograder grades: {parts} (default 1)")
    gs.set_defaults(func=cmd_export_gradescope)
    for platform, roster in (("canvas", "the CSV of Canvas's Grades > Export"), ("moodle", "the assignment's grading worksheet (Download grading worksheet)")):
        lms = export.add_parser(platform, help=f"grades.csv as {platform.capitalize()}'s own grade-import CSV")
        lms.add_argument("grades_dir", help="the --out folder of grade-class")
        lms.add_argument("--roster", required=True, help=f"{roster}: students are matched by its id columns")
        lms.add_argument("--out", default=None, help=f"the file to write (default: GRADES_DIR/{platform}.csv)")
        if platform == "canvas":
            lms.add_argument("--assignment", default=None, help="the Canvas assignment column: an existing header, its name, or a new name (default: the part's assignment)")
        lms.set_defaults(func=cmd_export_lms)
    gsr = sub.add_parser("gradescope-results", help=argparse.SUPPRESS)
    gsr.add_argument("submission")
    gsr.add_argument("results")
    gsr.add_argument("--part", type=int, default=1)
    gsr.add_argument("--isolation", choices=("auto", "bubblewrap", "user"), default="auto",
                     help="auto: bubblewrap if it works here, else (as root) the student account")
    gsr.add_argument("--student-user", default="coopkit-student", help="the unprivileged account (name, UID or UID:GID)")
    gsr.add_argument("--student-python", default=None, help="the Python the student account runs (default: this one's real path)")
    gsr.set_defaults(func=cmd_gradescope_results)

    dev = sub.add_parser("dev", help="author commands").add_subparsers(dest="dev_command", metavar="DEV_COMMAND")
    gen = dev.add_parser("generate", help="rebuild stubs, public tests and tables from solutions/, grading/ and the manifest")
    gen.add_argument("--check", action="store_true", help="only compare; exit 1 when anything is stale")
    gen.set_defaults(func=cmd_dev_generate)
    chk = dev.add_parser("check", help="prove stubs fail, solutions pass and generated files are current")
    chk.set_defaults(func=cmd_dev_check)
    return parser


def main(argv=None) -> int:
    from ..student.cli import dispatch

    return dispatch(build_parser(), argv, (UsageProblem, ManifestError, StudentProblem))


if __name__ == "__main__":
    sys.exit(main())
