"""The progress summary printed at the end of a public ``pytest`` run.

One line per rubric check, in manifest order, then the next exercise to work
on. A check counts as passing when every one of its tests in this run passed.
With ``--coopkit-states FILE`` the same facts go to FILE as JSON, for
``coopkit.student.publictests``: ``{"checks": [{exercise, check, state}],
"tests": [{nodeid, exercise, check, title, state, message}]}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import manifest as manifest_module
from .states import CHECK_OUTCOME, TEST_FAILED, TEST_PASSED, TEST_SKIPPED, TEST_TODO, check_states, summary_lines


class Progress:
    def __init__(self, manifest):
        self.manifest = manifest
        self.tests = {}  # nodeid -> the test's record, as --coopkit-states writes it

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        """One record per test from its setup, call and teardown reports: the first failure decides."""
        record = self.tests.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "exercise": getattr(report, "coopkit_exercise", None),
            "check": getattr(report, "coopkit_check", None), "title": getattr(report, "coopkit_title", report.nodeid),
            "state": None, "message": ""})
        if record["state"] in (TEST_FAILED, TEST_TODO):
            return
        if report.failed:
            record["state"] = getattr(report, "coopkit_state", TEST_FAILED)
            record["message"] = getattr(report, "coopkit_message", "") or report.longreprtext
        elif report.skipped:
            record["state"] = TEST_SKIPPED
        elif report.when == "call":
            record["state"] = TEST_PASSED

    def records(self):
        return [record for record in self.tests.values() if record["state"] is not None]

    def states(self):
        outcomes = {}
        for record in self.records():
            if record["check"] is not None:
                outcomes.setdefault((record["exercise"], record["check"]), []).append(CHECK_OUTCOME[record["state"]])
        return check_states(outcomes, self.manifest)

    @pytest.hookimpl
    def pytest_sessionfinish(self, session):
        target = session.config.getoption("coopkit_states", None)
        if target:
            checks = [{"exercise": e, "check": c, "state": s} for (e, c), s in self.states().items()]
            Path(target).write_text(json.dumps({"checks": checks, "tests": self.records()}), encoding="utf-8")

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter, config):
        if not any(record["check"] is not None for record in self.records()):
            return
        terminalreporter.write_sep("=", "coopkit progress")
        for line in summary_lines(self.states(), self.manifest):
            terminalreporter.write_line(line)


def pytest_addoption(parser):
    parser.getgroup("coopkit").addoption("--coopkit-states", dest="coopkit_states", default=None, help="write each check's and each test's state as JSON to this file")


def pytest_configure(config):
    path = Path(config.rootpath) / "manifest.toml"
    if not path.exists():
        return
    try:
        manifest = manifest_module.load(path)
    except manifest_module.ManifestError:
        return
    config.pluginmanager.register(Progress(manifest), "coopkit-progress")
