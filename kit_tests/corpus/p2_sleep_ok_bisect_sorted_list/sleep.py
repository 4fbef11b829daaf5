"""Chapter 6, written another way: the sleepers in a list kept sorted with bisect.insort, woken from the front."""

import bisect
import time

from .traps import Kernel, get_id, join, spawn  # noqa: F401


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
    def __init__(self, clock=None):
        super().__init__()
        self.clock = clock or Clock()
        self.sleeping = []  # sorted by (deadline, sequence): a sorted list is a heap too
        self.sequence = 0
        self.traps["sleep"] = self.trap_sleep

    def trap_sleep(self, task_id, gen, seconds):
        self.sequence += 1
        deadline = self.clock.time() + max(seconds, 0)
        bisect.insort(self.sleeping, (deadline, self.sequence, task_id, gen))

    def wake(self):
        now = self.clock.time()
        due = 0
        while due < len(self.sleeping) and self.sleeping[due][0] <= now:
            due += 1
        woken, self.sleeping[:] = self.sleeping[:due], self.sleeping[due:]
        for _, _, task_id, gen in woken:
            self.ready.append((task_id, gen, gen.send, None))

    def run(self):
        while self.ready or self.sleeping:
            self.wake()
            if not self.ready:
                first = self.sleeping[0][0]
                self.clock.sleep(max(first - self.clock.time(), 0.0))
                continue
            self.step()
