"""Runs inside the sandbox: the observe halves of one suite, against one student's file.

It decides nothing. For each test it sends ``{"begin": i}``, then either
``{"test": i, "seen": <what the observe half returned>}`` or ``{"test": i,
"error": <kind>, "fields": {...}}``, one JSON line each, on the channel (the
stdout it was started with; the student's own prints go to /dev/null). The
grader reads those lines strictly and judges them with the verify halves,
which are not in here.

Started as ``python -I -S -B runner.py`` with its settings as JSON on stdin:
``{"exercise", "tests": [names], "seeds": [one per test], "start",
"test_timeout", "after_hang"}``: once a test has timed out (here, or in an
earlier sandbox when ``after_hang`` is already under ``test_timeout``), each
later test gets ``after_hang`` seconds. Needs only the standard library and
``coopkit/harness.py`` (with ``coopkit/messages.py``) beside it.
"""

import importlib.util
import json
import os
import random
import signal
import sys

UNIT = os.path.dirname(os.path.abspath(__file__))


def main():
    config = json.loads(sys.stdin.buffer.read())
    channel = os.dup(1)
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(quiet, fd)
    sys.path[:0] = [UNIT]
    from coopkit import harness

    def send(record):
        os.write(channel, json.dumps(record, allow_nan=False).encode() + b"\n")

    limit = [config["test_timeout"]]

    def on_alarm(signum, frame):
        raise harness.TestTimeout(limit[0])

    spec = importlib.util.spec_from_file_location("suite", os.path.join(UNIT, "suite", f"test_{config['exercise']}.py"))
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    impl = harness.Implementation(os.path.join(UNIT, "exercises"))
    signal.signal(signal.SIGALRM, on_alarm)
    for index in range(config["start"], len(config["tests"])):
        name = config["tests"][index]
        send({"begin": index})
        try:
            test = getattr(suite, name)
            arguments = {"impl": impl}
            if "rng" in test.__code__.co_varnames[: test.__code__.co_argcount]:
                arguments["rng"] = random.Random(config["seeds"][index])
            signal.setitimer(signal.ITIMER_REAL, limit[0])
            try:
                seen = test(**arguments)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                line = json.dumps({"test": index, "seen": seen}, allow_nan=False)
            except (TypeError, ValueError, RecursionError) as exc:
                line = json.dumps({"test": index, "error": "not_plain", "fields": {"detail": harness.short(str(exc))}})
            os.write(channel, line.encode() + b"\n")
        except BaseException as exc:  # noqa: BLE001 - whatever student code raised is reported as data
            signal.setitimer(signal.ITIMER_REAL, 0)
            kind, fields = harness.classify(exc, exc.__traceback__, impl.folder)
            if kind == "timeout":
                limit[0] = min(limit[0], config.get("after_hang", limit[0]))
            send({"test": index, "error": kind, "fields": harness.clean_fields(kind, fields)})


if __name__ == "__main__":
    main()
