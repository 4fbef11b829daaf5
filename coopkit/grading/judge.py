"""Step 4: judge. Every verdict and every message is made here, in the grader, from plain data.

A test passes only when its observe half sent data and its verify half,
running here with a fresh generator of the test's seed, accepts it. Student
text reaches a message only inside the verify half's ``got`` (or an
error's short fields), and every message is cleaned: printable, capped in
bytes (a ``got:`` line, which quotes the student's values, at most
``harness.DETAIL_BYTES`` after its label), one test's message at most
``MESSAGE_BYTES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import harness
from .execute import Execution, Outcome
from .suites import Suite

MESSAGE_BYTES = 1500
LINE_BYTES = 400

GRADER_FAILURES = {
    "timeout": lambda timeout, fields: harness.render("timeout", {"seconds": fields.get("seconds", timeout)}),
    "crashed": lambda timeout, fields: harness.render("crashed", {"detail": _how(fields.get("code"))}),
    "garbled": lambda timeout, fields: harness.render("garbled", {"detail": "a line that is not the test's record"}),
    "not_run": lambda timeout, fields: "not run: the exercise used up its time budget",
}
CONFUSED = (
    "the test could not make sense of what your code produced ({detail}): "
    "it returned something of an unexpected shape"
)


@dataclass
class TestResult:
    name: str
    check: str
    passed: bool
    message: str = ""


def _how(code) -> str:
    if code is None:
        return "it would not stop"
    if code < 0 or code > 128:
        return f"killed by signal {abs(code) if code < 0 else code - 128}"
    return f"exit status {code}"


def clean_message(text: str) -> str:
    """A message safe for any terminal, CSV or JSON: printable lines, capped in bytes."""
    lines = []
    for line in str(text).splitlines():
        label, _, rest = line.partition(":")
        if label == "got" and rest:
            lines.append("got:" + harness.short(rest, harness.DETAIL_BYTES + 10, fold=False))
        else:
            lines.append(harness.short(line, LINE_BYTES, fold=False))
    out, used = [], 0
    for line in lines:
        size = len(line.encode()) + 1
        if used + size > MESSAGE_BYTES:
            out.append("...")
            break
        out.append(line)
        used += size
    return "\n".join(out)


def verdict(suite: Suite, name: str, outcome: Outcome | None, seed: int, test_timeout: float) -> tuple[bool, str]:
    """``(passed, message)`` for one test."""
    if outcome is None:
        return False, "not run"
    if outcome.failure is not None:
        return False, GRADER_FAILURES[outcome.failure](test_timeout, outcome.fields)
    if outcome.error is not None:
        kind = outcome.error if outcome.error in harness.MESSAGES else "unknown"
        fields = harness.clean_fields(kind, outcome.fields)
        if fields.get("file") != f"{suite.exercise}.py":  # a place is named only in the student's own file
            fields.pop("file", None), fields.pop("line", None)
        return False, harness.render(kind, fields)
    try:
        harness.judge(suite.verify(name), outcome.seen, harness.rng_for(seed, name))
    except harness.CheckFailure as failure:
        return False, str(failure)
    except Exception as exc:  # noqa: BLE001 - malformed data trips a verify half: the test fails
        return False, CONFUSED.format(detail=type(exc).__name__)
    return True, ""


def judge(suite: Suite, execution: Execution, seed: int, test_timeout: float) -> list[TestResult]:
    results = []
    for index, test in enumerate(suite.tests):
        passed, message = verdict(suite, test.name, execution.outcomes.get(index), seed, test_timeout)
        results.append(TestResult(test.name, test.check, passed, clean_message(message)))
    return results
