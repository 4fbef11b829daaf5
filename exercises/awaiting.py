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
    # TODO: write get_id() here; the docstring above says what it must do.
    raise NotImplementedError("get_id() is not written yet")


@types.coroutine
def spawn(task):
    """Awaitable: start ``task`` (a coroutine or generator object); returns its id."""
    # TODO: write spawn() here; the docstring above says what it must do.
    raise NotImplementedError("spawn() is not written yet")


@types.coroutine
def join(task_id):
    """Awaitable: wait for task ``task_id``; returns its result or raises its exception."""
    # TODO: write join() here; the docstring above says what it must do.
    raise NotImplementedError("join() is not written yet")


@types.coroutine
def sleep(seconds):
    """Awaitable: pause the calling task for ``seconds``."""
    # TODO: write sleep() here; the docstring above says what it must do.
    raise NotImplementedError("sleep() is not written yet")


@types.coroutine
def cancel(task_id):
    """Awaitable: cancel task ``task_id``; True if it was cancelled, False if it had finished."""
    # TODO: write cancel() here; the docstring above says what it must do.
    raise NotImplementedError("cancel() is not written yet")


@types.coroutine
def read_wait(sock):
    """Awaitable: wait until ``sock`` is readable."""
    # TODO: write read_wait() here; the docstring above says what it must do.
    raise NotImplementedError("read_wait() is not written yet")


@types.coroutine
def write_wait(sock):
    """Awaitable: wait until ``sock`` is writable."""
    # TODO: write write_wait() here; the docstring above says what it must do.
    raise NotImplementedError("write_wait() is not written yet")


async def recv(sock, size):
    """Wait until ``sock`` is readable, then return ``sock.recv(size)``."""
    # TODO: write recv() here; the docstring above says what it must do.
    raise NotImplementedError("recv() is not written yet")


async def send(sock, data):
    """Send all of ``data`` on the non-blocking ``sock``, waiting whenever its buffer is full; returns ``len(data)``."""
    # TODO: write send() here; the docstring above says what it must do.
    raise NotImplementedError("send() is not written yet")


async def async_map(func, items):
    """Part 1's ``async_map`` as an ``async def``: apply ``func`` to each item, ``await switch()`` after each; return the list."""
    # TODO: write async_map() here; the docstring above says what it must do.
    raise NotImplementedError("async_map() is not written yet")


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
        # TODO: write spawn() here; the docstring above says what it must do.
        raise NotImplementedError("spawn() is not written yet")

    def trap_spawn(self, task_id, gen, child):
        """The spawn trap: the child's id, or the ``TypeError`` from ``spawn`` thrown into the caller."""
        # TODO: write trap_spawn() here; the docstring above says what it must do.
        raise NotImplementedError("trap_spawn() is not written yet")


def run(main, clock=None):
    """Run the coroutine ``main`` on a new ``AwaitKernel`` until every task is done; return its result.

    If ``main`` raised, raise that exception here. Like ``asyncio.run(main())``.
    """
    # TODO: write run() here; the docstring above says what it must do.
    raise NotImplementedError("run() is not written yet")
