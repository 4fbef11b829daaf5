"""``coopkit dev check``: the author's proof that the kit is consistent.

1. generated files (stubs, public tests, tables) are current;
2. every stub fails every check of its public tests;
3. the reference solutions pass every public and hidden test, through the
   real sandboxed grader, with full marks.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from . import grading, regions
from .generate import generate
from .paths import Kit


def public_run(kit: Kit, impl: Path) -> subprocess.CompletedProcess:
    """Run the public suites against ``impl`` in a fresh pytest process."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(kit.tests), "--impl", str(impl), "-q", "-p", "no:cacheprovider", "--no-header"],
        cwd=kit.root,
        capture_output=True,
        text=True,
    )


def stub_failures(kit: Kit) -> list[str]:
    """Checks whose public tests do not all fail on the stubs (should be none)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(kit.tests), "--impl", str(kit.exercises), "-q", "-rA", "-p", "no:cacheprovider", "--no-header"],
        cwd=kit.root,
        capture_output=True,
        text=True,
    )
    return [line for line in result.stdout.splitlines() if line.startswith("PASSED")]


def run_dev_check(kit: Kit) -> int:
    problems = []
    stale = generate(kit, check=True)
    problems += [f"stale generated file: {path.relative_to(kit.root)} (run `coopkit dev generate`)" for path in stale]
    problems += [f"a stub passes a public test: {line}" for line in stub_failures(kit)]
    public = public_run(kit, kit.solutions)
    if public.returncode != 0:
        problems.append("the reference solutions fail public tests:\n" + public.stdout[-2000:])
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
