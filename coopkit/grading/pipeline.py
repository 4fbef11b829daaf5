"""The grading pipeline over many submissions: suites, precheck, sandbox, judge, report."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .. import harness
from ..authoring import regions
from ..manifest import Exercise, Manifest
from ..paths import Kit
from . import precheck, report, suites
from .execute import execute, prepare_unit
from .judge import judge
from .sandbox import Limits, Sandboxes

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SANDBOX_STARTUP = 10.0


class GraderError(RuntimeError):
    """The grader itself could not do its job (not the student's fault)."""


def _sandbox_kit() -> dict[str, bytes]:
    """The kit's files every sandbox holds: the runner and what the observe halves import."""
    return {
        "runner.py": (PACKAGE_DIR / "sandboxed" / "runner.py").read_bytes(),
        "coopkit/__init__.py": b"",
        "coopkit/harness.py": (PACKAGE_DIR / "harness.py").read_bytes(),
        "coopkit/messages.py": (PACKAGE_DIR / "messages.py").read_bytes(),
        "coopkit/doubles.py": (PACKAGE_DIR / "doubles.py").read_bytes(),
    }


@dataclass
class GradingRun:
    """Shared settings of one grading command: the kit, the seed, the sandboxes, a private scratch folder,
    and what every submission's units are made from (read once per run)."""

    kit: Kit
    manifest: Manifest
    tmp_root: Path
    seed: int
    sandboxes: Sandboxes
    kit_files: dict[str, bytes] = field(default_factory=_sandbox_kit, repr=False)
    stubs: dict[str, str] = field(default_factory=dict, repr=False)
    references: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, kit: Kit, seed=None, part=1, unsafe_no_sandbox=False, make_sandboxes=None):
        """A run over ``part``; ``make_sandboxes(limits, scratch)`` may supply another kind of sandboxes."""
        if not kit.is_full:
            raise GraderError("grading needs the full kit (solutions/ and grading/); this looks like a student bundle")
        manifest = kit.manifest.part(part)
        cpu = int(manifest.exercise_budget + SANDBOX_STARTUP)
        scratch = Path(tempfile.mkdtemp(prefix="coopkit-grade-"))
        try:
            limits = Limits(manifest.memory_mb, cpu)
            sandboxes = make_sandboxes(limits, scratch) if make_sandboxes else Sandboxes(limits, unsafe=unsafe_no_sandbox)
            try:
                for exercise in manifest.exercises:
                    suites.load(kit.suite_file(exercise.name), exercise.name)
            except (suites.SuiteError, OSError, SyntaxError) as exc:
                raise GraderError(f"a grading suite is broken: {exc}") from None
            sandboxes.ready()  # the probe ran while the suites were read
        except BaseException:
            _remove(scratch)
            raise
        solutions = {name: kit.solution_file(name).read_text(encoding="utf-8")
                     for name in {e.name for e in manifest.exercises} | {r for e in manifest.exercises for r in e.requires}}
        return cls(
            kit, manifest, scratch, manifest.seed if seed is None else seed, sandboxes,
            stubs={e.name: regions.stub_out(solutions[e.name]) for e in manifest.exercises},
            references={name: regions.drop_markers(text, f"solutions/{name}.py") for name, text in solutions.items()},
        )

    @property
    def isolation(self) -> str:
        return self.sandboxes.isolation

    def suite(self, exercise: str) -> suites.Suite:
        return suites.load(self.kit.suite_file(exercise), exercise)

    def close(self):
        _remove(self.tmp_root)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _remove(path: Path) -> None:
    """Remove a scratch folder; a failure here never loses a report."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except Exception:  # noqa: BLE001 - RecursionError on a strange tree, for one
        pass


def grade_exercise(run: GradingRun, exercise: Exercise, raw: bytes, deadline: float) -> tuple[str, str, list]:
    """``(status, message, judged tests)`` for one exercise file."""
    suite = run.suite(exercise.name)
    unit = Path(tempfile.mkdtemp(prefix=f"{exercise.name}-", dir=run.tmp_root))
    try:
        references = {needed: run.references[needed] for needed in exercise.requires}
        prepare_unit(unit, exercise.name, raw, references, suite.sandbox_source, run.kit_files)
        config = {
            "exercise": exercise.name,
            "tests": [suites.sandbox_name(index) for index in range(len(suite.tests))],
            "seeds": [harness.seed_for(run.seed, test.name) for test in suite.tests],
            "test_timeout": run.manifest.test_timeout,
        }
        budget_end = min(time.monotonic() + run.manifest.exercise_budget, deadline)
        execution = execute(run.sandboxes, unit, config, run.manifest.test_timeout, budget_end)
    finally:
        _remove(unit)
    if execution.startup_error:
        return precheck.ERROR, f"the sandbox did not start: {report.display_name(execution.startup_error.splitlines()[-1])}", []
    return precheck.GRADED, "", judge(suite, execution, run.seed, run.manifest.test_timeout)


def grade_folders(run: GradingRun, folders: dict[str, Path], jobs: int, on_done=None) -> dict[str, dict]:
    """Grade many submissions, ``jobs`` sandboxes at a time; ``on_done(name, report)`` after each."""
    exercises = {exercise.name: exercise for exercise in run.manifest.exercises}
    checked = {name: precheck.precheck(folder, list(exercises), run.stubs) for name, folder in folders.items()}
    waiting = {name: {ex for ex, found in plan.items() if found.status == precheck.GRADED} for name, plan in checked.items()}
    results: dict[str, dict[str, tuple]] = {name: {} for name in folders}
    deadlines: dict[str, float] = {}
    reports: dict[str, dict] = {}
    lock = threading.Lock()

    def finish(name):
        parts = {}
        for exercise in run.manifest.exercises:
            found = checked[name][exercise.name]
            status, message, tests = results[name].get(exercise.name, (found.status, found.message, None))
            titles = {test.name: test.title for test in run.suite(exercise.name).tests}
            parts[exercise.name] = report.exercise_report(exercise, tests, status, message, titles)
        reports[name] = report.submission_report(name, run.manifest, run.seed, run.isolation, parts)
        if on_done:
            on_done(name, reports[name])

    def work(name, exercise):
        with lock:
            deadline = deadlines.setdefault(name, time.monotonic() + run.manifest.submission_budget)
        return grade_exercise(run, exercises[exercise], checked[name][exercise].raw, deadline)

    for name in folders:
        if not waiting[name]:
            finish(name)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(work, name, exercise): (name, exercise)
            for name in folders
            for exercise in sorted(waiting[name], key=list(exercises).index)
        }
        for future in as_completed(futures):
            name, exercise = futures[future]
            try:
                results[name][exercise] = future.result()
            except Exception as exc:  # noqa: BLE001 - a grader fault still leaves a row
                results[name][exercise] = (precheck.ERROR, f"the grader failed on this exercise: {type(exc).__name__}: {exc}", None)
            waiting[name].discard(exercise)
            if not waiting[name]:
                finish(name)
    return reports
