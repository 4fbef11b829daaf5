"""What a student does between two test runs: progress, hints, reset, solutions, watch.

Plain functions over the kit's files; ``studentcli`` is their command line.
Progress lives in ``.coopkit/state.json`` (hints revealed), backups in
``.coopkit/backups/``. Works the same in the full kit and in a student bundle
(which has no ``solutions/``: stubs come from ``stubs/`` there).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..manifest import Exercise, ManifestError
from ..paths import Kit
from ..states import PASSED, saved_states
from . import publictests

NO_SOLUTIONS_HERE = (
    "this copy of the kit has no solutions (a class bundle): your instructor shares them after the deadline"
)


class StudentProblem(Exception):
    """Something the student asked for cannot be done; the message says what to do instead."""


# -- running the public tests -------------------------------------------------


def public_states(kit: Kit, exercise: str | None = None, impl: Path | None = None) -> dict[tuple[str, str], str]:
    """``{(exercise, check): state}`` from a public run (one exercise, or all)."""
    run = publictests.run(kit, exercise, impl)
    if not run.ran:
        raise StudentProblem(run.reason)
    return run.checks


def exercise_passes(states, exercise: Exercise) -> bool:
    return all(states.get((exercise.name, check.name)) == PASSED for check in exercise.checks)


def saved_current(kit: Kit) -> Exercise:
    """The exercise the student is on, from the saved results of their runs (the first when none are saved, the last when all pass)."""
    return current_exercise(kit, saved_states(kit.root, kit.manifest)) or kit.manifest.exercises[-1]


def current_exercise(kit: Kit, states) -> Exercise | None:
    """The first exercise, in manifest order, whose public checks do not all pass."""
    for exercise in kit.manifest.exercises:
        if not exercise_passes(states, exercise):
            return exercise
    return None


# -- state --------------------------------------------------------------------


def load_state(kit: Kit) -> dict:
    path = kit.state / "state.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_state(kit: Kit, state: dict) -> None:
    kit.state.mkdir(exist_ok=True)
    path = kit.state / "state.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def exercise_named(kit: Kit, name: str) -> Exercise:
    try:
        return kit.manifest.exercise(name)
    except ManifestError as exc:
        raise StudentProblem(str(exc)) from None


# -- hints --------------------------------------------------------------------


def next_hint(kit: Kit, name: str) -> tuple[list[str], int]:
    """Reveal one more hint for ``name``; returns (hints revealed so far, total)."""
    exercise = exercise_named(kit, name)
    state = load_state(kit)
    shown = state.setdefault("hints", {}).get(name, 0)
    shown = min(shown + 1, len(exercise.hints))
    state["hints"][name] = shown
    save_state(kit, state)
    return list(exercise.hints[:shown]), len(exercise.hints)


# -- reset and solutions ------------------------------------------------------


def pristine_stub(kit: Kit, name: str) -> str:
    """The untouched stub: generated from the solution in the full kit, copied from stubs/ in a bundle."""
    if kit.solutions.is_dir():
        from ..authoring import regions

        return regions.stub_out(kit.solution_file(name).read_text(encoding="utf-8"), f"solutions/{name}.py")
    stub = kit.root / "stubs" / f"{name}.py"
    if not stub.is_file():
        raise StudentProblem(f"no pristine copy of {name}.py in this kit (stubs/{name}.py is missing)")
    return stub.read_text(encoding="utf-8")


def reset(kit: Kit, name: str) -> Path | None:
    """Put the stub back, keeping the student's work in .coopkit/backups/; returns the backup."""
    exercise_named(kit, name)
    target = kit.stub_file(name)
    backup = None
    if target.exists():
        backups = kit.state / "backups"
        backups.mkdir(parents=True, exist_ok=True)
        backup = backups / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.py"
        n = 1
        while backup.exists():
            n += 1
            backup = backups / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{n}.py"
        backup.write_bytes(target.read_bytes())
    target.write_text(pristine_stub(kit, name), encoding="utf-8")
    return backup


def solution(kit: Kit, name: str, force: bool = False) -> str:
    """The reference solution, once the student's own code passes its public tests (or with force)."""
    exercise = exercise_named(kit, name)
    if not kit.solutions.is_dir():
        raise StudentProblem(NO_SOLUTIONS_HERE)
    if not force:
        states = public_states(kit, name)
        if not exercise_passes(states, exercise):
            failing = [check.name for check in exercise.checks if states.get((name, check.name)) != PASSED]
            raise StudentProblem(
                f"{name} does not pass its public tests yet ({', '.join(failing)} still failing): "
                f"solve it first, or use `coopkit solution {name} --force` if you are studying alone"
            )
    from ..authoring import regions

    return regions.drop_markers(kit.solution_file(name).read_text(encoding="utf-8"))


# -- watch --------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Each exercise file's modification time and size: what a save changes."""
    found = {}
    for path in Path(folder).glob("*.py"):
        try:
            info = path.stat()
        except OSError:
            continue
        found[path.name] = (info.st_mtime_ns, info.st_size)
    return found


def watch(kit: Kit, report, poll: bool | None = None, stop_after: int | None = None) -> None:
    """Rerun the current exercise's public tests on every save; move on when it passes, across the parts.

    ``report(event, exercise, run)`` is called with event "run" (``exercise`` still fails), "passed"
    (``exercise`` now passes) or "done" (every exercise passes; ``exercise`` is None), and the ``PublicRun``.
    Polling is used when ``poll`` is true or file events are unavailable.
    """
    import watchfiles

    force_polling = poll if poll is not None else None
    runs = 0
    seen = _snapshot(kit.exercises)
    run = publictests.run(kit)  # every exercise once, to know where the student is (and the first screen)
    exercise = current_exercise(kit, run.overall or run.checks)
    while True:
        if exercise is None:
            report("done", None, run)
            return
        if runs or not run.ran:
            seen = _snapshot(kit.exercises)
            run = publictests.run(kit, exercise.name)
        passed = run.ran and exercise_passes(run.checks, exercise)
        runs += 1
        report("passed" if passed else "run", exercise, run)
        if stop_after is not None and runs >= stop_after:
            return
        if passed:  # on to the next unfinished exercise at once, as the saved results say
            exercise = current_exercise(kit, run.overall)
            continue
        try:
            # a save while the tests ran (or before the watcher started) is caught by the snapshot, checked every 0.5 s
            for changes in watchfiles.watch(kit.exercises, force_polling=force_polling, poll_delay_ms=100, debounce=300, step=30,
                                            watch_filter=lambda change, path: path.endswith(".py"), rust_timeout=500, yield_on_timeout=True):
                if changes or _snapshot(kit.exercises) != seen:
                    break
        except (OSError, RuntimeError):
            force_polling = True  # file events unavailable here: poll instead
