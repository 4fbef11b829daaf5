"""Chapter 7: I/O, waiting for sockets without blocking the kernel (a student's version)."""

import selectors

from .sleep import SleepKernel, sleep  # noqa: F401
from .traps import get_id, join, spawn  # noqa: F401

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


def read_wait(sock):
    """Trap: suspend the calling task until ``sock`` is readable."""
    return (yield ("read_wait", sock))


def write_wait(sock):
    """Trap: suspend the calling task until ``sock`` is writable."""
    return (yield ("write_wait", sock))


def recv(sock, size):
    """Wait until ``sock`` is readable, then return ``sock.recv(size)`` (``b""`` at end of stream)."""
    while True:
        try:
            return sock.recv(size)
        except BlockingIOError:
            yield from read_wait(sock)


def send(sock, data):
    """Send all of ``data``, waiting for room whenever the socket's buffer is full; returns ``len(data)``."""
    total = 0
    while total < len(data):
        try:
            total += sock.send(data[total:])
        except BlockingIOError:
            yield from write_wait(sock)
    return total


def accept(listener):
    """Wait for a connection on ``listener``; returns ``(connection, address)``, the connection non-blocking."""
    while True:
        try:
            conn, address = listener.accept()
        except BlockingIOError:
            yield from read_wait(listener)
        else:
            conn.setblocking(False)
            return conn, address


def echo_handler(conn):
    """Send back every byte received on ``conn`` until the peer closes it, then close ``conn``."""
    try:
        while data := (yield from recv(conn, 4096)):
            yield from send(conn, data)
    finally:
        conn.close()


def echo_server(listener, clients):
    """Accept ``clients`` connections on ``listener``, each served by its own ``echo_handler`` task."""
    connections = []
    while len(connections) < clients:
        conn, _address = yield from accept(listener)
        connections.append(conn)
        yield from spawn(echo_handler(conn))


class IOKernel(SleepKernel):
    """The chapter 6 kernel plus I/O waits."""

    def __init__(self, clock=None, selector=None):
        super().__init__(clock)
        self.selector = selector or selectors.DefaultSelector()
        self.readers = {}
        self.writers = {}
        self.registered = {}
        self.traps["read_wait"] = self.trap_read_wait
        self.traps["write_wait"] = self.trap_write_wait

    def trap_read_wait(self, task_id, gen, sock):
        if sock in self.readers:
            self.ready.append((task_id, gen, gen.throw, RuntimeError("someone already reads this socket")))
        else:
            self.park(self.readers, task_id, gen, sock)

    def trap_write_wait(self, task_id, gen, sock):
        if sock in self.writers:
            self.ready.append((task_id, gen, gen.throw, RuntimeError("someone already writes to this socket")))
        else:
            self.park(self.writers, task_id, gen, sock)

    def park(self, waiters, task_id, gen, sock):
        waiters[sock] = (task_id, gen)
        self.update(sock)

    def wanted(self, sock):
        events = 0
        if sock in self.readers:
            events |= READ
        if sock in self.writers:
            events |= WRITE
        return events

    def update(self, sock):
        old, new = self.registered.get(sock, 0), self.wanted(sock)
        if old == new:
            return
        if old and new:
            self.selector.modify(sock, new)
            self.registered[sock] = new
        elif new:
            self.selector.register(sock, new)
            self.registered[sock] = new
        else:
            self.selector.unregister(sock)
            self.registered.pop(sock)

    def select_timeout(self):
        if self.ready:
            return 0
        if not self.sleeping:
            return None
        return max(0.0, min(entry[0] for entry in self.sleeping) - self.clock.time())

    def poll(self, timeout):
        if not self.registered:
            if timeout and timeout > 0:
                self.clock.sleep(timeout)
            return
        woken = []
        for key, events in self.selector.select(timeout):
            sock = key.fileobj
            for flag, waiters in ((READ, self.readers), (WRITE, self.writers)):
                if events & flag and sock in waiters:
                    woken.append(waiters.pop(sock))
            self.update(sock)
        for task_id, gen in woken:
            self.ready.append((task_id, gen, gen.send, None))

    def run(self):
        while True:
            if not (self.ready or self.sleeping or self.readers or self.writers):
                return
            self.poll(self.select_timeout())
            self.wake()
            count = len(self.ready)
            while count:
                self.step()
                count -= 1
