"""A Scheduler run drawn as a timeline: one row per task, one column per step.

The same small workload (tasks of different lengths, one that adds a task
while running, one that fails) runs on any Scheduler class; every step is
recorded by the tasks themselves, so the picture shows what really happened.
Rendered as text for the terminal (``coopkit trace``) and with matplotlib in
the notebook (``show(Scheduler)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RAN, FINISHED, FAILED = "ran", "finished", "failed"
MARKS = {RAN: "●", FINISHED: "✔", FAILED: "✘"}


@dataclass
class Trace:
    tasks: list[str]  # in order of first appearance
    events: list[tuple[str, str]]  # (task, RAN | FINISHED | FAILED), one per scheduler step
    error: str = ""


def _workload(scheduler, log):
    def task(name, steps, spawn=None, fail=False):
        for step in range(steps):
            log.append((name, RAN))
            if spawn and step == 0:
                scheduler.add(task(*spawn))
            yield
        if fail:
            log.append((name, FAILED))
            raise ValueError(f"{name} failed on purpose")
        log.append((name, FINISHED))
        return name

    return [task("A", 3), task("B", 1), task("C", 4, spawn=("D", 2)), task("E", 2, fail=True)]


def run_workload(Scheduler) -> Trace:
    """Run the workload on ``Scheduler`` and record every step."""
    log: list[tuple[str, str]] = []
    error = ""
    try:
        scheduler = Scheduler()
        for gen in _workload(scheduler, log):
            scheduler.add(gen)
        scheduler.run()
    except NotImplementedError:
        error = "Scheduler is not written yet (it still raises NotImplementedError)"
    except Exception as exc:  # noqa: BLE001 - show whatever the student's code did
        error = f"run() raised {type(exc).__name__}: {exc}"
    names = []
    for name, _ in log:
        if name not in names:
            names.append(name)
    return Trace(names, log, error)


def record(folder: Path) -> Trace:
    """Trace the Scheduler in ``folder`` (a folder with scheduler.py and task.py)."""
    from ..harness import Implementation, ImplementationError

    try:
        Scheduler = Implementation(folder).attr("scheduler", "Scheduler", fresh=True)
    except ImplementationError as exc:
        return Trace([], [], str(exc))
    except NotImplementedError:
        return Trace([], [], "Scheduler is not written yet (it still raises NotImplementedError)")
    return run_workload(Scheduler)


def render_text(trace: Trace) -> str:
    lines = ["Scheduler timeline: one column per step (one next() call), one row per task"]
    if not trace.events:
        return "\n".join(lines + [f"nothing ran. {trace.error}".strip()])
    width = len(trace.events)
    lines.append("       " + "".join(f"{n + 1:<3}" for n in range(width)).rstrip())
    for name in trace.tasks:
        row = ["·  "] * width
        for column, (task, kind) in enumerate(trace.events):
            if task == name:
                row[column] = f"{MARKS[kind]}  "
        lines.append(f"  {name:<4} " + "".join(row).rstrip())
    lines.append("  ● ran a step   ✔ finished (its result is in results)   ✘ raised (its error is in exceptions)")
    if trace.error:
        lines.append(f"  stopped early: {trace.error}")
    return "\n".join(lines)


def plot(trace: Trace):
    """A matplotlib figure of the trace."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(trace.events) + 2), 0.6 * len(trace.tasks) + 1.4))
    styles = {RAN: ("o", "tab:blue"), FINISHED: ("s", "tab:green"), FAILED: ("X", "tab:red")}
    for kind, (marker, color) in styles.items():
        xs = [n + 1 for n, (_, k) in enumerate(trace.events) if k == kind]
        ys = [trace.tasks.index(t) for t, k in trace.events if k == kind]
        ax.scatter(xs, ys, marker=marker, color=color, s=90, label=kind, zorder=3)
    ax.set_yticks(range(len(trace.tasks)), trace.tasks)
    ax.invert_yaxis()
    ax.set_xlabel("scheduler step (one next() call)")
    ax.set_xticks(range(1, len(trace.events) + 1))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, frameon=False)
    ax.set_title("Who ran when" + (f" (stopped: {trace.error})" if trace.error else ""))
    fig.tight_layout()
    return fig


NO_MATPLOTLIB = ("matplotlib is not installed, so here is the timeline as text. For the figure: "
                 "`pip install -e '.[notebook]'` in the kit's folder, then restart the kernel.")


def show(Scheduler) -> None:
    """Notebook helper: draw the timeline of ``Scheduler``.

    Text instead of a figure when matplotlib is missing, and while nbgrader
    autogrades (a figure per submission would only slow grading down).
    """
    import os

    trace = run_workload(Scheduler)
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        print(render_text(trace))
        return
    try:
        plot(trace)
    except ImportError:
        print(NO_MATPLOTLIB)
        print(render_text(trace))
