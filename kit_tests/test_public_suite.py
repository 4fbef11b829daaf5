"""The public suites as a student meets them: plain `pytest` at the repo root."""

from __future__ import annotations

import subprocess
import sys

from coopkit.authoring import devcheck
from coopkit.student import publictests


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
    assert result.stdout.count("not implemented yet: the stub still raises NotImplementedError") >= len(kit.manifest.checks)
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
