"""Chapter 9 in another style: each trap is an object with ``__await__`` (and ``__iter__``, for ``yield from``)."""

import inspect

from .cancel import Cancelled, CancelKernel  # noqa: F401


class Trap:
    """A request to the kernel: ``await Trap(...)`` and ``yield from Trap(...)`` both yield it and return the answer."""

    def __init__(self, *request):
        self.request = request

    def __await__(self):
        answer = yield (self.request or None)
        return answer

    __iter__ = __await__


def switch():
    return Trap()


def get_id():
    return Trap("get_id")


def spawn(task):
    return Trap("spawn", task)


def join(task_id):
    return Trap("join", task_id)


def sleep(seconds):
    return Trap("sleep", seconds)


def cancel(task_id):
    return Trap("cancel", task_id)


def read_wait(sock):
    return Trap("read_wait", sock)


def write_wait(sock):
    return Trap("write_wait", sock)


async def recv(sock, size):
    while True:
        try:
            return sock.recv(size)
        except BlockingIOError:
            await read_wait(sock)


async def send(sock, data):
    total = len(data)
    while data:
        await write_wait(sock)
        data = data[sock.send(data):]
    return total


async def async_map(func, items):
    out = []
    for item in items:
        out += [func(item)]
        await switch()
    return out


def is_task(obj):
    return inspect.isgenerator(obj) or inspect.iscoroutine(obj)


class AwaitKernel(CancelKernel):
    def spawn(self, task):
        if not hasattr(task, "send") or not hasattr(task, "throw"):
            raise TypeError(f"can only spawn a generator or coroutine object, not {task!r}")
        return super().spawn(task)

    def trap_spawn(self, task_id, gen, child):
        try:
            super().trap_spawn(task_id, gen, child)
        except TypeError as error:
            self.ready.append((task_id, gen, gen.throw, error))


def run(main, clock=None):
    kernel = AwaitKernel(clock=clock)
    main_id = kernel.spawn(main)
    kernel.run()
    error = kernel.exceptions.get(main_id)
    if error is not None:
        raise error
    return kernel.results.get(main_id)
