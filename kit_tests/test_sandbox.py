"""What student code can and cannot reach inside the grading sandbox."""

from __future__ import annotations


import pytest

from coopkit import grader

from .conftest import reference_source

PROBE = '''
import os, sys

def _reachable():
    found = [path for path in {paths!r} if os.path.exists(path)]
    try:
        import coopkit.paths  # only the real package has paths.py
        found.append("coopkit package")
    except ImportError:
        pass
    found += [name for name in os.environ if name.startswith(("PYTHON", "COOPKIT"))]
    found += [name for name in os.listdir(".") if name.endswith(".py")]
    return found

def runner(gen):
    found = _reachable()
    if found:
        raise ValueError("REACHED " + " ".join(sorted(found))[:150])
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
'''


def grade_one(kit, tmp_path, files):
    folder = tmp_path / "student"
    folder.mkdir(parents=True)
    for module in ("async_map", "runner", "task", "scheduler"):
        (folder / f"{module}.py").write_text(reference_source(kit, module))
    for name, text in files.items():
        (folder / name).write_text(text)
    with grader.GradingRun.create(kit) as run:
        return grader.grade_folders(run, {"student": folder}, jobs=2)["student"]


def probe(kit, tmp_path, paths):
    """Grade a runner that works only if none of ``paths`` (nor the kit's package, env or tests) is reachable."""
    report = grade_one(kit, tmp_path, {"runner.py": PROBE.format(paths=paths)})
    check = report["exercises"]["runner"]["checks"]["stop_value"]
    return report, check


def check_scores(report):
    return {e: {c: v["score"] for c, v in d["checks"].items()} for e, d in report["exercises"].items()}


def test_kit_and_submissions_are_out_of_reach(kit, tmp_path):
    """Nothing but the Python installation and the unit's folder exists: not the kit, not another checkout of it."""
    elsewhere = tmp_path / "another-checkout" / "solutions"
    elsewhere.mkdir(parents=True)
    (elsewhere / "runner.py").write_text(reference_source(kit, "runner"))
    paths = [str(kit.solutions), str(kit.solution_file("runner")), str(kit.grading), str(tmp_path / "student"),
             str(elsewhere / "runner.py"), "/etc/passwd", "/var", "/proc/self", str(kit.root / ".git")]
    report, check = probe(kit, tmp_path, paths)
    if report["isolation"] != "namespaces":
        pytest.skip("this machine does not allow user namespaces; the sandbox runs without hiding paths")
    assert check["passed"], check["feedback"]


def test_no_kit_package_environment_or_test_file_is_reachable(kit, tmp_path):
    """The real coopkit package, PYTHON* variables and the hidden test files are out of reach even without namespaces."""
    _, check = probe(kit, tmp_path, [])
    assert check["passed"], check["feedback"]


def test_the_probe_can_fail(kit, tmp_path):
    """The probe is honest: a path that is reachable makes it fail."""
    _, check = probe(kit, tmp_path, ["/"])
    assert not check["passed"] and "REACHED /" in check["feedback"]


def test_same_code_same_grade(kit, tmp_path):
    first = grade_one(kit, tmp_path / "a", {})
    second = grade_one(kit, tmp_path / "b", {})
    assert check_scores(first) == check_scores(second)
    assert first["score"] == first["max_score"]


def test_a_slow_test_costs_only_itself(kit, tmp_path):
    """A hang in one test is stopped, and the tests after it still run in a new process."""
    slow = reference_source(kit, "task").replace(
        "        self.gen = gen\n", "        import signal, time\n        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n        if Task.next_id > 30:\n            time.sleep(120)\n        self.gen = gen\n"
    )
    report = grade_one(kit, tmp_path, {"task.py": slow})
    task = report["exercises"]["task"]
    assert task["checks"]["wraps_generator"]["score"] == task["checks"]["wraps_generator"]["max_score"]
    assert task["checks"]["id_assignment"]["score"] == 0
    assert "stopped after" in task["checks"]["id_assignment"]["feedback"]
    assert task["attempts"] >= 2


def test_without_the_zygote_sandboxes_start_as_fresh_interpreters(kit, tmp_path, monkeypatch):
    """The zygote is only a speed-up: with it unavailable, every sandbox starts the slow way and grades the same."""
    with_zygote = grade_one(kit, tmp_path / "a", {})
    monkeypatch.setattr(grader.GradingRun, "zygote", lambda run: None)
    without = grade_one(kit, tmp_path / "b", {})
    assert check_scores(with_zygote) == check_scores(without) and without["score"] == without["max_score"]
    assert with_zygote["isolation"] == without["isolation"]


def test_a_sandbox_that_kills_its_parent_costs_nothing_else(kit, tmp_path):
    """Student code that SIGKILLs its parent process loses only its own checks; the other sandboxes still run."""
    hostile = reference_source(kit, "runner") + "\nimport os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n    pass\n"
    report = grade_one(kit, tmp_path, {"runner.py": hostile})
    for name in ("async_map", "task", "scheduler"):
        exercise = report["exercises"][name]
        assert exercise["score"] == exercise["max_score"], name
