"""Chapter 5: traps, how a task talks to its kernel.

In Part 1 a task could only say "let the others run" (a bare ``yield``). A
real kernel also hands out services: "what is my id?", "start this task",
"wait until that task is done". A task asks by yielding a request, a *trap*,
and the kernel answers by sending the reply back in with ``gen.send(reply)``;
the reply is the value of the ``yield`` expression inside the task.

Traps are tiny generator functions, used with ``yield from`` so that the
request and the reply stay out of sight::

    def worker():
        me = yield from get_id()
        child = yield from spawn(helper())
        result = yield from join(child)
"""

from collections import deque

SWITCH = None  # a bare `yield`: give the others a turn, resume with None


def get_id():
    """Trap: the id of the calling task."""
    return (yield ("get_id",))


def spawn(gen):
    """Trap: start ``gen`` as a new task; returns its id."""
    return (yield ("spawn", gen))


def join(task_id):
    """Trap: wait for task ``task_id`` to finish; returns its result or raises its exception."""
    return (yield ("join", task_id))


class Kernel:
    """A round-robin kernel that answers traps.

    Attributes:
        ready: the runnable tasks, front first: ``(task id, generator, resume, payload)``,
            where ``resume`` is the generator's ``send`` (payload: the answer) or its
            ``throw`` (payload: the exception the task is owed).
        results: ``{task id: return value}`` for tasks that finished.
        exceptions: ``{task id: exception}`` for tasks that raised.
    """

    def __init__(self):
        self.ready = deque()
        self.results = {}
        self.exceptions = {}
        self.waiting = {}  # task id -> [(id, gen) of the tasks joining it]
        self.next_id = 1
        self.traps = {"get_id": self.trap_get_id, "spawn": self.trap_spawn, "join": self.trap_join}

    def spawn(self, gen):
        """Add ``gen`` as a new task at the back of the ready queue; returns its id (1, 2, 3, ...)."""
        task_id = self.next_id
        self.next_id += 1
        self.ready.append((task_id, gen, gen.send, None))
        return task_id

    def run(self):
        """Run until no task is ready."""
        while self.ready:
            self.step()

    def step(self):
        """Resume the task at the front of the ready queue once.

        Take it off the front, resume it (``resume(payload)``: the answer it is
        owed, or the error) and look at what it yields:

        * ``None`` (a bare ``yield``): it goes to the back, to be resumed with ``send(None)``;
        * a trap, a tuple whose first item names a handler in ``self.traps``:
          call the handler, which decides when the task resumes and with what;
        * anything else: an unknown trap. Throw ``RuntimeError`` into the task
          that made it (on its next turn); the kernel keeps running.

        A task that returns goes into ``results``, one that raises an ``Exception``
        into ``exceptions``; either way every task joining it is resumed, with the
        result or with the exception thrown in.
        """
        # TODO: write step() here; the docstring above says what it must do.
        raise NotImplementedError("step() is not written yet")

    def finish(self, task_id, value=None, error=None):
        """Resume every task that joined ``task_id``: with ``value``, or with ``error`` thrown in."""
        # TODO: write finish() here; the docstring above says what it must do.
        raise NotImplementedError("finish() is not written yet")

    def trap_get_id(self, task_id, gen):
        """Answer at once: the task resumes next round with its own id."""
        # TODO: write trap_get_id() here; the docstring above says what it must do.
        raise NotImplementedError("trap_get_id() is not written yet")

    def trap_spawn(self, task_id, gen, child):
        """Start ``child`` as a new task; the caller resumes with the child's id."""
        # TODO: write trap_spawn() here; the docstring above says what it must do.
        raise NotImplementedError("trap_spawn() is not written yet")

    def trap_join(self, task_id, gen, target):
        """Resume the caller when ``target`` finishes (at once if it already has).

        Joining an id that was never spawned throws ``KeyError`` into the caller.
        """
        # TODO: write trap_join() here; the docstring above says what it must do.
        raise NotImplementedError("trap_join() is not written yet")
