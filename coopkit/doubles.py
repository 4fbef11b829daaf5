"""Test doubles and helpers for the Part 2 kernels: a fake clock, a selector that records, running a kernel.

The suites import them from here; like the harness, this file is copied into
the grader's sandbox and the student bundle, so it needs only the standard
library and the harness. ``run_kernel`` observes (it runs beside the code
under test); ``judge_run`` judges what it saw (it runs in the grader).
"""

import selectors

from coopkit.harness import describe, fail

KERNEL_MUST_NOT_RAISE = "errors in tasks are recorded (or thrown into the task); the kernel itself must not raise"


class FakeClock:
    """Time stands still until the kernel sleeps (or moves ``tick`` per reading); every sleep is recorded."""

    def __init__(self, tick=0.0):
        self.now = 0.0
        self.tick = tick
        self.sleeps = []

    def time(self):
        self.now += self.tick
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


SELECT_LIMIT = 5000  # more select() calls than any test needs: the kernel is polling in a loop


class Spin(Exception):
    """The kernel called select() over and over without time or I/O moving on."""


class RecordingSelector(selectors.DefaultSelector):
    """A real selector that records every timeout and moves a fake clock through the waits.

    ``select(timeout)`` never blocks the test for long: it asks the operating
    system with timeout 0 (at most half a second for ``None``) and, when
    nothing is ready, advances the fake clock by the timeout (the time the real
    wait would have taken). A ``None`` timeout while a task is ready or asleep
    is recorded as a mistake and treated as 0.
    """

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.kernel = None
        self.timeouts = []
        self.mistakes = []

    def select(self, timeout=None):
        self.timeouts.append(timeout)
        if len(self.timeouts) > SELECT_LIMIT:
            raise Spin(f"select() called {SELECT_LIMIT} times")
        kernel = self.kernel
        real_wait = 0
        if timeout is None:
            if kernel is not None and (getattr(kernel, "ready", None) or getattr(kernel, "sleeping", None)):
                self.mistakes.append("select(None) while tasks were " + ("ready" if kernel.ready else "asleep"))
            else:
                real_wait = 0.5  # nothing else can happen: give loopback traffic a moment
        events = super().select(real_wait)
        if not events and timeout:
            self.clock.now += timeout
        return events


def escaped(error):
    """An exception that escaped student code, as data: its type name and text."""
    return {"type": type(error).__name__, "text": describe(str(error))}


def run_kernel(kernel):
    """Observe ``kernel.run()``: None when it returned, else what escaped it (as ``escaped`` data)."""
    try:
        kernel.run()
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded, judged later
        return escaped(exc)
    return None


def judge_run(error, call, expected, cause=None):
    """Judge what ``run_kernel`` saw: an escaped error fails, ``cause(error)`` (or the usual reason) saying why."""
    if error is not None:
        fail(call=call, expected=expected, got=f"run() raised {error.get('type')}: {error.get('text')}",
             cause=(cause(error) if cause else None) or KERNEL_MUST_NOT_RAISE)


def recorded(kernel):
    """``(results, exceptions)`` of a kernel as plain dicts (empty when missing or not dicts)."""
    values = getattr(kernel, "results", None)
    errors = getattr(kernel, "exceptions", None)
    return (dict(values) if isinstance(values, dict) else {}), (dict(errors) if isinstance(errors, dict) else {})
