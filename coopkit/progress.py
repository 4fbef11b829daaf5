"""The progress summary printed at the end of a public ``pytest`` run.

One line per rubric check, in manifest order, then the next exercise to work
on. A check counts as passing when every one of its tests in this run passed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import manifest as manifest_module
from .states import FAILED, NOT_RUN, PASSED, TODO, check_states, summary_lines


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
            result = TODO if getattr(report, "coopkit_state", "") == "todo" else FAILED
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
