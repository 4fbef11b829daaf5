"""``coopkit dev check``: the author's proof that the kit is consistent.

1. generated files (stubs, public tests, tables) are current;
2. every public test fails (or is todo) on the stubs, per test;
3. the reference solutions pass every public and hidden test, through the
   real sandboxed grader, with full marks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import grading
from ..paths import Kit
from ..states import TEST_FAILED, TEST_PASSED, TEST_TODO
from ..student import publictests
from ..student.publictests import PublicRun
from . import regions
from .generate import generate


def wrong_tests(run: PublicRun, allowed: tuple[str, ...], whose: str, problem: str) -> list[str]:
    """One line per public test of ``run`` whose state is not ``allowed`` (or why the run tells nothing)."""
    if not run.ran:
        return [f"{whose}: {run.reason}"]
    if not run.tests:
        return [f"{whose}: no public test ran (is tests/ empty? run `coopkit dev generate`)"]
    return [f"{problem}: {t.nodeid} is {t.state}" + (f": {t.message.strip().splitlines()[0]}" if t.message.strip() else "")
            for t in run.tests if t.state not in allowed]


def stub_problems(run: PublicRun) -> list[str]:
    """Every public test must fail (or be todo) on the stubs: a stub that passes one gives its answer away."""
    return wrong_tests(run, (TEST_FAILED, TEST_TODO), "the stubs", "a stub passes a public test")


def reference_problems(run: PublicRun) -> list[str]:
    """Every public test must pass on the reference solutions."""
    return wrong_tests(run, (TEST_PASSED,), "the reference solutions", "the reference fails a public test")


def run_dev_check(kit: Kit) -> int:
    problems = []
    stale = generate(kit, check=True)
    problems += [f"stale generated file: {path.relative_to(kit.root)} (run `coopkit dev generate`)" for path in stale]
    problems += stub_problems(publictests.run(kit, impl=kit.exercises))
    problems += reference_problems(publictests.run(kit, impl=kit.solutions))
    scores = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "reference"
        folder.mkdir()
        for exercise in kit.manifest.exercises:
            source = regions.drop_markers(kit.solution_file(exercise.name).read_text(encoding="utf-8"))
            (folder / f"{exercise.name}.py").write_text(source, encoding="utf-8")
        for part in kit.manifest.parts:
            with grading.GradingRun.create(kit, part=part) as run:
                report = grading.grade_folders(run, {"reference": folder}, jobs=2)["reference"]
            scores.append(f"part {part}: {report['score']}/{report['max_score']}")
            for exercise, data in report["exercises"].items():
                for name, check in data["checks"].items():
                    if not check["passed"]:
                        problems.append(f"the reference loses {exercise}.{name}: {check['feedback']}")
    for problem in problems:
        print(f"✘ {problem}")
    if not problems:
        print(f"✔ generated files current; every stub fails; the reference scores {', '.join(scores)}")
    return 1 if problems else 0
