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

PACKAGE = "exercises"
DESCRIBE_LIMIT = 100
DETAIL_BYTES = 200


class CheckFailure(AssertionError):
    """A wrong answer, with a message written for the student."""


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


# -- messages ---------------------------------------------------------------


def describe(value, limit=DESCRIBE_LIMIT):
    """A short, safe ``repr``: student objects may have a broken or huge one."""
    try:
        text = repr(value)
    except BaseException:  # noqa: BLE001 - any failure of student code
        text = f"<a {_type_name(value)} object whose repr() fails>"
    if type(text) is not str:  # a str subclass could misbehave later
        text = "<an object whose repr() is not text>"
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return short(text)


class Shown:
    """A value a verify half got as its description: prints as that description (for ``fail(got=...)``)."""

    def __init__(self, text):
        self.text = text if isinstance(text, str) else "?"

    def __repr__(self):
        return self.text


def _type_name(value):
    try:
        name = type(value).__name__
        return name if type(name) is str else "?"
    except BaseException:  # noqa: BLE001
        return "?"


def fail(*, call, expected, got, cause=None):
    """Report a wrong answer: what was called, what was expected, what came back, why.

    One line each. ``got`` quotes what the code under test produced, so it is
    cut to ``DETAIL_BYTES``; the others are the test's own words.
    """
    lines = [
        f"called:   {_one_line(call)}",
        f"expected: {_one_line(expected)}",
        f"got:      {short(str(got), DETAIL_BYTES, fold=False)}",
    ]
    if cause:
        lines.append(f"likely cause: {_one_line(cause)}")
    raise CheckFailure("\n".join(lines))


def _one_line(text, limit=400):
    return short(str(text), limit, fold=False)


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


# -- why an observation could not be made --------------------------------------

# Every message the grader may show when the observe half did not return. Each is
# filled from short, checked fields (see ``clean_fields``), never from free text
# longer than DETAIL_BYTES.
MESSAGES = {
    "not_implemented": "not implemented yet: the stub still raises NotImplementedError{where}",
    "timeout": (
        "stopped after {seconds:g} s: the code never paused or finished{where}. "
        "Likely cause: an endless loop with no yield, or a loop that never advances its generator."
    ),
    "raised": "your code raised {type}: {detail}{where}",
    "missing_file": "{module}.py is missing: the exercise has no code to test.",
    "syntax": (
        "{module}.py has a syntax error at line {line}: {detail}. "
        "Python could not read the file, so none of its code could run."
    ),
    "import_raised": (
        "importing {module}.py raised {type}: {detail}{where}. "
        "Code at the top level of the file runs on import: is something called there by mistake?"
    ),
    "import_hangs": (
        "importing {module}.py never finished: code at the top level of the file loops or waits forever. "
        "Move it into a function, or remove it."
    ),
    "no_attr": (
        "{module}.py defines no `{attr}`. Did you rename or delete it? "
        "The tests call `{attr}` by that exact name."
    ),
    "not_plain": (
        "the test could not read what your code produced ({detail}): "
        "it returned an object of its own where the test expected plain values"
    ),
    "crashed": (
        "the test process ended in the middle of this test ({detail}). "
        "Likely cause: your code calls exit(), sys.exit() or os._exit(), or uses too much memory."
    ),
    "garbled": (
        "the test process sent back something unreadable ({detail}): "
        "your code wrote to the test's private channel or produced far too much data."
    ),
}


def render(kind, fields):
    """The student-facing message for an observation that failed; unknown kinds get a neutral one."""
    template = MESSAGES.get(kind)
    if template is None:
        return "the test could not observe your code"
    fields = dict(fields)
    line = fields.get("line")
    fields.setdefault("where", f" (at {fields['file']} line {line})" if fields.get("file") and line else "")
    try:
        return template.format(**fields)
    except (KeyError, ValueError, IndexError):
        return "the test could not observe your code"


def short(text, limit=DETAIL_BYTES, *, fold=True):
    """Student text made safe to show: printable, one line, at most ``limit`` bytes of UTF-8.

    ``fold`` also folds runs of white space into one space.
    """
    if type(text) is not str:
        text = describe(text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    if fold:
        text = " ".join(text.split())
    encoded = text.encode("utf-8", "replace")
    if len(encoded) > limit:
        text = encoded[: limit - 3].decode("utf-8", "ignore") + "..."
    return text


def _identifier(value, limit=60):
    return value if isinstance(value, str) and value.isidentifier() and len(value) <= limit else "?"


def clean_fields(kind, fields):
    """Fields of an observation failure, each checked or cut: safe to render from untrusted data."""
    if not isinstance(fields, dict):
        return {}
    clean = {}
    for key in ("module", "attr", "type"):
        if key in fields:
            clean[key] = _identifier(fields[key])
    if "file" in fields:
        name = fields["file"]
        ok = isinstance(name, str) and name.endswith(".py") and name[:-3].isidentifier() and len(name) <= 64
        clean["file"] = name if ok else ""
    if "line" in fields:
        line = fields["line"]
        clean["line"] = line if type(line) is int and 0 < line < 10**7 else 0
    if "seconds" in fields:
        seconds = fields["seconds"]
        clean["seconds"] = float(seconds) if type(seconds) in (int, float) and 0 <= seconds < 10**6 else 0.0
    if "detail" in fields:
        clean["detail"] = short(fields["detail"]) if isinstance(fields["detail"], str) else ""
    return clean


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


def _safe_str(exc):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return f"<a {_type_name(exc)} whose str() fails>"
    return short(text) if type(text) is str else "<not text>"


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
