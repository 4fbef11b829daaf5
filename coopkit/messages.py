"""Every word the student reads about a test: failure messages, and the safe text they are made of.

``fail`` builds a wrong answer's message (called / expected / got / likely
cause); ``MESSAGES`` and ``render`` say why an observation could not be made,
from short fields that ``clean_fields`` checks, so the grader can render them
from untrusted data. ``short`` and ``describe`` turn student values into one
safe, capped line.

Standard library only: it runs inside the sandbox (beside ``harness.py``), in
the grader, and under pytest.
"""

from __future__ import annotations

DESCRIBE_LIMIT = 100
DETAIL_BYTES = 200


class CheckFailure(AssertionError):
    """A wrong answer, with a message written for the student."""


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


def _safe_str(exc):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return f"<a {_type_name(exc)} whose str() fails>"
    return short(text) if type(text) is str else "<not text>"
