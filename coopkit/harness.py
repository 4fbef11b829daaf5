"""The test harness every coopkit suite stands on: a pytest plugin.

Public suites (``tests/``) and hidden suites (``grading/``) import their
helpers from here, and the grader's sandbox copies this one file in beside a
submission, so it depends on nothing but the standard library and pytest.

What it gives a test:

* ``impl``: a fixture that imports the implementation under test (the folder
  named by ``--impl``; ``exercises/`` by default) as the package
  ``exercises``, fresh on request, with a friendly error when a file or a name
  is missing.
* ``check(name)``: the mark that ties a test to a rubric check.
* ``fail(...)``: the one way a test reports a wrong answer, naming the call,
  the expected value, what came back and the likely cause.
* ``rng``: a ``random.Random`` seeded from ``--coopkit-seed`` and the test's
  name, so hidden inputs vary by test but never between runs.
* A per-test timer behind pytest-timeout's hooks: SIGALRM raises
  ``TestTimeout`` inside the test, and a watchdog thread ends the process when
  code ignores signals, so a hang is reported and never waited out.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import random
import signal
import sys
import threading
import traceback
import types
import zlib
from pathlib import Path

import pytest

PACKAGE = "exercises"
# Exercise modules that `import task`-style code may also reach by their bare name. Only names that
# shadow nothing in the standard library belong here (chapter 7's io.py, for one, must not).
MODULES = ("async_map", "runner", "task", "scheduler", "traps")
DEFAULT_SEED = 20261129
WATCHDOG_GRACE = 2.0
DESCRIBE_LIMIT = 100


class CheckFailure(AssertionError):
    """A wrong answer, with a message written for the student."""


class TestTimeout(BaseException):
    """Raised inside a test that ran past its time limit.

    A ``BaseException`` so that ``except Exception`` in student code does not
    swallow it.
    """

    __test__ = False


class ImplementationError(Exception):
    """The implementation could not be loaded: a missing file or name, a crash on import."""


# -- messages ---------------------------------------------------------------


def describe(value, limit=DESCRIBE_LIMIT):
    """A short, safe ``repr``: student objects may have a broken or huge one."""
    try:
        text = repr(value)
    except BaseException:  # noqa: BLE001 - any failure of student code
        text = f"<a {type(value).__name__} object whose repr() fails>"
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def fail(*, call, expected, got, cause=None):
    """Report a wrong answer: what was called, what was expected, what came back, why."""
    lines = [f"called:   {call}", f"expected: {expected}", f"got:      {got}"]
    if cause:
        lines.append(f"likely cause: {cause}")
    raise CheckFailure("\n".join(lines))


def check(name):
    """Mark a test as evidence for the rubric check ``name`` of its exercise."""
    return pytest.mark.check(name)


# -- loading the implementation under test -----------------------------------


class _TopLevelAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Make ``import task`` mean ``exercises.task``, for code written to run as a script."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MODULES and PACKAGE in sys.modules:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(f"{PACKAGE}.{spec.name}")

    def exec_module(self, module):
        pass


_ALIAS = _TopLevelAlias()


class Implementation:
    """The student's (or the reference) modules, imported from one folder."""

    def __init__(self, folder):
        self.folder = Path(folder).resolve()
        self._hanging = {}  # module name -> message, for imports that never finished

    def _purge(self):
        for name in list(sys.modules):
            if name == PACKAGE or name.startswith(PACKAGE + ".") or name in MODULES:
                del sys.modules[name]

    def _package(self):
        package = sys.modules.get(PACKAGE)
        if package is None or getattr(package, "__path__", None) != [str(self.folder)]:
            self._purge()
            package = types.ModuleType(PACKAGE, "The implementation under test.")
            package.__path__ = [str(self.folder)]
            package.__spec__ = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
            package.__spec__.submodule_search_locations = package.__path__
            sys.modules[PACKAGE] = package
        if _ALIAS not in sys.meta_path:
            sys.meta_path.insert(0, _ALIAS)
        return package

    def load(self, name):
        """Import ``exercises.<name>`` (once) and return the module."""
        self._package()
        path = self.folder / f"{name}.py"
        if not path.is_file():
            raise ImplementationError(f"{name}.py is missing from {self.folder}: the exercise has no code to test.")
        if name in self._hanging:
            raise ImplementationError(self._hanging[name])
        try:
            return importlib.import_module(f"{PACKAGE}.{name}")
        except TestTimeout:
            self._hanging[name] = (
                f"importing {name}.py never finished: code at the top level of the file loops or waits forever. "
                "Move it into a function, or remove it."
            )
            raise
        except SyntaxError as exc:
            where = f"line {exc.lineno}" if exc.lineno else "somewhere"
            raise ImplementationError(
                f"{Path(exc.filename or path).name} has a syntax error at {where}: {exc.msg}. "
                "Python could not read the file, so none of its code could run."
            ) from None
        except NotImplementedError:
            raise
        except ImplementationError:
            raise
        except Exception as exc:  # noqa: BLE001 - report any failing import to the student
            raise ImplementationError(
                f"importing {name}.py raised {type(exc).__name__}: {describe(str(exc), 160)}"
                f"{_student_location(exc.__traceback__, self.folder)}. "
                "Code at the top level of the file runs on import: is something called there by mistake?"
            ) from None

    def fresh(self, name):
        """Forget every imported module of the implementation, then import ``name`` anew."""
        self._purge()
        return self.load(name)

    def attr(self, module_name, attr, *, fresh=False):
        """``module.attr``, with a message naming the file when it is missing."""
        module = self.fresh(module_name) if fresh else self.load(module_name)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise ImplementationError(
                f"{module_name}.py defines no `{attr}`. Did you rename or delete it? "
                f"The tests call `{attr}` by that exact name."
            ) from None


