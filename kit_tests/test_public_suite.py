"""The public suites as a student meets them: plain `pytest` at the repo root."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from coopkit.authoring import devcheck
from coopkit.student import publictests

pytestmark = pytest.mark.heavy(20)


def run_pytest(kit, *args):
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=kit.root, capture_output=True, text=True)


def test_reference_passes_the_public_suites(kit):
    result = run_pytest(kit, "--impl", "solutions", "-q")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "every public check passes" in result.stdout


def test_stubs_fail_every_public_test_with_one_line(kit):
    result = run_pytest(kit, "-q")
    assert result.returncode == 1
    assert devcheck.stub_problems(publictests.run(kit)) == []
    assert "Traceback" not in result.stdout
    # The first exercise's stubs fail in full, one line each; every later exercise's stubs fold into its summary line.
    first, *later = kit.manifest.exercises
    first_tests = re.findall(r"^def test_", kit.public_test_file(first.name).read_text(), re.MULTILINE)
    assert result.stdout.count("not implemented yet: the stub still raises NotImplementedError") == len(first_tests)
    for exercise in later:
        assert re.search(rf"· {exercise.name} +0/{exercise.points} +pt  not started", result.stdout), exercise.name
    assert "next: async_map" in result.stdout


def test_a_wrong_answer_names_call_expected_got_and_cause(kit, tmp_path):
    for exercise in kit.manifest.exercises:
        source = (kit.solutions / f"{exercise.name}.py").read_text()
        (tmp_path / f"{exercise.name}.py").write_text(source)
    runner = tmp_path / "runner.py"
    runner.write_text("def runner(gen):\n    for _ in gen:\n        pass\n")
    result = run_pytest(kit, "--impl", str(tmp_path), "-q", "tests/test_runner.py")
    assert result.returncode == 1
    out = result.stdout
    for word in ("called:", "expected:", "got:", "likely cause:", "StopIteration.value"):
        assert word in out, out
    assert "✘ runner     stop_value" in out and "✔ runner     exception_propagation" in out


def test_a_hang_is_reported_not_waited_out(kit, tmp_path):
    for exercise in kit.manifest.exercises:
        (tmp_path / f"{exercise.name}.py").write_text((kit.solutions / f"{exercise.name}.py").read_text())
    (tmp_path / "async_map.py").write_text(
        "import signal\n"
        "def async_map(func, seq):\n"
        "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "    while True:\n"
        "        pass\n"
        "    yield\n"
    )
    result = run_pytest(kit, "--impl", str(tmp_path), "-q", "-o", "timeout=1", "tests/test_async_map.py::test_empty_input_never_yields")
    assert result.returncode != 0
    assert "stopped" in result.stdout + result.stderr


def test_dev_check_passes(kit):
    assert devcheck.run_dev_check(kit) == 0


ENDLESS_RUNNER = (
    "def runner(gen):\n"
    "    result = None\n"
    "    while True:\n"
    "        try:\n"
    "            next(gen)\n"
    "        except StopIteration as stop:\n"
    "            result = stop.value\n"
    "    return result\n"
)


def test_a_hang_names_the_line_and_the_later_tests_are_quick(kit, tmp_path):
    """An endless loop: the message names the student's line, and after the first timeout of an exercise its
    other tests get a second each (six hanging tests at 3 s: about 8 s, not 18 s)."""
    import time

    for exercise in kit.manifest.exercises:
        (tmp_path / f"{exercise.name}.py").write_text((kit.solutions / f"{exercise.name}.py").read_text())
    (tmp_path / "runner.py").write_text(ENDLESS_RUNNER)
    started = time.monotonic()
    result = run_pytest(kit, "--impl", str(tmp_path), "-q", "-o", "timeout=3", "grading/test_runner.py")
    elapsed = time.monotonic() - started
    out = result.stdout
    assert result.returncode == 1, out[-3000:]
    assert out.count("(at runner.py line 3)") == 6, out
    assert "stopped after 3 s" in out and out.count("stopped after 1 s") == 5, out
    assert "✔ runner     exception_propagation" in out
    # six full timeouts cannot take under 18 s; 3 s + 5 x 1 s take about 8 s, so the bound holds even on a busy machine
    assert elapsed < 17.5, f"{elapsed:.1f} s"


def test_an_error_in_run_itself_names_its_line(kit, tmp_path):
    """A typo in the student's own Scheduler.run is reported as theirs, with file and line, not as a task's error."""
    for exercise in kit.manifest.exercises:
        (tmp_path / f"{exercise.name}.py").write_text((kit.solutions / f"{exercise.name}.py").read_text())
    scheduler = tmp_path / "scheduler.py"
    source = scheduler.read_text()
    assert "results[task.id] = stop.value" in source
    scheduler.write_text(source.replace("results[task.id] = stop.value", "self.result[task.id] = stop.value"))
    line = 1 + scheduler.read_text().splitlines().index("                self.result[task.id] = stop.value")
    result = run_pytest(kit, "--impl", str(tmp_path), "-q", "tests/test_scheduler.py")
    out = result.stdout
    assert f"run() itself raised AttributeError at scheduler.py line {line}" in out, out
    assert "raised by your own code" in out
    assert "a task's exception must be stored" not in out
