"""Chapter 6: sleep, time enters the kernel.

A task that wants to wait half a second must not spin in a loop asking "is it
time yet?": it asks the kernel with the ``sleep`` trap and is parked until its
deadline. Sleepers wait in a heap ordered by deadline, so the next one to wake
is always on top. When no task is ready, the kernel sleeps the clock until
that next deadline, once, instead of checking over and over.

The kernel reads time through a clock object (``time()`` and ``sleep(dt)``),
so tests can hand it a fake clock and run a minute of sleeps in a millisecond.
"""

import heapq
import time

from .traps import Kernel, get_id, join, spawn  # noqa: F401 - the traps of chapter 5 still work here


class Clock:
    """The real clock."""

    def time(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)


def sleep(seconds):
    """Trap: pause the calling task for ``seconds``; ``sleep(0)`` just lets the others run."""
    return (yield ("sleep", seconds))


class SleepKernel(Kernel):
    """The chapter 5 kernel plus a ``sleep`` trap.

    Attributes (beyond ``Kernel``'s):
        clock: where time comes from (``time()``, ``sleep(dt)``).
        sleeping: a heap of ``(deadline, sequence, task id, generator)``; the
            sequence number breaks ties, so equal deadlines wake in the order
            the tasks went to sleep (and generators are never compared).
    """

    def __init__(self, clock=None):
        super().__init__()
        self.clock = clock or Clock()
        self.sleeping = []
        self.sequence = 0
        self.traps["sleep"] = self.trap_sleep

    def trap_sleep(self, task_id, gen, seconds):
        """Park the task until ``clock.time() + seconds`` (negative counts as 0)."""
        ### BEGIN SOLUTION
        deadline = self.clock.time() + max(0, seconds)
        heapq.heappush(self.sleeping, (deadline, self.sequence, task_id, gen))
        self.sequence += 1
        ### END SOLUTION

    def wake(self):
        """Move every sleeper whose deadline has come to the back of the ready queue, earliest first."""
        ### BEGIN SOLUTION
        now = self.clock.time()
        while self.sleeping and self.sleeping[0][0] <= now:
            _, _, task_id, gen = heapq.heappop(self.sleeping)
            self.ready.append((task_id, gen, gen.send, None))
        ### END SOLUTION

    def run(self):
        """Run until no task is ready or asleep.

        Before every step, wake the sleepers that are due. When no task is
        ready, sleep the clock until the earliest deadline: one
        ``clock.sleep`` per wait, never a busy loop.
        """
        ### BEGIN SOLUTION
        while self.ready or self.sleeping:
            self.wake()
            if self.ready:
                self.step()
            else:
                self.clock.sleep(max(0, self.sleeping[0][0] - self.clock.time()))
        ### END SOLUTION
