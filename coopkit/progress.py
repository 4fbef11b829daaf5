"""The progress summary printed at the end of a public ``pytest`` run, and the course order of the tests.

* Test files run in course order (the manifest's), so the current exercise's
  failures come first.
* The first exercise of the run that does not pass is the current one: its
  failures show in full. A later exercise's untouched stubs ("todo" tests)
  fold into its one summary line; they still count as failures for the exit
  status.
* The summary has one line per exercise, one per check for the current one,
  built from every exercise's latest state: each run against ``exercises/``
  saves its tests' states (``coopkit.states.save_results``), so a one-file
  run still knows the rest, and says that it covered one exercise.
* A stub that raised before starting the coroutines its test handed it gets
  them closed, so no "coroutine was never awaited" warnings follow.

With ``--coopkit-states FILE`` the same facts go to FILE as JSON, for
``coopkit.student.publictests``: ``{"checks": [{exercise, check, state}]`` (this
run), ``"overall": [...]`` (with the saved results), ``"tests": [{nodeid,
exercise, check, title, state, message}]}``.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from . import manifest as manifest_module
from .states import (
    TEST_FAILED, TEST_PASSED, TEST_SKIPPED, TEST_TODO, merged_results, save_results, states_of, summary_lines,
)

FOLDED = "not started"  # the terminal's category for a folded stub test: not listed under FAILURES


def close_unstarted_coroutines(tb) -> None:
    """Close the coroutines a stub was handed and never started (the test's ``main()``...), so that Python does
    not warn, long after, that they were "never awaited": the student's stub is not the cause."""
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            for item in (value if isinstance(value, (list, tuple)) else (value,)):
                if inspect.iscoroutine(item) and inspect.getcoroutinestate(item) == inspect.CORO_CREATED:
                    item.close()
        tb = tb.tb_next


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: coopkit.plugin has set coopkit_state when this resumes
def pytest_runtest_makereport(item, call):
    report = yield
    if getattr(report, "coopkit_state", None) == TEST_TODO and call.excinfo is not None:
        close_unstarted_coroutines(call.excinfo.tb)
    return report


class Progress:
    def __init__(self, manifest, root: Path):
        self.manifest = manifest
        self.root = root
        self.order = {exercise.name: n for n, exercise in enumerate(manifest.exercises)}
        self.tests = {}  # nodeid -> the test's record, as --coopkit-states writes it
        self.overall = None  # {nodeid: record} with the saved results, once the session ends

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        """Course order: async_map, runner, task, scheduler, then Part 2 (a stable sort keeps each file's order)."""
        items.sort(key=lambda item: self.order.get(Path(str(item.fspath)).stem.removeprefix("test_"), len(self.order)))

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

    def checked(self):
        return [record for record in self.records() if record["check"] is not None]

    def covered(self) -> list[str]:
        """The exercises this run tested, in course order."""
        names = {record["exercise"] for record in self.checked()}
        return [exercise.name for exercise in self.manifest.exercises if exercise.name in names]

    def current(self) -> str | None:
        """The first exercise of this run, in course order, with a test that does not pass."""
        unfinished = {record["exercise"] for record in self.checked() if record["state"] != TEST_PASSED}
        return next((name for name in self.covered() if name in unfinished), None)

    def remembers(self, config) -> bool:
        """True when this run tests ``exercises/``: only then are its results the student's progress."""
        from .plugin import IMPL_KEY

        impl = config.stash.get(IMPL_KEY, None)
        return impl is not None and Path(impl.folder).resolve() == (self.root / "exercises").resolve()

    @pytest.hookimpl
    def pytest_sessionfinish(self, session):
        records = self.records()
        if self.remembers(session.config) and self.checked():
            self.overall = merged_results(self.root, records)
            try:
                save_results(self.root, self.overall)
            except OSError:
                pass  # a read-only folder: the summary still shows this run
        else:
            self.overall = {record["nodeid"]: record for record in records}
        target = session.config.getoption("coopkit_states", None)
        if target:
            data = {"checks": self.as_list(states_of(records, self.manifest)),
                    "overall": self.as_list(states_of(self.overall.values(), self.manifest)), "tests": records}
            Path(target).write_text(json.dumps(data), encoding="utf-8")

    @staticmethod
    def as_list(states):
        return [{"exercise": e, "check": c, "state": s} for (e, c), s in states.items()]

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        """Fold the untouched stubs of every exercise but the current one before pytest lists the failures;
        the progress summary comes last."""
        current = self.current()
        failed = terminalreporter.stats.get("failed", [])
        folded = [report for report in failed if getattr(report, "coopkit_state", None) == TEST_TODO
                  and getattr(report, "coopkit_exercise", None) != current]
        if folded:
            terminalreporter.stats["failed"] = [report for report in failed if report not in folded]
            terminalreporter.stats.setdefault(FOLDED, []).extend(folded)
        result = yield
        if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and Path(config.invocation_params.dir) != self.root:
            terminalreporter.write_line(
                f"coopkit: no tests here. The public tests are in {self.root / 'tests'}: run `pytest` in {self.root}.")
        if self.checked():
            terminalreporter.write_sep("=", "coopkit progress")
            states = states_of(self.overall.values(), self.manifest)
            for line in summary_lines(states, self.manifest, current, self.covered(), remembered=self.remembers(config)):
                terminalreporter.write_line(line)
        return result


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
    config.pluginmanager.register(Progress(manifest, Path(config.rootpath).resolve()), "coopkit-progress")
