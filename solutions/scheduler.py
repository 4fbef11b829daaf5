"""Exercise 4: Scheduler, many tasks taking turns.

Cooperative multitasking in a dozen lines: keep the waiting tasks in a queue,
take the one at the front, let it run until its next ``yield``, and put it at
the back. Every task gets a turn, one step at a time, so their steps
interleave.
"""

from collections import deque

from .task import Task


class Scheduler:
    """A round-robin scheduler for generators.

    Attributes:
        tasks: the waiting ``Task`` objects, front first (a ``deque``).
        results: ``{task id: return value}`` for every task that finished.
        exceptions: ``{task id: exception}`` for every task that raised.
    """

    def __init__(self):
        self.tasks = deque()
        self.results = {}
        self.exceptions = {}

    def add(self, gen):
        """Wrap ``gen`` in a ``Task``, queue it at the back, return its id."""
        ### BEGIN SOLUTION
        task = Task(gen)
        self.tasks.append(task)
        return task.id
        ### END SOLUTION

    def run(self):
        """Run every task to the end, one step at a time, in turn.

        Take the task at the front (``popleft``), advance it by exactly one
        ``next()``, and append it at the back if it is not finished. Stop when
        no task is left.

        * A task that finishes: its return value goes in ``results[task.id]``.
        * A task that raises an ``Exception``: the exception object goes in
          ``exceptions[task.id]``; the task is not run again and the others
          carry on.
        * ``KeyboardInterrupt``, ``SystemExit`` and other exceptions that are
          not ``Exception`` subclasses are not caught: they stop ``run``.

        A task added while ``run`` is running joins the back of the queue and
        gets its turns too.
        """
        ### BEGIN SOLUTION
        # Local names for what the loop uses on every turn: it may turn millions of times.
        tasks, results, exceptions = self.tasks, self.results, self.exceptions
        popleft, append = tasks.popleft, tasks.append
        while tasks:
            task = popleft()
            try:
                next(task.gen)
            except StopIteration as stop:
                results[task.id] = stop.value
            except Exception as exc:
                exceptions[task.id] = exc
            else:
                append(task)
        ### END SOLUTION
