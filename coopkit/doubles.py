"""Test doubles for the Part 2 kernels: a fake clock and a selector that records.

The suites import them from here; like the harness, this file is copied into
the grader's sandbox and the student bundle, so it needs only the standard
library.
"""

import selectors


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
