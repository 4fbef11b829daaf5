"""Step 3: run one exercise's observe halves in sandboxes and collect what comes back, as plain data.

The grader reads the sandbox's channel line by line, under a byte cap per
line and a deadline per test. A line that is not one JSON record for the
test now running, a test past its time, or a sandbox that ends mid-test costs
that test (an outcome recorded here, by the grader), then the remaining tests
go on in a fresh sandbox. Nothing read here is trusted: ``judge`` decides.
"""

from __future__ import annotations

import json
import os
import selectors
import time
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox import Sandboxes

LINE_CAP = 256 * 1024
STDERR_CAP = 8 * 1024
STARTUP_SECONDS = 20.0
GRACE_SECONDS = 1.0
AFTER_HANG_SECONDS = 1.0  # each test after one that timed out: a hanging exercise costs seconds, not its budget
START_TRIES = 3  # a sandbox that cannot start (for one, processes of another still dying) is tried again


@dataclass
class Outcome:
    """What the grader learned about one test: ``seen`` data, an observe ``error``, or a grader-side ``failure``."""

    seen: object = None
    error: str | None = None
    fields: dict = field(default_factory=dict)
    failure: str | None = None  # crashed / timeout / garbled / not_run


@dataclass
class Execution:
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    attempts: int = 0
    seconds: float = 0.0
    startup_error: str = ""
    hung: bool = False  # a test timed out: the later ones get AFTER_HANG_SECONDS


def prepare_unit(unit: Path, exercise: str, raw: bytes, references: dict[str, str], suite_source: str, kit_files: dict[str, bytes]) -> None:
    """The unit folder a sandbox sees at /unit: runner, harness, the observe-only suite, the code under test."""
    for sub in ("coopkit", "suite", "exercises"):
        (unit / sub).mkdir(parents=True)
    for name, data in kit_files.items():
        (unit / name).write_bytes(data)
    (unit / "suite" / f"test_{exercise}.py").write_text(suite_source, encoding="utf-8")
    (unit / "exercises" / f"{exercise}.py").write_bytes(raw)
    for module, source in references.items():
        (unit / "exercises" / f"{module}.py").write_text(source, encoding="utf-8")
    for path in [unit, *unit.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def _parse(line: bytes, current: int):
    """One record for test ``current``, or None when the line breaks the protocol."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    if set(record) == {"begin"} and type(record["begin"]) is int:
        return record
    if record.get("test") != current or type(record.get("test")) is not int:
        return None
    if set(record) == {"test", "seen"}:
        return record
    if set(record) == {"test", "error", "fields"} and isinstance(record["error"], str) and isinstance(record["fields"], dict):
        return record
    return None


def _attempt(sandboxes: Sandboxes, unit: Path, config: dict, execution: Execution, deadlines) -> int | None:
    """One sandbox, from ``config['start']`` on; returns the index of the next test still to run (None: done)."""
    test_timeout, exercise_end = deadlines
    if execution.hung:
        test_timeout = min(test_timeout, AFTER_HANG_SECONDS)
    sandbox = sandboxes.start(unit, [])
    process = sandbox.process
    buffer, stderr, current, failure = b"", b"", None, None
    try:
        process.stdin.write(json.dumps(config).encode())
        process.stdin.close()
    except OSError:
        pass
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "out")
    selector.register(process.stderr, selectors.EVENT_READ, "err")
    deadline = time.monotonic() + STARTUP_SECONDS
    expected = config["start"]
    try:
        while selector.get_map():
            remaining = min(deadline, exercise_end) - time.monotonic()
            if remaining <= 0:
                failure = "timeout"
                break
            for key, _ in selector.select(remaining):
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                if key.data == "err":
                    stderr = (stderr + data)[:STDERR_CAP]
                    continue
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    record = _parse(line, current)
                    if record is None:
                        failure = "garbled"
                        break
                    if "begin" in record:
                        if record["begin"] != expected or current is not None:
                            failure = "garbled"
                            break
                        current, deadline = expected, time.monotonic() + test_timeout + GRACE_SECONDS
                        continue
                    execution.outcomes[current] = Outcome(seen=record.get("seen"), error=record.get("error"), fields=record.get("fields", {}))
                    if record.get("error") == "timeout":
                        execution.hung = True
                        test_timeout = min(test_timeout, AFTER_HANG_SECONDS)
                    expected, current = current + 1, None
                    deadline = time.monotonic() + STARTUP_SECONDS
                if failure is None and len(buffer) > LINE_CAP:
                    failure = "garbled"
                if failure or expected >= len(config["tests"]):
                    break
            if failure or expected >= len(config["tests"]):
                break  # the last record is in: whatever still runs in there is ended, not waited for
    finally:
        selector.close()
        code = sandbox.end()
    if failure is None and current is None:
        if expected >= len(config["tests"]):
            return None
        if expected == config["start"]:  # not one test began: the sandbox itself did not work
            execution.startup_error = stderr.decode("utf-8", "replace").strip()[-400:] or f"exit status {code}"
            return None
    if current is None:  # it stopped between two tests: the next one is charged
        current = expected
    execution.outcomes[current] = Outcome(failure=failure or "crashed", fields={"code": code, "seconds": test_timeout})
    if failure == "timeout":
        execution.hung = True
    return current + 1


def execute(sandboxes: Sandboxes, unit: Path, config: dict, test_timeout: float, budget_end: float) -> Execution:
    """Every test of the suite, resuming in a fresh sandbox after a test that hung, crashed or broke the channel."""
    started = time.monotonic()
    execution = Execution()
    start = 0
    total = len(config["tests"])
    while start is not None and start < total:
        if time.monotonic() >= budget_end:
            for index in range(start, total):
                execution.outcomes.setdefault(index, Outcome(failure="not_run"))
            break
        for tries in range(START_TRIES):
            execution.attempts += 1
            execution.startup_error = ""
            settings = {**config, "start": start, "after_hang": min(test_timeout, AFTER_HANG_SECONDS)}
            if execution.hung:
                settings["test_timeout"] = settings["after_hang"]
            next_start = _attempt(sandboxes, unit, settings, execution, (test_timeout, budget_end))
            if not execution.startup_error:
                break
            time.sleep(0.5 * (tries + 1))
        if execution.startup_error:
            break
        start = next_start
    execution.seconds = time.monotonic() - started
    return execution
