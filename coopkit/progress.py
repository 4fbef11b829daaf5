"""The progress summary printed at the end of a public ``pytest`` run.

One line per rubric check, in manifest order, then the next exercise to work
on. A check counts as passing when every one of its tests in this run passed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import manifest as manifest_module
from .harness import is_not_implemented

PASSED, FAILED, NOT_RUN, TODO = "passed", "failed", "not run", "not started"


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


class Progress:
    def __init__(self, manifest):
        self.manifest = manifest
        self.outcomes = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        check = getattr(report, "coopkit_check", None)
        if check is None or (report.when != "call" and not report.failed):
            return
        if report.failed:
            message = getattr(report, "coopkit_message", "")
            result = TODO if is_not_implemented(message) else FAILED
        else:
            result = PASSED if report.passed else NOT_RUN
        self.outcomes.setdefault((report.coopkit_exercise, check), []).append(result)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter, config):
        target = config.getoption("coopkit_states", None)
        if target:
            states = check_states(self.outcomes, self.manifest)
            Path(target).write_text(json.dumps([{"exercise": e, "check": c, "state": s} for (e, c), s in states.items()]))
        if not self.outcomes:
            return
        states = check_states(self.outcomes, self.manifest)
        terminalreporter.write_sep("=", "coopkit progress")
        for line in summary_lines(states, self.manifest):
            terminalreporter.write_line(line)


def pytest_addoption(parser):
    parser.getgroup("coopkit").addoption("--coopkit-states", dest="coopkit_states", default=None, help="write each check's state as JSON to this file")


def pytest_configure(config):
    path = Path(config.rootpath) / "manifest.toml"
    if not path.exists():
        return
    try:
        manifest = manifest_module.load(path)
    except manifest_module.ManifestError:
        return
    config.pluginmanager.register(Progress(manifest), "coopkit-progress")
