"""The state of each rubric check after a public run, and the summary lines built from it.

Plain functions with no pytest import, shared by the pytest summary
(``coopkit.progress``) and the student's commands.
"""

from __future__ import annotations

PASSED, FAILED, NOT_RUN, TODO = "passed", "failed", "not run", "not started"
# One test's state (``coopkit_state`` on its pytest report), and what it means for its check.
TEST_PASSED, TEST_FAILED, TEST_TODO, TEST_SKIPPED = "passed", "failed", "todo", "skipped"
CHECK_OUTCOME = {TEST_PASSED: PASSED, TEST_FAILED: FAILED, TEST_TODO: TODO, TEST_SKIPPED: NOT_RUN}


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


def next_exercise(states, manifest):
    for exercise in manifest.exercises:
        if any(states[(exercise.name, check.name)] != PASSED for check in exercise.checks):
            return exercise
    return None


def summary_lines(states, manifest):
    """Plain-text lines of the summary (shared by pytest and ``coopkit status``)."""
    lines, earned = [], 0
    marks = {PASSED: "✔", FAILED: "✘", TODO: "·", NOT_RUN: "-"}
    for exercise in manifest.exercises:
        for check in exercise.checks:
            state = states[(exercise.name, check.name)]
            earned += check.points if state == PASSED else 0
            lines.append(f"  {marks[state]} {exercise.name:<10} {check.name:<22} {check.points:>2} pt  {state}")
    lines.append(f"  public tests: {earned}/{manifest.points} points (the hidden grading suites check more cases)")
    upcoming = next_exercise(states, manifest)
    if upcoming is None:
        lines.append("  every public check passes. Well done!")
    else:
        lines.append(f"  next: {upcoming.title}  (stuck? `coopkit hint {upcoming.name}`)")
    return lines