def _student_location(tb, folder):
    """`` (at task.py line 7)`` for the innermost frame in the student's folder, or ''."""
    where = ""
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        try:
            if Path(filename).resolve().parent == folder:
                where = f" (at {Path(filename).name} line {lineno})"
        except (OSError, ValueError):
            continue
    return where


def _impl_folder(config):
    option = config.getoption("coopkit_impl") or os.environ.get("COOPKIT_IMPL") or PACKAGE
    folder = Path(option)
    if not folder.is_absolute() and not folder.exists():
        folder = Path(config.rootpath) / option
    return folder.resolve()


# -- the plugin --------------------------------------------------------------


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def pytest_addoption(parser):
    group = parser.getgroup("coopkit")
    group.addoption(
        "--impl",
        dest="coopkit_impl",
        default=None,
        help="folder with the four exercise modules to test (default: exercises/); 'solutions' tests the reference",
    )
    group.addoption("--coopkit-quiet-hangs", dest="coopkit_tell_hangs", action="store_false", help=argparse_suppress())
    group.addoption(
        "--coopkit-seed",
        dest="coopkit_seed",
        type=int,
        default=DEFAULT_SEED,
        help="seed for the random inputs of the tests",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "check(name): the rubric check a test is evidence for")
    folder = _impl_folder(config)
    if not folder.is_dir():
        raise pytest.UsageError(
            f"--impl {folder}: no such folder. Name a folder that holds async_map.py, runner.py, task.py and scheduler.py."
        )
    config.coopkit_impl = Implementation(folder)


@pytest.fixture
def impl(request):
    """The implementation under test."""
    return request.config.coopkit_impl


@pytest.fixture
def rng(request):
    """A random generator seeded from the run's seed and this test's name."""
    seed = request.config.getoption("coopkit_seed") ^ zlib.crc32(request.node.name.encode())
    return random.Random(seed)


def check_of(item):
    """``(exercise, check)`` for a test item: the exercise from ``test_<exercise>.py``, the check from its mark."""
    mark = item.get_closest_marker("check")
    exercise = Path(str(item.fspath)).stem.removeprefix("test_")
    return exercise, (mark.args[0] if mark and mark.args else None)


# -- timer (replaces pytest-timeout's, keeps its settings) --------------------

_hard_timeout_callbacks = []
try:  # the terminal, saved before pytest starts capturing output
    _TERMINAL = os.dup(2)
except OSError:  # pragma: no cover
    _TERMINAL = None


def _tell_terminal(item, seconds):
    """The last word when the watchdog must end pytest: which test hung and why."""
    if _TERMINAL is None or not item.config.getoption("coopkit_tell_hangs", True):
        return
    text = (
        f"\ncoopkit: {item.nodeid} was stopped after {seconds:g} s and its code ignores the stop signal, "
        "so this pytest run had to end here; the remaining tests did not run.\n"
        "Likely cause: an endless loop with no yield (or code that blocks SIGALRM).\n"
    )
    os.write(_TERMINAL, text.encode())


def on_hard_timeout(callback):
    """Register ``callback(item, seconds)``, called by the watchdog just before it ends the process."""
    _hard_timeout_callbacks.append(callback)


def _watchdog_fire(item, seconds):
    for callback in _hard_timeout_callbacks + [_tell_terminal]:
        try:
            callback(item, seconds)
        except Exception:  # noqa: BLE001 - the process ends regardless
            pass
    os._exit(3)


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    seconds = settings.timeout
    if not seconds or seconds <= 0:
        return None
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

    item.cancel_timeout = cancel
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_cancel_timer(item):
    cancel = getattr(item, "cancel_timeout", None)
    if cancel:
        cancel()
    return True


# -- friendly failure reports ------------------------------------------------


def explain(item, excinfo):
    """The student-facing message for a failed test: never the test's source."""
    exc = excinfo.value
    folder = item.config.coopkit_impl.folder
    if isinstance(exc, CheckFailure):
        return str(exc)
    if isinstance(exc, TestTimeout):
        return (
            f"stopped after {exc.args[0]:g} s: the code never paused or finished. "
            "Likely cause: an endless loop with no yield, or a loop that never advances its generator."
        )
    if isinstance(exc, ImplementationError):
        return str(exc)
    if isinstance(exc, NotImplementedError) and _student_location(excinfo.tb, folder):
        return "not implemented yet: the stub still raises NotImplementedError" + _student_location(excinfo.tb, folder)
    return (
        f"your code raised {type(exc).__name__}: {describe(str(exc), 160)}"
        f"{_student_location(excinfo.tb, folder)}"
    )


def is_not_implemented(message):
    return message.startswith("not implemented yet")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    exercise, check_name = check_of(item)
    report.coopkit_exercise = exercise
    report.coopkit_check = check_name
    report.coopkit_message = ""
    if check_name is None:
        return
    if call.excinfo is not None and report.failed:
        message = explain(item, call.excinfo)
        report.coopkit_message = message
        title = (item.obj.__doc__ or item.name).strip().splitlines()[0]
        label = f"[{exercise}.{check_name}] {title}"
        if is_not_implemented(message):
            report.longrepr = f"{label}\n  {message}"
        else:
            report.longrepr = label + "\n" + "\n".join("  " + line for line in message.splitlines())
