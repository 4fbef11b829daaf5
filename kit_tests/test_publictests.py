"""The one public-test runner: per-test and per-check states read from the plugins' JSON, never from pytest's text."""

from __future__ import annotations

import builtins
import re
import shutil

import pytest

from coopkit import notebook
from coopkit.authoring import devcheck
from coopkit.paths import Kit
from coopkit.states import FAILED, NOT_RUN, PASSED, TODO
from coopkit.student import publictests
from coopkit.student.publictests import PublicRun, TestResult

from .conftest import reference_source

RUNNER_BUG = "def runner(gen):\n    for _ in gen:\n        pass\n"  # loses the generator's return value


def public_test_ids(kit, exercise="*"):
    return {f"tests/{path.name}::{name}" for path in kit.tests.glob(f"test_{exercise}.py")
            for name in re.findall(r"^def (test_\w+)", path.read_text(), re.MULTILINE)}


def reference_folder(kit, folder, **changed):
    folder.mkdir()
    for exercise in kit.manifest.exercises:
        (folder / f"{exercise.name}.py").write_text(changed.get(exercise.name, reference_source(kit, exercise.name)))
    return folder


def test_stubs_are_todo_test_by_test_and_check_by_check(kit):
    run = publictests.run(kit)
    assert run.ran and run.reason == ""
    assert {t.nodeid for t in run.tests} == public_test_ids(kit)
    assert {t.state for t in run.tests} == {"todo"}
    assert all(t.message.startswith("not implemented yet: the stub still raises NotImplementedError") for t in run.tests)
    assert run.checks == {(c.exercise, c.name): TODO for c in kit.manifest.checks}
    assert devcheck.stub_problems(run) == []


def test_the_reference_passes_every_test_and_check(kit):
    run = publictests.run(kit, impl=kit.solutions)
    assert run.ran and {t.nodeid for t in run.tests} == public_test_ids(kit)
    assert [(t.nodeid, t.state, t.message) for t in run.tests if t.state != "passed" or t.message] == []
    assert run.checks == {(c.exercise, c.name): PASSED for c in kit.manifest.checks}
    assert devcheck.reference_problems(run) == [] and run.failing() == []


def test_a_bug_fails_its_check_with_the_students_message_and_plain_text(kit, tmp_path, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("PY_COLORS", "1")
    run = publictests.run(kit, "runner", impl=reference_folder(kit, tmp_path / "buggy", runner=RUNNER_BUG))
    assert run.ran and {t.nodeid for t in run.tests} == public_test_ids(kit, "runner")
    assert {t.exercise for t in run.tests} == {"runner"}
    assert run.checks[("runner", "stop_value")] == FAILED and run.checks[("runner", "exception_propagation")] == PASSED
    assert {state for (exercise, _), state in run.checks.items() if exercise != "runner"} == {NOT_RUN}
    failing = run.failing()
    assert failing and {(t.check, t.state) for t in failing} == {("stop_value", "failed")}
    for test in failing:
        for word in ("called:", "expected:", "got:", "likely cause:", "StopIteration.value"):
            assert word in test.message, test.message
        assert test.title and not test.title.startswith("test_")  # the docstring's line, as pytest shows it
    assert all(t.message == "" for t in run.tests if t.state == "passed")
    assert "\x1b[" not in run.output and "stop_value" in run.output


def test_a_run_that_cannot_start_says_why_in_one_line(kit, tmp_path):
    run = publictests.run(kit, "runner", impl=tmp_path / "missing")
    assert not run.ran and run.tests == [] and run.checks == {}
    assert "exit status 4" in run.reason and "pytest tests/test_runner.py" in run.reason and "\n" not in run.reason
    assert "no such folder" in run.output  # for people only
    assert devcheck.stub_problems(run) == [f"the stubs: {run.reason}"]


# -- dev check: per test, not per check ----------------------------------------------------


def result(test, check, state, message=""):
    return TestResult(f"tests/test_runner.py::{test}", "runner", check, test, state, message)


def test_dev_check_flags_each_stub_test_that_does_not_fail():
    tests = [result("test_a", "stop_value", "passed"), result("test_b", "stop_value", "todo", "not implemented yet"),
             result("test_c", "exception_propagation", "skipped"), result("test_d", "exception_propagation", "failed", "got: 1\nmore")]
    run = PublicRun(tests=tests, checks={("runner", "stop_value"): FAILED, ("runner", "exception_propagation"): FAILED})
    assert devcheck.stub_problems(run) == [
        "a stub passes a public test: tests/test_runner.py::test_a is passed",
        "a stub passes a public test: tests/test_runner.py::test_c is skipped",
    ]
    assert devcheck.reference_problems(run) == [
        "the reference fails a public test: tests/test_runner.py::test_b is todo: not implemented yet",
        "the reference fails a public test: tests/test_runner.py::test_c is skipped",
        "the reference fails a public test: tests/test_runner.py::test_d is failed: got: 1",
    ]
    assert devcheck.stub_problems(PublicRun()) == ["the stubs: no public test ran (is tests/ empty? run `coopkit dev generate`)"]


def test_dev_check_catches_a_public_test_the_stubs_pass(kit, tmp_path):
    copy = tmp_path / "kit"
    for name in ("exercises", "tests"):
        shutil.copytree(kit.root / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("manifest.toml", "pyproject.toml"):
        shutil.copyfile(kit.root / name, copy / name)
    with (copy / "tests" / "test_runner.py").open("a") as suite:
        suite.write("\n\n@check('stop_value')\ndef test_gives_nothing_away():\n    return None\n\n\ndef verify_gives_nothing_away(seen):\n    pass\n")
    run = publictests.run(Kit(copy))
    assert run.ran and run.checks[("runner", "stop_value")] == FAILED  # its other tests still fail
    assert devcheck.stub_problems(run) == ["a stub passes a public test: tests/test_runner.py::test_gives_nothing_away is passed"]


# -- the notebook's check cells --------------------------------------------------------------


@pytest.fixture()
def kernel(kit, monkeypatch):
    """A stand-in IPython kernel whose history holds the reference's part-1 cells, as ipykernel's environment has it."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    cells = [notebook.strip_relative_imports(reference_source(kit, e.name)) for e in kit.manifest.part(1).exercises]
    shell = type("Shell", (), {"user_ns": {"In": cells}})()
    monkeypatch.setattr(builtins, "get_ipython", lambda: shell, raising=False)
    return cells


def test_check_cell_shows_the_failing_checks_message_under_force_color(kernel, capsys):
    kernel.append(RUNNER_BUG)
    with pytest.raises(notebook.NotebookCheckFailed) as failed:
        notebook.check_public("runner", "stop_value")
    message = str(failed.value)
    assert message.startswith("runner / stop_value: a public test fails\n[runner.stop_value] ")
    for word in ("called:", "expected:", "got:", "likely cause:"):
        assert word in message, message
    assert "\x1b[" not in message and "exception_propagation" not in message and "=====" not in message
    notebook.check_public("runner", "exception_propagation")
    assert "runner / exception_propagation: the public tests pass" in capsys.readouterr().out


def test_check_cell_shows_only_its_own_check_when_others_fail_too(kit, kernel):
    kernel.append(notebook.strip_relative_imports(kit.stub_file("runner").read_text()))
    with pytest.raises(notebook.NotebookCheckFailed) as failed:
        notebook.check_public("runner", "stop_value")
    message = str(failed.value)
    blocks = message.split("\n[")[1:]
    assert blocks and all(block.startswith("runner.stop_value] ") for block in blocks), message
    assert "not implemented yet" in message and "[runner.exception_propagation]" not in message
