"""Chapter 9: async and await, the same kernel under a new syntax.

``async def`` functions return *coroutine objects*. They have the same
``send()`` and ``throw()`` as generators and end with ``StopIteration`` the
same way, so the kernel can run them unchanged. The difference is on the
inside: a coroutine cannot ``yield`` and uses ``await`` instead of
``yield from``, and ``await`` only takes *awaitables*.

``types.coroutine`` turns a generator function into one whose generators are
awaitable. So each trap comes back as the same request, yielded from a
function with that decorator, and then::

    async def worker():
        me = await get_id()
        await sleep(0.5)
        child = await spawn(helper())
        return await join(child)

The wrappers still work with ``yield from`` in plain generator tasks, so both
kinds of task run side by side in one kernel.
"""

import inspect
import types

from .cancel import Cancelled, CancelKernel  # noqa: F401 - Cancelled is raised in coroutines too


@types.coroutine
def switch():
    """Awaitable: let the other tasks run (a bare ``yield``)."""
    yield


@types.coroutine
def get_id():
    """Awaitable: the id of the calling task."""
    ### BEGIN SOLUTION
    return (yield ("get_id",))
    ### END SOLUTION


@types.coroutine
def spawn(task):
    """Awaitable: start ``task`` (a coroutine or generator object); returns its id."""
    ### BEGIN SOLUTION
    return (yield ("spawn", task))
    ### END SOLUTION


@types.coroutine
def join(task_id):
    """Awaitable: wait for task ``task_id``; returns its result or raises its exception."""
    ### BEGIN SOLUTION
    return (yield ("join", task_id))
    ### END SOLUTION


@types.coroutine
def sleep(seconds):
    """Awaitable: pause the calling task for ``seconds``."""
    ### BEGIN SOLUTION
    return (yield ("sleep", seconds))
    ### END SOLUTION


@types.coroutine
def cancel(task_id):
    """Awaitable: cancel task ``task_id``; True if it was cancelled, False if it had finished."""
    ### BEGIN SOLUTION
    return (yield ("cancel", task_id))
    ### END SOLUTION


@types.coroutine
def read_wait(sock):
    """Awaitable: wait until ``sock`` is readable."""
    ### BEGIN SOLUTION
    return (yield ("read_wait", sock))
    ### END SOLUTION


@types.coroutine
def write_wait(sock):
    """Awaitable: wait until ``sock`` is writable."""
    ### BEGIN SOLUTION
    return (yield ("write_wait", sock))
    ### END SOLUTION


async def recv(sock, size):
    """Wait until ``sock`` is readable, then return ``sock.recv(size)``."""
    ### BEGIN SOLUTION
    await read_wait(sock)
    return sock.recv(size)
    ### END SOLUTION


async def send(sock, data):
    """Send all of ``data`` on the non-blocking ``sock``, waiting whenever its buffer is full; returns ``len(data)``."""
    ### BEGIN SOLUTION
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except BlockingIOError:
            await write_wait(sock)
        else:
            view = view[sent:]
    return len(data)
    ### END SOLUTION


async def async_map(func, items):
    """Part 1's ``async_map`` as an ``async def``: apply ``func`` to each item, ``await switch()`` after each; return the list."""
    ### BEGIN SOLUTION
    results = []
    for item in items:
        results.append(func(item))
        await switch()
    return results
    ### END SOLUTION


def is_task(obj):
    """True for what the kernel can run: a generator object or a coroutine object."""
    return inspect.isgenerator(obj) or inspect.iscoroutine(obj)


class AwaitKernel(CancelKernel):
    """The chapter 8 kernel, checking that what it is asked to run can run.

    Coroutines need nothing new in ``step()``. What changes is the classic
    mistake: ``spawn(main)`` instead of ``spawn(main())`` hands the kernel a
    function, which has no ``send``.
    """

    def spawn(self, task):
        """Like ``Kernel.spawn``, but raise ``TypeError`` (naming what was passed) unless ``task`` is a generator or coroutine object."""
        ### BEGIN SOLUTION
        if not is_task(task):
            raise TypeError(f"spawn() needs a coroutine or generator object (call it first), got a {type(task).__name__}")
        return super().spawn(task)
        ### END SOLUTION

    def trap_spawn(self, task_id, gen, child):
        """The spawn trap: the child's id, or the ``TypeError`` from ``spawn`` thrown into the caller."""
        ### BEGIN SOLUTION
        try:
            child_id = self.spawn(child)
        except TypeError as exc:
            self.ready.append((task_id, gen, gen.throw, exc))
        else:
            self.ready.append((task_id, gen, gen.send, child_id))
        ### END SOLUTION


def run(main, clock=None):
    """Run the coroutine ``main`` on a new ``AwaitKernel`` until every task is done; return its result.

    If ``main`` raised, raise that exception here. Like ``asyncio.run(main())``.
    """
    ### BEGIN SOLUTION
    kernel = AwaitKernel(clock)
    main_id = kernel.spawn(main)
    kernel.run()
    if main_id in kernel.exceptions:
        raise kernel.exceptions[main_id]
    return kernel.results[main_id]
    ### END SOLUTION
