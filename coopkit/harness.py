"""What every coopkit suite stands on: the observe / verify contract.

A test is two halves, one source, two ways to run them:

* ``test_<name>(impl[, rng])`` *observes*: it calls the implementation under
  test and returns what it saw as plain data (JSON: None, bool, int, float,
  str, list, dict). It never decides anything.
* ``verify_<name>(seen[, rng])`` *judges*: from that data alone it decides,
  calling ``fail(call=..., expected=..., got=..., cause=...)`` on a wrong
  answer. ``rng`` is a fresh generator with the same seed as the test's, so a
  verify half draws the same hidden inputs by drawing in the same order.

Under ``pytest`` (``coopkit.plugin``) both halves run in one process, with the
data passed through JSON in between. Under the grader the observe half runs in
the sandbox beside the student's code and only its JSON comes out; the verify
half runs in the grader, which never holds student code.

This module needs nothing but the standard library: it runs inside the
sandbox, in the grader, and under pytest.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import random
import sys
import traceback
import types
import zlib
from pathlib import Path

from .messages import (  # noqa: F401 - the suites import these from here
    DESCRIBE_LIMIT,
    DETAIL_BYTES,
    MESSAGES,
    CheckFailure,
    Shown,
    _safe_str,
    _type_name,
    clean_fields,
    describe,
    fail,
    render,
    short,
)

PACKAGE = "exercises"


class TestTimeout(BaseException):
    """Raised inside a test that ran past its time limit.

    A ``BaseException`` so that ``except Exception`` in student code does not
    swallow it.
    """

    __test__ = False


class ImplementationError(Exception):
    """The implementation could not be loaded: ``kind`` and ``fields`` say why (see ``MESSAGES``)."""

    def __init__(self, kind, **fields):
        self.kind, self.fields = kind, fields
        super().__init__(render(kind, fields))


def check(name):
    """Mark a test as evidence for the rubric check ``name`` of its exercise (``coopkit.plugin`` makes it a pytest mark)."""

    def mark(function):
        function.coopkit_check = name
        return function

    return mark


def seed_for(seed, test_name):
    """The seed of one test's generator: the run's seed mixed with the test's name."""
    return seed ^ zlib.crc32(test_name.encode())


def rng_for(seed, test_name):
    """The generator a test (and its verify half) draws hidden inputs from."""
    return random.Random(seed_for(seed, test_name))


def verifier(module, test_name):
    """The verify half of ``test_name`` in ``module``, or None."""
    return getattr(module, "verify_" + test_name.removeprefix("test_"), None)


def plain(value):
    """``value`` passed through JSON, as the grader will see it; TypeError/ValueError if it is not plain data."""
    return json.loads(json.dumps(value, allow_nan=False))


def judge(verify, seen, rng):
    """Run a verify half: returns None when the answer is right, raises ``CheckFailure`` when not."""
    if verify.__code__.co_argcount >= 2:
        verify(seen, rng)
    else:
        verify(seen)



def classify(exc, tb, folder):
    """``(kind, fields)`` for an exception that escaped an observe half (robust against hostile objects)."""
    where = _student_location(tb, folder)
    if isinstance(exc, ImplementationError):
        return exc.kind, dict(exc.fields)
    if isinstance(exc, TestTimeout):
        seconds = exc.args[0] if exc.args and type(exc.args[0]) in (int, float) else 0
        return "timeout", {"seconds": seconds, **where}
    if isinstance(exc, NotImplementedError) and where:
        return "not_implemented", where
    return "raised", {"type": _type_name(exc), "detail": _safe_str(exc), **where}



def raised_in(exc, folder):
    """``{"file", "line"}`` when ``exc`` was raised by code in ``folder`` itself (its innermost Python
    frame is there, as for a typo in the student's own method), else {}."""
    frames = []
    try:
        frames = list(traceback.walk_tb(exc.__traceback__))
        filename = frames[-1][0].f_code.co_filename if frames else None
        if type(filename) is str and Path(filename).resolve().parent == Path(folder).resolve():
            return {"file": Path(filename).name, "line": frames[-1][1]}
    except Exception:  # noqa: BLE001 - a strange traceback: not placed
        pass
    return {}


def _student_location(tb, folder):
    """``{"file", "line"}`` of the innermost frame in the student's folder, or {}."""
    where = {}
    try:
        for frame, lineno in traceback.walk_tb(tb):
            filename = frame.f_code.co_filename
            try:
                if type(filename) is str and Path(filename).resolve().parent == folder:
                    where = {"file": Path(filename).name, "line": lineno}
            except (OSError, ValueError):
                continue
    except Exception:  # noqa: BLE001 - a strange traceback never hides the failure
        pass
    return where


# -- loading the implementation under test -----------------------------------


class _TopLevelAlias:
    """Make ``import task`` mean ``exercises.task``, for code written to run as a script.

    Any module file of the implementation's folder can be reached by its bare
    name, unless the name is a standard library module's (chapter 7's io.py
    must not shadow ``io``). A meta path finder and its own loader (the
    protocols need no base class: importing ``importlib.abc`` would cost every
    sandbox 20 ms).
    """

    def __init__(self):
        self.served = set()

    def find_spec(self, fullname, path=None, target=None):
        package = sys.modules.get(PACKAGE)
        if "." in fullname or fullname in sys.stdlib_module_names or package is None:
            return None
        folders = getattr(package, "__path__", None) or []
        if not any((Path(folder) / f"{fullname}.py").is_file() for folder in folders):
            return None
        self.served.add(fullname)
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(f"{PACKAGE}.{spec.name}")

    def exec_module(self, module):
        pass


_ALIAS = _TopLevelAlias()


class Implementation:
    """The student's (or the reference) modules, imported from one folder."""

    def __init__(self, folder):
        self.folder = Path(folder).resolve()
        self._hanging = set()  # modules whose import never finished

    def _purge(self):
        for name in list(sys.modules):
            if name == PACKAGE or name.startswith(PACKAGE + ".") or name in _ALIAS.served:
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
            raise ImplementationError("missing_file", module=name)
        if name in self._hanging:
            raise ImplementationError("import_hangs", module=name)
        try:
            return importlib.import_module(f"{PACKAGE}.{name}")
        except TestTimeout:
            self._hanging.add(name)
            raise
        except SyntaxError as exc:
            raise ImplementationError("syntax", module=name, line=exc.lineno or 0, detail=short(str(exc.msg))) from None
        except (NotImplementedError, ImplementationError):
            raise
        except Exception as exc:  # noqa: BLE001 - report any failing import to the student
            where = _student_location(exc.__traceback__, self.folder)
            raise ImplementationError(
                "import_raised", module=name, type=_type_name(exc), detail=_safe_str(exc), **where
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
            raise ImplementationError("no_attr", module=module_name, attr=attr) from None
