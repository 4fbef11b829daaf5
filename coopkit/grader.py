"""The grader core: runs the hidden suites against untrusted submissions.

Design rules
1. A submission is untrusted input. Only its exercise files are copied, one
   exercise at a time, into a private folder; each exercise runs in its own
   sandboxed process (see ``sandbox_boot``) with no plugin, conftest or
   sitecustomize it could bring, under a wall-clock kill, a memory limit and
   capped output, and, where Linux allows, in a root that holds nothing but
   the Python installation and that folder. Sandboxes are forked from a
   zygote process that has pytest imported and runs no student code
   (``sandbox_zygote``); without it, each starts as a fresh interpreter.
2. Points come only from records signed with a key the sandbox received before
   student code ran, for tests the grader knows from its own reading of the
   suite. A test with no signed "passed" record has failed. Tampering with the
   test run costs the whole exercise.
3. A hang, crash or exit costs only the test it happened in: the grader marks
   that test failed and starts a new process for the tests still to run.
4. A broken file costs only its own exercise. Each exercise is graded beside
   the reference copy of any module it requires, so a bug in one exercise
   costs only that exercise's checks.
5. Feedback is built from the tests' student-facing messages: never test
   source, never captured output.
6. Same code, same grade: the hidden inputs come from a fixed seed.
7. Every submission gets a report, whatever happens to it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import hmac
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import regions
from .manifest import Exercise, Manifest
from .paths import Kit
from .sandbox_forker import Zygote, ZygoteChild

MAX_SOURCE_BYTES = 512 * 1024
OUTPUT_CAP = 64 * 1024
RECORD_CAP = 4 * 1024 * 1024
STARTUP_SECONDS = 30.0
KILL_GRACE = 4.0
PACKAGE_DIR = Path(__file__).resolve().parent
SANDBOX_FILES = ("harness.py", "doubles.py", "sandbox_plugin.py")

# Exercise-level statuses and their one-line explanations.
MISSING = "missing"
EMPTY = "empty"
TOO_LARGE = "too_large"
UNDECODABLE = "undecodable"
SYNTAX_ERROR = "syntax_error"
STUB = "unmodified_stub"
GRADED = "graded"
TAMPERED = "tampered"
ERROR = "grader_error"

TIMEOUT_MESSAGE = (
    "stopped after {seconds:g} s: the code never paused or finished. "
    "Likely cause: an endless loop with no yield, or a loop that never advances its generator."
)
CRASH_MESSAGE = (
    "the test process ended in the middle of this test ({how}). "
    "Likely cause: your code calls exit(), sys.exit() or os._exit(), or uses too much memory."
)
TAMPER_MESSAGE = (
    "the test run was tampered with ({detail}): your code changed the test machinery, "
    "so none of this exercise's results can be trusted."
)


class GraderError(RuntimeError):
    """The grader itself could not do its job (not the student's fault)."""


@dataclass
class TestResult:
    nodeid: str
    check: str
    passed: bool
    message: str = ""


@dataclass
class UnitResult:
    """What running one exercise's suite on one submission produced."""

    exercise: str
    status: str
    message: str = ""
    tests: dict[str, TestResult] = field(default_factory=dict)
    isolation: str = ""
    attempts: int = 0
    seconds: float = 0.0
    output: str = ""


# -- reading the suite (trusted, static) -------------------------------------


@dataclass(frozen=True)
class SuiteTest:
    check: str
    title: str


def suite_checks(suite: Path) -> dict[str, SuiteTest]:
    """``{test function name: (check, title)}`` read from the suite's ``@check(...)`` marks and docstrings."""
    stat = suite.stat()
    return dict(_suite_checks(str(suite), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _suite_checks(suite: str, mtime_ns: int, size: int) -> dict[str, SuiteTest]:
    """``suite_checks``, read once per version of the file (every submission asks again)."""
    tree = ast.parse(Path(suite).read_text(encoding="utf-8"), suite)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and getattr(decorator.func, "id", None) == "check"
                    and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                ):
                    title = (ast.get_docstring(node) or node.name).strip().splitlines()[0]
                    found[node.name] = SuiteTest(decorator.args[0].value, title)
            if node.name not in found:
                raise GraderError(f"{suite}: {node.name} has no @check(...) mark")
    return found


# -- checking a file before running it ---------------------------------------


def precheck(path: Path, stub: str | None) -> tuple[str, str, bytes | None]:
    """``(status, message, raw bytes)``: GRADED when the file is worth running."""
    name = path.name
    if not path.is_file():
        return MISSING, f"{name} is missing: nothing to grade. Put your {name} in the submission folder.", None
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        return TOO_LARGE, f"{name} is {size // 1024} KB; the limit is {MAX_SOURCE_BYTES // 1024} KB. Submit the source file only.", None
    raw = path.read_bytes()
    try:
        text = importlib.util.decode_source(raw)  # as Python reads it: a BOM or a coding cookie is fine
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        where = f" (byte 0x{raw[exc.start]:02x} at offset {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
        return UNDECODABLE, f"{name} is not readable text{where}. Save it as UTF-8.", None
    if not text.strip():
        return EMPTY, f"{name} is empty: nothing to grade.", None
    try:
        tree = ast.parse(text, name)
    except SyntaxError as exc:
        return SYNTAX_ERROR, f"{name} has a syntax error at line {exc.lineno}: {exc.msg}. Python cannot run the file.", None
    except (ValueError, RecursionError, MemoryError) as exc:
        return SYNTAX_ERROR, f"{name} cannot be read as Python ({type(exc).__name__}: {exc}).", None
    if stub is not None and ast.dump(tree) == _tree_dump(stub):
        return STUB, f"{name} is the unmodified stub: nothing written yet.", None
    return GRADED, "", raw


@functools.lru_cache(maxsize=64)
def _tree_dump(source: str) -> str | None:
    """``ast.dump`` of a stub's code, made once per stub (None if it does not parse)."""
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError:
        return None


# -- one exercise in one sandbox ---------------------------------------------


@dataclass
class GradingRun:
    """Shared settings of one grading command: the kit, the seed and a private scratch folder."""

    kit: Kit
    manifest: Manifest
    tmp_root: Path
    seed: int
    isolate: bool = True
    _zygote: Zygote | None = field(default=None, repr=False)
    _zygote_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def zygote(self) -> Zygote | None:
        """The run's sandbox forker, started on first use (None if it cannot start)."""
        with self._zygote_lock:
            if self._zygote is None:
                try:
                    self._zygote = Zygote(Path(tempfile.mkdtemp(prefix="zygote-", dir=self.tmp_root)) / "bin", _site_paths())
                except OSError:
                    return None
            return self._zygote if self._zygote.alive else None

    @classmethod
    def create(cls, kit: Kit, seed=None, isolate=True, part=1):
        if not kit.is_full:
            raise GraderError("grading needs the full kit (solutions/ and grading/); this looks like a student bundle")
        tmp_root = Path(tempfile.mkdtemp(prefix="coopkit-grade-"))
        manifest = kit.manifest.part(part)
        return cls(kit, manifest, tmp_root, manifest.seed if seed is None else seed, isolate)

    def close(self):
        if self._zygote is not None:
            self._zygote.close()
        shutil.rmtree(self.tmp_root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def reference(self, module: str) -> str:
        source = self.kit.solution_file(module).read_text(encoding="utf-8")
        return regions.drop_markers(source, f"solutions/{module}.py")

    def stub(self, module: str) -> str:
        return regions.stub_out(self.kit.solution_file(module).read_text(encoding="utf-8"))


def sandbox_view(unit: Path) -> list[list]:
    """Everything that exists inside an isolated sandbox: ``[path, read_only]``."""
    keep = [["/usr", True], [sys.base_prefix, True], [sys.prefix, True]]
    keep += [[device, False] for device in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")]
    return keep + [[str(unit), False]]


def _site_paths() -> list[str]:
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return sorted(p for p in paths if os.path.isdir(p))


def _prepare_unit(run: GradingRun, exercise: Exercise, raw: bytes, label: str) -> Path:
    unit = Path(tempfile.mkdtemp(prefix=f"{label}-{exercise.name}-", dir=run.tmp_root))
    (unit / "coopkit").mkdir()
    (unit / "coopkit" / "__init__.py").write_text("")
    for name in SANDBOX_FILES:
        shutil.copyfile(PACKAGE_DIR / name, unit / "coopkit" / name)
    shutil.copyfile(PACKAGE_DIR / "sandbox_boot.py", unit / "boot.py")
    shutil.copyfile(run.kit.suite_file(exercise.name), unit / f"test_{exercise.name}.py")
    (unit / "pytest.ini").write_text("[pytest]\n")
    submission = unit / "submission"
    submission.mkdir()
    (submission / f"{exercise.name}.py").write_bytes(raw)
    for needed in exercise.requires:
        (submission / f"{needed}.py").write_text(run.reference(needed), encoding="utf-8")
    return unit


def _verify(line: bytes, key: bytes):
    try:
        mac, body = line.decode("utf-8").split(" ", 1)
    except (UnicodeDecodeError, ValueError):
        return None
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        record = json.loads(body)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


@dataclass
class Attempt:
    records: list[dict] = field(default_factory=list)
    output: bytes = b""
    killed_for: str = ""
    returncode: int | None = None
    forged: int = 0


def _kill(proc):
    """SIGKILL the sandbox's whole process group (it leads a session of its own), even after its leader exited."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _fork_sandbox(run: GradingRun, config_path: Path, key_read: int, result_write: int) -> ZygoteChild | None:
    """A sandbox forked by the run's zygote (pytest already imported), or None to start one the slow way."""
    zygote = run.zygote()
    if zygote is None:
        return None
    output_read, output_write = os.pipe()
    try:
        pid = zygote.spawn(config_path, output_write, key_read, result_write)
    finally:
        os.close(output_write)
    if not pid:
        os.close(output_read)
        return None
    return ZygoteChild(zygote, pid, os.fdopen(output_read, "rb"))


def _run_attempt(run: GradingRun, unit: Path, selection: list[str], budget_end: float) -> Attempt:
    """Start the sandbox once and read its signed records until it ends or is stopped."""
    manifest = run.manifest
    key = secrets.token_bytes(32)
    key_read, key_write = os.pipe()
    os.write(key_write, key)
    os.close(key_write)
    result_read, result_write = os.pipe()
    pytest_args = selection + [
        "-c", "pytest.ini", "--rootdir", str(unit), "--noconftest",
        "-p", "coopkit.harness", "-p", "pytest_timeout",
        "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "no:pastebin", "-p", "no:junitxml", "-p", "no:doctest", "-p", "no:debugging", "-p", "no:monkeypatch", "-p", "no:recwarn", "-p", "no:tmpdir", "-p", "no:setuponly", "-p", "no:setupplan", "-p", "no:logging", "--assert=plain",
        "-q", "-s", "--tb=no", "-rN", "--no-header", "-o", f"timeout={manifest.test_timeout}",
        "--impl", str(unit / "submission"), "--coopkit-seed", str(run.seed),
    ]
    config = {
        "unit": str(unit),
        "sys_path": _site_paths(),
        "env": {"PATH": "/usr/bin:/bin", "HOME": str(unit), "LANG": "C.UTF-8", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        "key_fd": key_read,
        "result_fd": result_write,
        "isolate": run.isolate,
        "root": tempfile.mkdtemp(prefix="root-", dir=run.tmp_root),
        "keep": sandbox_view(unit),
        "memory_mb": manifest.memory_mb,
        "cpu_seconds": manifest.exercise_budget + 10,
        "pytest_args": pytest_args,
        "remove_after_collection": [str(unit / "coopkit"), str(unit / "boot.py")] + [str(unit / p) for p in os.listdir(unit) if p.startswith("test_")],
    }
    config_path = unit / "boot.json"
    config_path.write_text(json.dumps(config))
    attempt = Attempt()
    try:
        proc = _fork_sandbox(run, config_path, key_read, result_write)
        if proc is None:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", str(unit / "boot.py"), str(config_path)],
                cwd=unit,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(key_read, result_write),
                start_new_session=True,
                env=config["env"],
            )
    finally:
        os.close(key_read)
        os.close(result_write)
    selector = selectors.DefaultSelector()
    os.set_blocking(result_read, False)
    os.set_blocking(proc.stdout.fileno(), False)
    selector.register(result_read, selectors.EVENT_READ, "records")
    selector.register(proc.stdout.fileno(), selectors.EVENT_READ, "output")
    pending, received = b"", 0
    test_deadline = manifest.test_timeout + 2 * KILL_GRACE
    deadline = time.monotonic() + STARTUP_SECONDS
    runner_pid = None
    try:
        open_streams = 2
        while open_streams:
            now = time.monotonic()
            if now >= deadline or now >= budget_end:
                attempt.killed_for = "deadline" if now >= deadline else "budget"
                _kill(proc)
                break
            if proc.poll() is not None and not selector.select(timeout=0):
                break
            for selected, _ in selector.select(timeout=min(0.25, max(0.0, min(deadline, budget_end) - now))):
                try:
                    chunk = os.read(selected.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(selected.fd)
                    open_streams -= 1
                    continue
                if selected.data == "output":
                    if len(attempt.output) < OUTPUT_CAP:
                        attempt.output += chunk[: OUTPUT_CAP - len(attempt.output)]
                    continue
                received += len(chunk)
                if received > RECORD_CAP:
                    attempt.killed_for = "flood"
                    _kill(proc)
                    open_streams = 0
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    record = _verify(line, key)
                    if record is None:
                        attempt.forged += 1
                        continue
                    if record.get("event") == "hello":
                        runner_pid = record.get("pid")
                    if record.get("pid") != runner_pid:
                        attempt.forged += 1
                        continue
                    attempt.records.append(record)
                    event = record.get("event")
                    if event == "start":
                        deadline = time.monotonic() + test_deadline
                    elif event in ("end", "collected"):
                        deadline = time.monotonic() + test_deadline
                    elif event == "done":
                        deadline = time.monotonic() + KILL_GRACE
    finally:
        _kill(proc)
        try:
            attempt.returncode = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            attempt.returncode = None
        selector.close()
        os.close(result_read)
        proc.stdout.close()
    return attempt


def _crash_reason(attempt: Attempt, seconds: float) -> str:
    if attempt.killed_for in ("deadline", "budget") or any(r.get("event") == "timeout" for r in attempt.records):
        return TIMEOUT_MESSAGE.format(seconds=seconds)
    code = attempt.returncode
    if code is None:
        how = "it would not stop"
    elif code < 0 or code > 128:
        how = f"killed by signal {abs(code) if code < 0 else code - 128}"
    else:
        how = f"exit status {code}"
    return CRASH_MESSAGE.format(how=how)


def grade_unit(run: GradingRun, exercise: Exercise, raw: bytes, label: str) -> UnitResult:
    """Run ``exercise``'s full suite on ``raw`` (the student's file), resuming after crashes."""
    started = time.monotonic()
    budget_end = started + run.manifest.exercise_budget
    checks_of = suite_checks(run.kit.suite_file(exercise.name))
    result = UnitResult(exercise.name, GRADED)
    unit = _prepare_unit(run, exercise, raw, label)
    template = unit.with_name(unit.name + "-template")
    shutil.copytree(unit, template)
    expected = None
    selection: list[str] = []
    output = b""
    try:
        while True:
            result.attempts += 1
            attempt = _run_attempt(run, unit, selection, budget_end)
            output += attempt.output
            hello = next((r for r in attempt.records if r.get("event") == "hello"), None)
            if hello:
                result.isolation = hello.get("isolation", "")
            collected = next((r.get("tests") for r in attempt.records if r.get("event") == "collected"), None)
            if expected is None:
                if not collected:
                    tail = attempt.output.decode("utf-8", "replace")[-400:]
                    result.status, result.message = ERROR, f"the test run did not start (exit status {attempt.returncode}). {tail.strip()}"
                    break
                expected = list(collected)
                unknown = [nodeid for nodeid in expected if nodeid.split("::")[-1] not in checks_of]
                if unknown or len(expected) != len(checks_of):
                    result.status, result.message = ERROR, "the collected tests differ from the suite: the run cannot be trusted"
                    break
            tamper = next((r for r in attempt.records if r.get("event") == "tamper"), None)
            if tamper or attempt.forged or attempt.killed_for == "flood":
                detail = tamper.get("detail") if tamper else ("forged results" if attempt.forged else "result flood")
                result.status, result.message = TAMPERED, TAMPER_MESSAGE.format(detail=detail)
                break
            current = None
            for record in attempt.records:
                event, nodeid = record.get("event"), record.get("test")
                if event == "start" and nodeid in expected:
                    current = nodeid
                elif event == "end" and nodeid in expected and nodeid not in result.tests:
                    name = nodeid.split("::")[-1]
                    passed = record.get("outcome") == "passed"
                    result.tests[nodeid] = TestResult(nodeid, checks_of[name].check, passed, "" if passed else str(record.get("message", ""))[:2000])
                    current = None
            if current is not None and current not in result.tests:
                name = current.split("::")[-1]
                result.tests[current] = TestResult(current, checks_of[name].check, False, _crash_reason(attempt, run.manifest.test_timeout))
            remaining = [nodeid for nodeid in expected if nodeid not in result.tests]
            if not remaining:
                break
            progressed = current is not None or any(r.get("event") == "end" for r in attempt.records)
            if time.monotonic() >= budget_end or not progressed:
                reason = "not run: the exercise used up its time budget" if time.monotonic() >= budget_end else "not run: the test process stopped early"
                for nodeid in remaining:
                    name = nodeid.split("::")[-1]
                    result.tests[nodeid] = TestResult(nodeid, checks_of[name].check, False, reason)
                break
            selection = remaining
            shutil.rmtree(unit, ignore_errors=True)
            shutil.copytree(template, unit)
    finally:
        shutil.rmtree(unit, ignore_errors=True)
        shutil.rmtree(template, ignore_errors=True)
    result.output = output.decode("utf-8", "replace")[:OUTPUT_CAP]
    result.seconds = time.monotonic() - started
    return result


# -- scores ------------------------------------------------------------------


def exercise_report(exercise: Exercise, unit: UnitResult | None, status: str, message: str, titles: dict[str, SuiteTest]) -> dict:
    """Per-check scores: a check earns its points only when every one of its tests passed."""
    checks = {}
    for check in exercise.checks:
        tests = [test for test in (unit.tests.values() if unit and status == GRADED else ()) if test.check == check.name]
        passed = [test for test in tests if test.passed]
        earned = status == GRADED and bool(tests) and len(passed) == len(tests)
        if status != GRADED:
            feedback = message
        elif earned:
            feedback = f"passed ({len(tests)} of {len(tests)} tests)"
        else:
            first = next(test for test in tests if not test.passed) if tests else None
            if first is None:
                feedback = "no test ran for this check"
            else:
                title = titles.get(first.nodeid.split("::")[-1])
                feedback = f"{len(passed)} of {len(tests)} tests passed. Failed: {title.title if title else first.nodeid}\n{first.message}"
        checks[check.name] = {
            "score": check.points if earned else 0,
            "max_score": check.points,
            "passed": earned,
            "feedback": feedback,
            "tests": {"passed": len(passed), "total": len(tests)},
        }
    report = {
        "score": sum(c["score"] for c in checks.values()),
        "max_score": exercise.points,
        "status": status,
        "message": message,
        "checks": checks,
    }
    if unit is not None:
        report["seconds"] = round(unit.seconds, 3)
        report["attempts"] = unit.attempts
    return report


def plan_submission(run: GradingRun, folder: Path):
    """Pre-check every exercise file: ``{exercise: (status, message, raw bytes or None)}``."""
    plan = {}
    for exercise in run.manifest.exercises:
        path = Path(folder) / f"{exercise.name}.py"
        try:
            plan[exercise.name] = precheck(path, run.stub(exercise.name))
        except OSError as exc:
            plan[exercise.name] = (MISSING, f"{path.name} cannot be read ({exc.strerror}).", None)
    return plan


def submission_report(run: GradingRun, name: str, plan: dict, units: dict[str, UnitResult]) -> dict:
    exercises = {}
    isolation = ""
    for exercise in run.manifest.exercises:
        status, message, _ = plan[exercise.name]
        unit = units.get(exercise.name)
        if unit is not None:
            status, message = unit.status, unit.message
            isolation = isolation or unit.isolation
        titles = suite_checks(run.kit.suite_file(exercise.name))
        exercises[exercise.name] = exercise_report(exercise, unit, status, message, titles)
    return {
        "submission": name,
        "score": sum(e["score"] for e in exercises.values()),
        "max_score": run.manifest.points,
        "part": run.manifest.exercises[0].part,
        "seed": run.seed,
        "isolation": isolation or "none",
        "exercises": exercises,
    }


def grade_folders(run: GradingRun, folders: dict[str, Path], jobs: int, on_done=None) -> dict[str, dict]:
    """Grade many submissions, ``jobs`` sandboxes at a time; ``on_done(name, report)`` after each."""
    from concurrent.futures import ThreadPoolExecutor

    plans = {name: plan_submission(run, folder) for name, folder in folders.items()}
    waiting = {name: {ex for ex, (status, _, _) in plan.items() if status == GRADED} for name, plan in plans.items()}
    units: dict[str, dict[str, UnitResult]] = {name: {} for name in folders}
    reports: dict[str, dict] = {}

    def finish(name):
        reports[name] = submission_report(run, name, plans[name], units[name])
        if on_done:
            on_done(name, reports[name])

    for name in folders:
        if not waiting[name]:
            finish(name)
    manifest_exercises = {exercise.name: exercise for exercise in run.manifest.exercises}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {}
        for name in folders:
            for exercise in sorted(waiting[name], key=list(manifest_exercises).index):
                raw = plans[name][exercise][2]
                futures[pool.submit(grade_unit, run, manifest_exercises[exercise], raw, _safe_label(name))] = (name, exercise)
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            name, exercise = futures[future]
            try:
                units[name][exercise] = future.result()
            except Exception as exc:  # noqa: BLE001 - a grader fault still leaves a row
                units[name][exercise] = UnitResult(exercise, ERROR, f"the grader failed on this exercise: {type(exc).__name__}: {exc}")
            waiting[name].discard(exercise)
            if not waiting[name]:
                finish(name)
    return reports


def _safe_label(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40]
    return cleaned or "submission"
