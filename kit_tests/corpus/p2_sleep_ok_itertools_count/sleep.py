"""Chapter 6, written another way: an itertools.count tie-breaker, a wake loop that peeks first, a run loop that breaks."""

import heapq
import itertools
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
        self.clock = clock if clock is not None else Clock()
        self.sleeping = []
        self.tickets = itertools.count()
        self.traps["sleep"] = self.trap_sleep

    def trap_sleep(self, task_id, gen, seconds):
        if seconds < 0:
            seconds = 0
        heapq.heappush(self.sleeping, (self.clock.time() + seconds, next(self.tickets), task_id, gen))

    def wake(self):
        now = self.clock.time()
        while self.sleeping:
            deadline, _, task_id, gen = self.sleeping[0]
            if deadline > now:
                break
            heapq.heappop(self.sleeping)
            self.ready.append((task_id, gen, gen.send, None))

    def run(self):
        while True:
            self.wake()
            if self.ready:
                self.step()
            elif self.sleeping:
                wait = self.sleeping[0][0] - self.clock.time()
                self.clock.sleep(wait if wait > 0 else 0)
            else:
                break
