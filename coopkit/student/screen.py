"""What the student's terminal shows: a one-line progress bar, an exercise's failing tests, the watch screens.

Rendered with rich; every text that comes from a test or a file is escaped.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..states import TEST_TODO, earned, parts_text
from .publictests import PublicRun


def progress_bar(manifest, states, width: int = 20) -> Text:
    """One line: the bar over every point (readable without colours too), then the points per part."""
    filled = round(width * earned(states, manifest.checks) / max(manifest.points, 1))
    bar = Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim")
    return bar + Text(" " + parts_text(states, manifest))


def print_failures(console: Console, run: PublicRun, exercise) -> None:
    """Every failing test of ``exercise``, in full: its check and title, then what went wrong."""
    for test in run.failing(exercise.name):
        todo = test.state == TEST_TODO
        style = "yellow" if todo else "bold red"
        console.print(f"[{style}]{'·' if todo else '✘'} {escape(f'[{test.exercise}.{test.check}]')}[/{style}] {escape(test.title)}")
        for line in test.message.splitlines():
            console.print("  " + escape(line), highlight=False)


def next_steps(exercise) -> str:
    return f"exercises/{exercise.name}.py, lesson {exercise.lesson}"


def watch_screen(console: Console, manifest, exercise, run: PublicRun, passed=None) -> None:
    """The screen after one run: cleared, the last pass, the current exercise's failures, the bar."""
    console.clear()
    if passed is not None:
        console.print(f"[green]✔ {escape(passed.name)} passes its public tests.[/green]")
        console.print(f"Next: {escape(next_steps(exercise))}")
    console.rule(f"{escape(exercise.name)}: watching exercises/{escape(exercise.name)}.py")
    if run.ran:
        print_failures(console, run, exercise)
    else:
        console.print(escape("\n".join(run.output.strip().splitlines()[-20:])), highlight=False)
        console.print(f"[red]{escape(run.reason)}[/red]")
    console.print(progress_bar(manifest, run.overall or run.checks))
    console.print("[dim]save to rerun · stuck? coopkit hint · Ctrl-C to stop[/dim]")


def done_screen(console: Console, manifest, run: PublicRun) -> None:
    console.clear()
    console.print("[green]✔ every exercise passes its public tests. Well done![/green]")
    console.print(progress_bar(manifest, run.overall or run.checks))
