"""Chapter 7: I/O (another student's version)."""

import selectors
from selectors import EVENT_READ, EVENT_WRITE

from .sleep import SleepKernel, sleep  # noqa: F401
from .traps import get_id, join, spawn  # noqa: F401


def read_wait(sock):
    """Trap: suspend the calling task until ``sock`` is readable."""
    return (yield ("read_wait", sock))


def write_wait(sock):
    """Trap: suspend the calling task until ``sock`` is writable."""
    return (yield ("write_wait", sock))


def recv(sock, size):
    yield from read_wait(sock)
    data = sock.recv(size)
    return data


def send(sock, data):
    total = len(data)
    view = memoryview(bytes(data))
    while len(view):
        try:
            view = view[sock.send(view):]
        except BlockingIOError:
            yield from write_wait(sock)
    return total


def accept(listener):
    yield from read_wait(listener)
    pair = listener.accept()
    pair[0].setblocking(False)
    return pair


def echo_handler(conn):
    with conn:
        pending = bytearray()
        while True:
            chunk = yield from recv(conn, 1024)
            if not chunk:
                break
            pending += chunk
            sent = yield from send(conn, bytes(pending))
            del pending[:sent]


def echo_server(listener, clients):
    served = 0
    while served < clients:
        conn, _ = yield from accept(listener)
        yield from spawn(echo_handler(conn))
        served += 1
    return served


class IOKernel(SleepKernel):
    def __init__(self, clock=None, selector=None):
        super().__init__(clock)
        self.selector = selector if selector is not None else selectors.DefaultSelector()
        self.readers, self.writers, self.registered = {}, {}, {}
        self.traps.update(read_wait=self.trap_read_wait, write_wait=self.trap_write_wait)

    def trap_read_wait(self, task_id, gen, sock):
        self.park(self.readers, task_id, gen, sock)

    def trap_write_wait(self, task_id, gen, sock):
        self.park(self.writers, task_id, gen, sock)

    def park(self, waiters, task_id, gen, sock):
        if sock in waiters:
            self.resume(task_id, gen, error=RuntimeError("only one task may wait here"))
        else:
            waiters[sock] = task_id, gen
            self.update(sock)

    def resume(self, task_id, gen, error=None):
        if error is None:
            self.ready.append((task_id, gen, gen.send, None))
        else:
            self.ready.append((task_id, gen, gen.throw, error))

    def update(self, sock):
        want = 0
        if sock in self.readers:
            want |= EVENT_READ
        if sock in self.writers:
            want |= EVENT_WRITE
        have = self.registered.get(sock)
        if want and have is None:
            self.selector.register(sock, want, data=sock)
        elif want and have != want:
            self.selector.modify(sock, want, data=sock)
        elif not want and have is not None:
            self.selector.unregister(sock)
        if want:
            self.registered[sock] = want
        else:
            self.registered.pop(sock, None)

    def select_timeout(self):
        if self.ready:
            return 0
        if self.sleeping:
            return max(self.sleeping[0][0] - self.clock.time(), 0)
        return None

    def poll(self, timeout):
        if not self.readers and not self.writers:
            if timeout:
                self.clock.sleep(timeout)
            return
        for key, mask in self.selector.select(timeout):
            sock = key.data
            if mask & EVENT_READ and sock in self.readers:
                self.resume(*self.readers.pop(sock))
            if mask & EVENT_WRITE and sock in self.writers:
                self.resume(*self.writers.pop(sock))
            self.update(sock)

    def run(self):
        while any((self.ready, self.sleeping, self.readers, self.writers)):
            self.poll(self.select_timeout())
            self.wake()
            for _ in range(len(self.ready)):
                self.step()
