"""The student's commands: status, hint, watch, reset, solution, trace.

Registered into the full ``coopkit`` command, and the whole command of a
student bundle (``coopkit.student.cli:main``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.markup import escape

from ..manifest import ManifestError
from ..paths import find_kit
from ..states import FAILED, PASSED, TODO
from . import commands as student

MARKS = {PASSED: "[green]✔ passed[/green]", FAILED: "[red]✘ failed[/red]", TODO: "[dim]· not started[/dim]"}


def cmd_status(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from .screen import progress_bar

    kit = find_kit()
    states = student.public_states(kit)
    manifest = kit.manifest
    earned = sum(c.points for c in manifest.checks if states.get((c.exercise, c.name)) == PASSED)
    console = Console()
    console.print(f"[bold]{escape(manifest.title)}[/bold]: {earned}/{manifest.points} points from the public tests")
    console.print(progress_bar(manifest, states))
    table = Table(show_header=True, header_style="bold")
    table.add_column("exercise")
    table.add_column("check")
    table.add_column("points", justify="right")
    table.add_column("public tests")
    for exercise in manifest.exercises:
        for check in exercise.checks:
            state = states.get((exercise.name, check.name), TODO)
            table.add_row(exercise.name, check.name, str(check.points), MARKS.get(state, state))
    console.print(table)
    upcoming = student.current_exercise(kit, states)
    if upcoming is None:
        console.print("Every public check passes. The hidden grading suites check more cases: keep your code general.")
    else:
        console.print(f"Next: [bold]{escape(upcoming.title)}[/bold] in exercises/{upcoming.name}.py  (stuck? coopkit hint {upcoming.name})")
    return 0


def cmd_hint(args) -> int:
    from rich.console import Console

    kit = find_kit()
    name = args.exercise or student.saved_current(kit).name
    hints, total = student.next_hint(kit, name)
    console = Console()
    for number, hint in enumerate(hints, 1):
        console.print(f"[bold]hint {number}/{total}[/bold] {escape(hint)}")
    if len(hints) == total:
        console.print(f"[dim]that was the last hint for {name}.[/dim]")
    else:
        console.print(f"[dim]run `coopkit hint {name}` again for the next one.[/dim]")
    return 0


def cmd_reset(args) -> int:
    backup = student.reset(find_kit(), args.exercise)
    where = f"; your previous version is in {backup}" if backup else ""
    print(f"exercises/{args.exercise}.py is the fresh stub again{where}")
    return 0


def cmd_solution(args) -> int:
    from rich.console import Console
    from rich.syntax import Syntax

    text = student.solution(find_kit(), args.exercise, force=args.force)
    console = Console()
    if console.is_terminal:
        console.print(Syntax(text, "python", line_numbers=False))
    else:  # piped or saved to a file: the plain source, not padded to the terminal's width
        sys.stdout.write(text)
    return 0


def cmd_watch(args) -> int:
    from rich.console import Console

    from . import screen

    console = Console()
    kit = find_kit()
    last_pass = None

    def report(event, exercise, run):
        nonlocal last_pass
        if event == "done":
            screen.done_screen(console, kit.manifest, run)
        elif event == "passed":
            console.print(f"[green]{exercise.name} passes its public tests: on to the next exercise.[/green]")
            last_pass = exercise
        else:
            screen.watch_screen(console, kit.manifest, exercise, run, passed=last_pass)
            last_pass = None
        sys.stdout.flush()

    console.print("coopkit watch: save a file in exercises/ to rerun its tests; Ctrl-C to stop.")
    try:
        student.watch(kit, report, poll=True if args.poll else None, stop_after=args.runs)
    except KeyboardInterrupt:
        console.print("stopped.")
    return 0


def cmd_trace(args) -> int:
    from . import trace

    kit = find_kit()
    impl = kit.solutions if args.reference else Path(args.impl or kit.exercises)
    if args.reference and not kit.solutions.is_dir():
        raise student.StudentProblem(student.NO_SOLUTIONS_HERE)
    if args.what == "sleep":
        from . import sleep_trace

        print(sleep_trace.render_text(sleep_trace.record(impl)))
    else:
        print(trace.render_text(trace.record(impl)))
    return 0


def add_student_commands(sub) -> None:
    status = sub.add_parser("status", help="progress over every exercise and check (public tests)")
    status.set_defaults(func=cmd_status)
    hint = sub.add_parser("hint", help="one more hint for an exercise (the one you are on, when not named)")
    hint.add_argument("exercise", nargs="?", default=None)
    hint.set_defaults(func=cmd_hint)
    watch = sub.add_parser("watch", help="rerun the current exercise's tests on every save")
    watch.add_argument("--poll", action="store_true", help="poll for changes (for file systems without file events)")
    watch.add_argument("--runs", type=int, default=None, help=argparse.SUPPRESS)
    watch.set_defaults(func=cmd_watch)
    reset = sub.add_parser("reset", help="put an exercise's stub back (your version is backed up)")
    reset.add_argument("exercise")
    reset.set_defaults(func=cmd_reset)
    sol = sub.add_parser("solution", help="the reference solution, once your code passes")
    sol.add_argument("exercise")
    sol.add_argument("--force", action="store_true", help="show it anyway (for self-study)")
    sol.set_defaults(func=cmd_solution)
    tr = sub.add_parser("trace", help="a scheduler run drawn as a timeline (or, with `sleep`, a SleepKernel run on a fake clock)")
    tr.add_argument("what", nargs="?", choices=("scheduler", "sleep"), default="scheduler", help="scheduler (Part 1, default) or sleep (chapter 6)")
    has_solutions = find_kit().solutions.is_dir()  # a student bundle has none: the option is not offered there
    tr.add_argument("--reference", action="store_true",
                    help="trace the reference instead of your code" if has_solutions else argparse.SUPPRESS)
    tr.add_argument("--impl", default=None, help=argparse.SUPPRESS)
    tr.set_defaults(func=cmd_trace)


def dispatch(parser, argv, problems) -> int:
    """Run the chosen command; an expected problem is one line on stderr and exit status 2."""
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except problems as exc:
        print(f"coopkit {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("coopkit: interrupted", file=sys.stderr)
        return 130


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="coopkit", description="Your cooperative multitasking exercises.")
    add_student_commands(parser.add_subparsers(dest="command", metavar="COMMAND"))
    return dispatch(parser, argv, (student.StudentProblem, ManifestError))


if __name__ == "__main__":
    sys.exit(main())
