"""The one runner of the public tests: a pytest subprocess, read back as data.

Student commands, ``coopkit dev check`` and the notebook's check cells (so
``nbgrader validate`` too) all call ``run``. It reads only the JSON file that
``coopkit.progress`` writes under ``--coopkit-states``; pytest's own text is
kept in ``PublicRun.output`` for showing to a person, and no code parses it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..paths import Kit
from ..states import TEST_PASSED

COLOR_VARIABLES = ("FORCE_COLOR", "PY_COLORS")  # ipykernel sets FORCE_COLOR: pytest would colour its text


@dataclass(frozen=True)
class TestResult:
    """One public test: its state is passed, failed, todo (a stub) or skipped; message is what the student reads."""

    __test__ = False  # not a pytest test class

    nodeid: str
    exercise: str
    check: str | None
    title: str
    state: str
    message: str = ""


@dataclass
class PublicRun:
    tests: list[TestResult] = field(default_factory=list)
    checks: dict[tuple[str, str], str] = field(default_factory=dict)  # {(exercise, check): state}, as states.check_states
    overall: dict[tuple[str, str], str] = field(default_factory=dict)  # the same with the saved results of earlier runs
    output: str = ""  # pytest's text, for people only
    ran: bool = True
    reason: str = ""  # one line, when not ran

    def failing(self, exercise: str | None = None, check: str | None = None) -> list[TestResult]:
        """Tests that did not pass (of one exercise, and one check, when given)."""
        return [t for t in self.tests if t.state != TEST_PASSED and exercise in (None, t.exercise) and check in (None, t.check)]


def plain_env() -> dict[str, str]:
    """No colour codes, and no plugins but the ones the public tests use (``-p pytest_timeout`` below): half the start-up time."""
    env = {name: value for name, value in os.environ.items() if name not in COLOR_VARIABLES}
    env["NO_COLOR"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def run(kit: Kit, exercise: str | None = None, impl: Path | None = None) -> PublicRun:
    """The public tests of ``exercise`` (all, if None) against ``impl`` (exercises/, if None), in one pytest process."""
    target = kit.public_test_file(exercise) if exercise else kit.tests
    with tempfile.TemporaryDirectory(prefix="coopkit-public-") as scratch:
        states_file = Path(scratch) / "states.json"
        command = [sys.executable, "-m", "pytest", str(target), "-q", "--no-header", "-p", "no:cacheprovider",
                   "-p", "pytest_timeout", "--tb=native", "--coopkit-states", str(states_file)]
        if impl is not None:
            command += ["--impl", str(impl)]
        result = subprocess.run(command, cwd=kit.root, capture_output=True, text=True, env=plain_env())
        output = result.stdout + result.stderr
        try:
            data = json.loads(states_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
    if data is None or result.returncode not in (0, 1):
        where = target.relative_to(kit.root) if target.is_relative_to(kit.root) else target
        reason = f"the public tests did not run to the end (pytest exit status {result.returncode}): run `pytest {where}` to see why"
        return PublicRun(output=output, ran=False, reason=reason, **(read(data) if data else {}))
    return PublicRun(output=output, **read(data))


def read(data: dict) -> dict:
    """``tests``, ``checks`` and ``overall`` from the JSON that ``--coopkit-states`` writes."""
    tests = [TestResult(**{f.name: item[f.name] for f in fields(TestResult)}) for item in data["tests"]]
    states = {key: {(item["exercise"], item["check"]): item["state"] for item in data.get(key, [])} for key in ("checks", "overall")}
    return {"tests": tests, **states}
