"""The pytest plugin behind ``pytest`` on the suites: both halves of every test in one process.

What it gives a suite:

* ``impl``: a fixture with the implementation under test (the folder named by
  ``--impl``; ``exercises/`` by default), imported as the package
  ``exercises``.
* ``rng``: a ``random.Random`` seeded from ``--coopkit-seed`` and the test's
  name (``harness.rng_for``), so hidden inputs vary by test but never
  between runs.
* The ``check`` mark, from ``harness.check``.
* Each test's observe half runs, its data goes through JSON, and its verify
  half judges it, exactly as the grader does across the sandbox wall.
* On every test report: ``coopkit_exercise``, ``coopkit_check``,
  ``coopkit_title``, ``coopkit_state`` (passed, failed, todo, skipped) and
  ``coopkit_message`` (what the student reads about a failure), which
  ``coopkit.progress`` collects.
* A per-test timer behind pytest-timeout's hooks: SIGALRM raises
  ``TestTimeout`` inside the test (its message names the student's line that
  was running), and a watchdog thread ends the process when code ignores
  signals, so a hang is reported and never waited out. Once a test of an
  exercise has timed out, its later tests get ``AFTER_HANG_SECONDS`` each.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from . import harness
from .harness import CheckFailure, TestTimeout

WATCHDOG_GRACE = 2.0
AFTER_HANG_SECONDS = 1.0  # each later test of an exercise that already hung: its student hears at once
IMPL_KEY = pytest.StashKey["harness.Implementation"]()
CANCEL_KEY = pytest.StashKey[object]()
SEED_KEY = pytest.StashKey[int]()
HUNG_KEY = pytest.StashKey[set]()  # the exercises where a test already timed out


def pytest_addoption(parser):
    group = parser.getgroup("coopkit")
    group.addoption(
        "--impl",
        dest="coopkit_impl",
        default=None,
        help="folder with the exercise modules to test (default: exercises/); 'solutions' tests the reference",
    )
    group.addoption("--coopkit-quiet-hangs", dest="coopkit_tell_hangs", action="store_false", help=_suppress())
    group.addoption(
        "--coopkit-seed",
        dest="coopkit_seed",
        type=int,
        default=None,
        help="seed for the random inputs of the tests (default: the manifest's)",
    )


def _suppress():
    import argparse

    return argparse.SUPPRESS


def _impl_folder(config):
    option = config.getoption("coopkit_impl") or os.environ.get("COOPKIT_IMPL") or harness.PACKAGE
    folder = Path(option)
    if not folder.is_absolute() and not folder.exists():
        folder = Path(config.rootpath) / option
    return folder.resolve()


def pytest_configure(config):
    config.addinivalue_line("markers", "check(name): the rubric check a test is evidence for")
    folder = _impl_folder(config)
    if not folder.is_dir():
        raise pytest.UsageError(f"--impl {folder}: no such folder. Name a folder that holds the exercise files (async_map.py, ...).")
    config.stash[IMPL_KEY] = harness.Implementation(folder)
    config.stash[SEED_KEY] = config.getoption("coopkit_seed") or _manifest_seed(config)


def _manifest_seed(config) -> int:
    """The kit's seed: the manifest beside the tests (the kit or a student bundle)."""
    from .paths import find_kit

    for root in (Path(config.rootpath), find_kit().root):
        if (root / "manifest.toml").is_file():
            from . import manifest

            return manifest.load(root / "manifest.toml").seed
    raise pytest.UsageError("no manifest.toml found beside the tests: run pytest from the kit's folder")


def pytest_collection_modifyitems(items):
    for item in items:
        name = getattr(getattr(item, "obj", None), "coopkit_check", None)
        if name is not None and item.get_closest_marker("check") is None:
            item.add_marker(pytest.mark.check(name))


@pytest.fixture
def impl(request):
    """The implementation under test."""
    return request.config.stash[IMPL_KEY]


@pytest.fixture
def rng(request):
    """A random generator seeded from the run's seed and this test's name."""
    return harness.rng_for(request.config.stash[SEED_KEY], request.node.name)


def check_of(item):
    """``(exercise, check)`` for a test item: the exercise from ``test_<exercise>.py``, the check from its mark."""
    exercise = Path(str(item.fspath)).stem.removeprefix("test_")
    return exercise, getattr(getattr(item, "obj", None), "coopkit_check", None)


