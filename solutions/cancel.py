"""Chapter 8: cancellation, stopping a task from the outside.

A server shutting down, a request that took too long, a user who pressed
"stop": some task must end another. The kernel cannot just drop the task's
generator, because the task may hold resources its ``finally`` blocks would
release. It throws a ``Cancelled`` exception into the task at the point where
it is suspended, so the task unwinds like any other error: ``finally`` blocks
and ``with`` statements clean up, and the task ends up in ``exceptions``.

Wherever the task waits (on the ready queue, in the heap of sleepers, in the
selector, joining another task) the kernel first takes it out of there, so it
is never resumed twice.
"""

import heapq

from .io import IOKernel, accept, read_wait, recv, send, write_wait  # noqa: F401 - chapter 7's I/O still works here
from .sleep import sleep  # noqa: F401
from .traps import get_id, join, spawn  # noqa: F401


class Cancelled(Exception):
    """Thrown into a task that was cancelled, at the point where it waits."""


def cancel(task_id):
    """Trap: cancel task ``task_id``; returns True if it was cancelled, False if it had already finished."""
    return (yield ("cancel", task_id))


class CancelKernel(IOKernel):
    """The chapter 7 kernel plus a ``cancel`` trap."""

    def __init__(self, clock=None, selector=None):
        super().__init__(clock, selector)
        self.traps["cancel"] = self.trap_cancel

    def trap_cancel(self, task_id, gen, target):
        """Cancel ``target``; the caller resumes with the answer of ``cancel_task``.

        A task may cancel itself: ``Cancelled`` is then thrown into it when it
        resumes, instead of an answer. Cancelling an id that was never spawned
        throws ``KeyError`` into the caller, as ``join`` does.
        """
        ### BEGIN SOLUTION
        if target == task_id:
            self.ready.append((task_id, gen, gen.throw, Cancelled(f"task {task_id} cancelled itself")))
        elif not (isinstance(target, int) and 0 < target < self.next_id):
            self.ready.append((task_id, gen, gen.throw, KeyError(target)))
        else:
            self.ready.append((task_id, gen, gen.send, self.cancel_task(target)))
        ### END SOLUTION

    def cancel_task(self, target):
        """Deliver ``Cancelled`` to task ``target``: True if it was waiting somewhere, False if it had finished.

        Take the task out of the place where it waits (the ready queue, the
        sleepers' heap, ``readers``/``writers`` and the selector, the joiners of
        another task), then put it at the back of the ready queue with
        ``Cancelled`` to throw in. A task that waits nowhere has finished: it is
        left alone.
        """
        ### BEGIN SOLUTION
        gen = self.unpark(target)
        if gen is None:  # it waits nowhere: it has finished
            return False
        self.ready.append((target, gen, gen.throw, Cancelled(f"task {target} was cancelled")))
        return True
        ### END SOLUTION

    def unpark(self, target):
        """Remove task ``target`` from wherever it waits and return its generator (None if it waits nowhere)."""
        ### BEGIN SOLUTION
        for entry in self.ready:
            if entry[0] == target:
                self.ready.remove(entry)
                return entry[1]
        for entry in self.sleeping:
            if entry[2] == target:
                self.sleeping.remove(entry)
                heapq.heapify(self.sleeping)
                return entry[3]
        for waiters in (self.readers, self.writers):
            for sock, (task_id, gen) in list(waiters.items()):
                if task_id == target:
                    del waiters[sock]
                    self.update(sock)
                    return gen
        for joiners in self.waiting.values():
            for joiner in joiners:
                if joiner[0] == target:
                    joiners.remove(joiner)
                    return joiner[1]
        return None
        ### END SOLUTION
