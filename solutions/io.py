"""Chapter 7: I/O, waiting for sockets without blocking the kernel.

A task that calls ``sock.recv()`` on a socket with no data would stop the
whole kernel: every task shares one thread. Instead it asks the kernel to park
it until the socket is readable (``read_wait``) or writable (``write_wait``).
The kernel keeps the waiting tasks in a ``selectors`` selector and, between
rounds of ready tasks, asks the operating system which sockets are ready.

How long may that question block? Not at all while tasks are ready (timeout
0); until the next sleeper's deadline while only sleepers and waiters remain;
for as long as it takes when only waiters remain. ``run()`` ends when nothing
is ready, asleep or waiting.

The helpers ``recv``, ``send`` and ``accept`` wrap the traps around the socket
calls. Sockets used with the kernel are non-blocking
(``sock.setblocking(False)``), so a call that cannot finish raises
``BlockingIOError`` instead of stopping everyone.
"""

import selectors

from .sleep import SleepKernel, sleep  # noqa: F401 - chapter 6's sleep still works here
from .traps import get_id, join, spawn  # noqa: F401 - and chapter 5's traps


def read_wait(sock):
    """Trap: suspend the calling task until ``sock`` is readable."""
    return (yield ("read_wait", sock))


def write_wait(sock):
    """Trap: suspend the calling task until ``sock`` is writable."""
    return (yield ("write_wait", sock))


def recv(sock, size):
    """Wait until ``sock`` is readable, then return ``sock.recv(size)`` (``b""`` at end of stream)."""
    ### BEGIN SOLUTION
    yield from read_wait(sock)
    return sock.recv(size)
    ### END SOLUTION


def send(sock, data):
    """Send all of ``data``, waiting for room whenever the socket's buffer is full; returns ``len(data)``.

    ``sock.send`` may take only part of the data (it returns how many bytes it
    took) or raise ``BlockingIOError`` when the buffer is full.
    """
    ### BEGIN SOLUTION
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except BlockingIOError:
            yield from write_wait(sock)
        else:
            view = view[sent:]
    return len(data)
    ### END SOLUTION


def accept(listener):
    """Wait for a connection on ``listener``; returns ``(connection, address)``, the connection non-blocking."""
    ### BEGIN SOLUTION
    yield from read_wait(listener)
    conn, address = listener.accept()
    conn.setblocking(False)
    return conn, address
    ### END SOLUTION


def echo_handler(conn):
    """Send back every byte received on ``conn`` until the peer closes it, then close ``conn``."""
    ### BEGIN SOLUTION
    with conn:
        while True:
            data = yield from recv(conn, 65536)
            if not data:
                break
            yield from send(conn, data)
    ### END SOLUTION


def echo_server(listener, clients):
    """Accept ``clients`` connections on ``listener``, each served by its own ``echo_handler`` task.

    Returns once the last one is accepted (the handlers go on running).
    """
    ### BEGIN SOLUTION
    for _ in range(clients):
        conn, _ = yield from accept(listener)
        yield from spawn(echo_handler(conn))
    ### END SOLUTION


class IOKernel(SleepKernel):
    """The chapter 6 kernel plus I/O waits.

    Attributes (beyond ``SleepKernel``'s):
        selector: a ``selectors`` selector holding every socket a task waits on.
        readers: ``{socket: (task id, generator)}``, the task waiting to read it.
        writers: ``{socket: (task id, generator)}``, the task waiting to write to it.
        registered: ``{socket: events}``, what the selector watches each socket for
            (asking the selector instead costs an exception for a socket it does not know).
    """

    def __init__(self, clock=None, selector=None):
        super().__init__(clock)
        self.selector = selector or selectors.DefaultSelector()
        self.readers = {}
        self.writers = {}
        self.registered = {}
        self.traps["read_wait"] = self.trap_read_wait
        self.traps["write_wait"] = self.trap_write_wait

    def trap_read_wait(self, task_id, gen, sock):
        """Park the task until ``sock`` is readable.

        A second task waiting to read the same socket gets ``RuntimeError``
        thrown in instead (who would get the data?).
        """
        ### BEGIN SOLUTION
        self.park(self.readers, task_id, gen, sock)
        ### END SOLUTION

    def trap_write_wait(self, task_id, gen, sock):
        """Park the task until ``sock`` is writable (one writer per socket, as for readers)."""
        ### BEGIN SOLUTION
        self.park(self.writers, task_id, gen, sock)
        ### END SOLUTION

    def park(self, waiters, task_id, gen, sock):
        """Record the waiter in ``waiters`` (``self.readers`` or ``self.writers``) and update the selector."""
        ### BEGIN SOLUTION
        if sock in waiters:
            self.ready.append((task_id, gen, gen.throw, RuntimeError(f"another task is already waiting on {sock!r}")))
            return
        waiters[sock] = (task_id, gen)
        self.update(sock)
        ### END SOLUTION

    def update(self, sock):
        """Make the selector watch ``sock`` for exactly the events its waiters need.

        Read and write waits on one socket share one registration (a selector
        refuses to register a socket twice): ``EVENT_READ | EVENT_WRITE`` when
        both wait, ``modify`` when that changes, ``unregister`` when nobody
        waits. Keep ``self.registered`` in step with the selector.
        """
        ### BEGIN SOLUTION
        events = (selectors.EVENT_READ if sock in self.readers else 0) | (selectors.EVENT_WRITE if sock in self.writers else 0)
        registered = self.registered.get(sock, 0)
        if events == registered:
            return
        if not events:
            self.selector.unregister(sock)
            del self.registered[sock]
            return
        if registered:
            self.selector.modify(sock, events)
        else:
            self.selector.register(sock, events)
        self.registered[sock] = events
        ### END SOLUTION

    def select_timeout(self):
        """How long the next poll may block: 0 if a task is ready, else until the earliest deadline, else ``None`` (no limit)."""
        ### BEGIN SOLUTION
        if self.ready:
            return 0
        if self.sleeping:
            return max(0, self.sleeping[0][0] - self.clock.time())
        return None
        ### END SOLUTION

    def poll(self, timeout):
        """Wait up to ``timeout`` for I/O and move the tasks whose socket is ready to the back of the ready queue.

        With no socket to watch there is nothing to select on: just sleep the
        clock for ``timeout`` (if it is more than 0), as chapter 6 did.
        """
        ### BEGIN SOLUTION
        if not (self.readers or self.writers):
            if timeout:
                self.clock.sleep(timeout)
            return
        for key, events in self.selector.select(timeout):
            sock = key.fileobj
            if events & selectors.EVENT_READ and sock in self.readers:
                task_id, gen = self.readers.pop(sock)
                self.ready.append((task_id, gen, gen.send, None))
            if events & selectors.EVENT_WRITE and sock in self.writers:
                task_id, gen = self.writers.pop(sock)
                self.ready.append((task_id, gen, gen.send, None))
            self.update(sock)
        ### END SOLUTION

    def run(self):
        """Run until nothing is ready, asleep or waiting for I/O.

        Each turn: poll for I/O (``select_timeout()``), wake the sleepers that
        are due, then step every task that was ready at that moment once (a
        round). Tasks made ready during the round run in the next one.
        """
        ### BEGIN SOLUTION
        while self.ready or self.sleeping or self.readers or self.writers:
            self.poll(self.select_timeout())
            self.wake()
            for _ in range(len(self.ready)):
                self.step()
        ### END SOLUTION