# -- observe, then verify -------------------------------------------------------


class NotPlainData(Exception):
    """The observe half returned something JSON cannot carry."""


def observe_and_verify(pyfuncitem, alter=None):
    """Both halves of a test, as the grader runs them: observe, pass through JSON (``alter`` may change
    the data, for the kit's own tests), verify. Raises what the verify half raises."""
    verify = harness.verifier(pyfuncitem.module, pyfuncitem.name)
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    returned = pyfuncitem.obj(**arguments)
    try:
        seen = harness.plain(returned)
    except (TypeError, ValueError, RecursionError) as exc:
        raise NotPlainData(harness.short(str(exc))) from None
    if alter is not None:
        seen = alter(seen)
    harness.judge(verify, seen, harness.rng_for(pyfuncitem.config.stash[SEED_KEY], pyfuncitem.name))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if harness.verifier(pyfuncitem.module, pyfuncitem.name) is None:
        return None  # a plain test
    observe_and_verify(pyfuncitem)
    return True


# -- timer (replaces pytest-timeout's, keeps its settings) --------------------

try:  # the terminal, saved before pytest starts capturing output
    _TERMINAL = os.dup(2)
except OSError:  # pragma: no cover
    _TERMINAL = None


def _watchdog_fire(item, seconds):
    if _TERMINAL is not None and item.config.getoption("coopkit_tell_hangs", True):
        text = (
            f"\ncoopkit: {item.nodeid} was stopped after {seconds:g} s and its code ignores the stop signal, "
            "so this pytest run had to end here; the remaining tests did not run.\n"
            "Likely cause: an endless loop with no yield (or code that blocks SIGALRM).\n"
        )
        try:
            os.write(_TERMINAL, text.encode())
        except OSError:
            pass
    os._exit(3)


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    seconds = settings.timeout
    if not seconds or seconds <= 0:
        return None
    if check_of(item)[0] in item.config.stash.get(HUNG_KEY, set()):
        seconds = min(seconds, AFTER_HANG_SECONDS)
    on_main = threading.current_thread() is threading.main_thread()
    previous = None
    if on_main:
        def on_alarm(signum, frame):
            raise TestTimeout(seconds)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    watchdog = threading.Timer(seconds + WATCHDOG_GRACE, _watchdog_fire, (item, seconds))
    watchdog.daemon = True
    watchdog.start()

    def cancel():
        watchdog.cancel()
        if on_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)

    item.stash[CANCEL_KEY] = cancel
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_cancel_timer(item):
    cancel = item.stash.get(CANCEL_KEY, None)
    if cancel:
        cancel()
    return True


# -- friendly failure reports ------------------------------------------------


def title_of(item):
    """The first line of a test's docstring, else its name."""
    test = getattr(item, "obj", None)
    doc = test.__doc__ if callable(test) else None
    return ((doc or "").strip() or item.name).splitlines()[0]


def explain(item, excinfo):
    """``(state, message)`` for a failed test: never the test's source."""
    exc = excinfo.value
    if isinstance(exc, CheckFailure):
        return "failed", str(exc)
    if isinstance(exc, NotPlainData):
        return "failed", harness.render("not_plain", {"detail": str(exc)})
    kind, fields = harness.classify(exc, excinfo.tb, item.config.stash[IMPL_KEY].folder)
    return ("todo" if kind == "not_implemented" else "failed"), harness.render(kind, harness.clean_fields(kind, fields))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    exercise, check_name = check_of(item)
    report.coopkit_exercise = exercise
    report.coopkit_check = check_name
    report.coopkit_title = title_of(item)
    report.coopkit_message = ""
    report.coopkit_state = report.outcome  # "passed", "failed" or "skipped"; "todo" for a stub, below
    if check_name is None:
        return
    if call.excinfo is not None and isinstance(call.excinfo.value, TestTimeout):
        item.config.stash.setdefault(HUNG_KEY, set()).add(exercise)
    if call.excinfo is not None and report.failed:
        state, message = explain(item, call.excinfo)
        report.coopkit_state, report.coopkit_message = state, message
        label = f"[{exercise}.{check_name}] {report.coopkit_title}"
        if state == "todo":
            report.longrepr = f"{label}\n  {message}"
        else:
            report.longrepr = label + "\n" + "\n".join("  " + line for line in message.splitlines())
