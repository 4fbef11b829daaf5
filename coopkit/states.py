"""The state of each rubric check, the results saved between runs, and the summary lines built from them.

Plain functions with no pytest import, shared by the pytest summary
(``coopkit.progress``) and the student's commands. Every public run against
``exercises/`` saves each test's latest state in ``.coopkit/results.json``, so
a summary after a one-file run still knows the other exercises.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

PASSED, FAILED, NOT_RUN, TODO = "passed", "failed", "not run", "not started"
IN_PROGRESS = "in progress"  # an exercise with some checks passing and the rest still stubs
# One test's state (``coopkit_state`` on its pytest report), and what it means for its check.
TEST_PASSED, TEST_FAILED, TEST_TODO, TEST_SKIPPED = "passed", "failed", "todo", "skipped"
CHECK_OUTCOME = {TEST_PASSED: PASSED, TEST_FAILED: FAILED, TEST_TODO: TODO, TEST_SKIPPED: NOT_RUN}
MARKS = {PASSED: "✔", FAILED: "✘", TODO: "·", NOT_RUN: "-", IN_PROGRESS: "…"}
LABELS = {NOT_RUN: "not run yet"}
RESULTS_FILE = Path(".coopkit") / "results.json"


def check_states(outcomes, manifest):
    """``{(exercise, check): state}`` from ``{(exercise, check): [outcome, ...]}``."""
    states = {}
    for check in manifest.checks:
        results = outcomes.get((check.exercise, check.name))
        if not results:
            states[(check.exercise, check.name)] = NOT_RUN
        elif all(result == PASSED for result in results):
            states[(check.exercise, check.name)] = PASSED
        elif all(result == TODO for result in results):
            states[(check.exercise, check.name)] = TODO
        else:
            states[(check.exercise, check.name)] = FAILED
    return states


def states_of(records, manifest):
    """Check states from test records (dicts with exercise, check and state, as ``--coopkit-states`` writes them)."""
    outcomes = {}
    for record in records:
        if record.get("check") is not None and record.get("state") in CHECK_OUTCOME:
            outcomes.setdefault((record["exercise"], record["check"]), []).append(CHECK_OUTCOME[record["state"]])
    return check_states(outcomes, manifest)


# -- saved results ---------------------------------------------------------------------


def load_results(root) -> dict[str, dict]:
    """``{nodeid: {exercise, check, state}}``: each public test's latest state, from every earlier run."""
    try:
        data = json.loads((Path(root) / RESULTS_FILE).read_text(encoding="utf-8"))
        return {nodeid: record for nodeid, record in data["tests"].items() if isinstance(record, dict)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def merged_results(root, records) -> dict[str, dict]:
    """The saved results with this run's ``records`` on top (a test that did not run keeps its last state)."""
    results = load_results(root)
    for record in records:
        results[record["nodeid"]] = {key: record[key] for key in ("exercise", "check", "state")}
    return results


def save_results(root, results: dict[str, dict]) -> None:
    folder = Path(root) / RESULTS_FILE.parent
    folder.mkdir(exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="results-", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"tests": results}, out, indent=1, sort_keys=True)
    os.replace(temporary, folder / RESULTS_FILE.name)


def saved_states(root, manifest):
    """``{(exercise, check): state}`` from the saved results alone (no test runs)."""
    return states_of(load_results(root).values(), manifest)


# -- exercises ------------------------------------------------------------------------


def exercise_state(states, exercise) -> str:
    found = {states.get((exercise.name, check.name), NOT_RUN) for check in exercise.checks}
    if found == {PASSED}:
        return PASSED
    if FAILED in found:
        return FAILED
    if PASSED in found:
        return IN_PROGRESS
    return TODO if TODO in found else NOT_RUN


def next_exercise(states, manifest):
    for exercise in manifest.exercises:
        if any(states[(exercise.name, check.name)] != PASSED for check in exercise.checks):
            return exercise
    return None


def earned(states, checks) -> int:
    return sum(check.points for check in checks if states.get((check.exercise, check.name)) == PASSED)


def part_totals(states, manifest) -> list[tuple[int, int, int]]:
    """``[(part, points earned, points), ...]``."""
    totals = []
    for number in manifest.parts:
        checks = [check for exercise in manifest.part(number).exercises for check in exercise.checks]
        totals.append((number, earned(states, checks), sum(check.points for check in checks)))
    return totals


def parts_text(states, manifest) -> str:
    """``Part 1 complete: 25/25 points · Part 2: 3/49 points``."""
    return " · ".join(f"Part {number}{' complete' if got == total else ''}: {got}/{total} points"
                      for number, got, total in part_totals(states, manifest))


def totals_line(states, manifest) -> str:
    """The points per part, or ``all done`` once every check passes."""
    if next_exercise(states, manifest) is None:
        return f"all done: {manifest.points}/{manifest.points} points, every public check passes. Well done!"
    return parts_text(states, manifest) + " (the hidden grading suites check more cases)"


def summary_lines(states, manifest, current: str | None = None, covered=None, remembered: bool = False):
    """Plain-text lines of the summary: one line per exercise, one per check for ``current``.

    ``covered`` names the exercises this run tested (None: every one), so a one-file run says so;
    ``remembered`` says the other exercises' states come from earlier runs.
    """
    lines = []
    for exercise in manifest.exercises:
        if exercise.name == current:
            for check in exercise.checks:
                state = states[(exercise.name, check.name)]
                lines.append(f"  {MARKS[state]} {exercise.name:<10} {check.name:<22} {check.points:>2} pt  {LABELS.get(state, state)}")
            continue
        state = exercise_state(states, exercise)
        got = earned(states, exercise.checks)
        lines.append(f"  {MARKS[state]} {exercise.name:<10} {got:>2}/{exercise.points:<2} pt  {LABELS.get(state, state)}")
    lines.append("  " + totals_line(states, manifest))
    if covered is not None and len(covered) < len(manifest.exercises):
        names = ", ".join(covered)
        what = "one exercise" if len(covered) == 1 else f"{len(covered)} exercises"
        earlier = "; the other lines are from your earlier runs" if remembered else ""
        lines.append(f"  this run covered {what} ({names}){earlier}.")
    upcoming = next_exercise(states, manifest)
    if upcoming is not None:
        lines.append(f"  next: {upcoming.title}  (exercises/{upcoming.name}.py; stuck? `coopkit hint`)")
    return lines
