"""Tests for chapter 7, io: read and write waits over a selector, helpers, an echo server."""

import socket

from coopkit.doubles import FakeClock, RecordingSelector, Spin, recorded, run_kernel
from coopkit.harness import check, describe, fail

def kernel_of(impl, clock=None):
    module = impl.fresh("io")
    for name in ("IOKernel", "read_wait", "write_wait", "recv", "send", "accept", "echo_server"):
        impl.attr("io", name)
    clock = clock or FakeClock()
    selector = RecordingSelector(clock)
    kernel = module.IOKernel(clock, selector)
    selector.kernel = kernel
    return module, kernel, selector


def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    return sock


def run(kernel, selector, call, *, check_timeouts=False):
    """Run the kernel; report an escaping error or a spin (and, for the timeout checks, select(None) at the wrong moment)."""
    def cause(exc):
        if isinstance(exc, Spin):
            return "the kernel polls in a loop: when only sleepers wait, the select timeout is the time until the earliest deadline, not 0"
        if isinstance(exc, KeyError) or "registered" in str(exc):
            return "a socket was registered twice: read and write waits on one socket share one registration (use modify), and a socket is unregistered when nobody waits on it"
        return None

    run_kernel(kernel, call, "run() to return once nothing is ready, asleep or waiting", cause)
    if selector.mistakes and check_timeouts:
        fail(call=call, expected="select(timeout) with timeout 0 while a task is ready, and the time to the next deadline while tasks sleep",
             got=f"{selector.mistakes[0]} (timeouts used: {describe(selector.timeouts)})", cause="select(None) blocks until a socket is ready: only right when nothing else can happen")


@check("wait_traps")
def test_read_wait_parks_until_data_arrives(impl):
    """A reader waits in the selector while the writer runs, and resumes once data is there."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []

    def reader():
        log.append("reader waits")
        yield from module.read_wait(a)
        log.append(("reader got", a.recv(10)))

    def writer():
        for step in range(2):
            log.append(("writer", step))
            yield
        b.send(b"hi")
        log.append("writer sent")

    kernel.spawn(reader())
    kernel.spawn(writer())
    with a, b:
        run(kernel, selector, "a reader waiting on a socket while a writer yields twice and sends b'hi'")
        want = ["reader waits", ("writer", 0), ("writer", 1), "writer sent", ("reader got", b"hi")]
        if log != want:
            fail(call="a reader waiting on a socketpair while a writer yields twice, then sends", expected=describe(want, 200), got=describe(log, 200),
                 cause="read_wait parks the task in the selector; poll() puts it back on the ready queue when select() reports the socket readable")
        if selector.get_map():
            fail(call="run() after the reader got its data", expected="the selector watches no socket any more", got=f"{len(selector.get_map())} socket(s) still registered",
                 cause="unregister a socket once no task waits on it")


@check("select_timeout")
def test_select_does_not_block_while_tasks_are_ready(impl):
    """While a task is ready, select() is asked with timeout 0; run() ends when nothing waits."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []

    def reader():
        yield from module.read_wait(a)
        log.append(a.recv(10))

    def busy():
        for _ in range(3):
            yield
        b.send(b"done")

    kernel.spawn(reader())
    kernel.spawn(busy())
    with a, b:
        run(kernel, selector, "a reader beside a task that yields three times, then sends", check_timeouts=True)
    if log != [b"done"] or any(t != 0 for t in selector.timeouts[:-1]):
        fail(call="a reader beside a task that yields three times, then sends", expected="select(0) while the busy task is ready; the reader gets b'done'",
             got=f"timeouts {describe(selector.timeouts)}, reader got {describe(log)}", cause="the select timeout is 0 whenever a task is ready")


@check("helpers")
def test_send_and_recv_a_large_payload(impl):
    """send() delivers all of a payload larger than the socket buffer; recv() reads it back."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    payload = bytes(range(256)) * 4096  # 1 MiB, more than a socket buffer holds
    got = bytearray()

    def sender():
        return (yield from module.send(a, payload))

    def receiver():
        while len(got) < len(payload):
            chunk = yield from module.recv(b, 65536)
            if not chunk:
                break
            got.extend(chunk)

    kernel.spawn(sender())
    kernel.spawn(receiver())
    with a, b:
        run(kernel, selector, "send(a, 1 MiB) beside a task recv()-ing it from the other end")
    results, errors = recorded(kernel)
    if bytes(got) != payload or results.get(1) != len(payload):
        fail(call="send(a, 1 MiB of data) with a receiver on the other end", expected=f"all {len(payload)} bytes arrive in order and send returns {len(payload)}",
             got=f"{len(got)} bytes arrived{' (in the wrong order)' if got and bytes(got) != payload[:len(got)] else ''}, send returned {describe(results.get(1, errors.get(1)))}",
             cause="sock.send takes only what fits in the buffer: loop, and when it raises BlockingIOError wait with write_wait before trying again")


def client(module, port, message, replies):
    """A kernel task: connect, send ``message``, read the same number of bytes back, close."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    with sock:
        try:
            sock.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        yield from module.write_wait(sock)
        yield from module.send(sock, message)
        got = b""
        while len(got) < len(message):
            chunk = yield from module.recv(sock, 65536)
            if not chunk:
                break
            got += chunk
        replies.append(got)
    return got


@check("echo_server")
def test_echo_server_serves_clients(impl):
    """echo_server(listener, 3) serves three clients at once over loopback; each gets its bytes back."""
    module, kernel, selector = kernel_of(impl)
    replies = []
    with listener() as sock:
        kernel.spawn(module.echo_server(sock, 3))
        messages = [f"hello from client {n}".encode() for n in range(3)]
        for message in messages:
            kernel.spawn(client(module, sock.getsockname()[1], message, replies))
        run(kernel, selector, "echo_server(listener, 3) with three clients")
    if sorted(replies) != sorted(messages):
        fail(call="echo_server(listener, 3) with three clients each sending one line", expected=describe(messages, 200), got=describe(replies, 200),
             cause="accept each connection, spawn echo_handler(conn) for it, and have the handler send back what it receives until recv() returns b''")


### BEGIN HIDDEN TESTS
@check("wait_traps")
def test_reading_the_same_socket_twice(impl):
    """One task waits on the same socket twice in a row: the registration is dropped and made again."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []

    def reader():
        for _ in range(2):
            yield from module.read_wait(a)
            log.append(a.recv(10))
            a.send(b"ack")

    def writer():
        for message in (b"one", b"two"):
            b.send(message)
            yield from module.read_wait(b)  # the reader has taken the message
            b.recv(10)

    kernel.spawn(reader())
    kernel.spawn(writer())
    with a, b:
        run(kernel, selector, "a task doing read_wait(a) twice while another sends two messages, one at a time")
    if log != [b"one", b"two"] or selector.get_map():
        fail(call="read_wait(a) twice in a row, with data sent before each", expected="b'one' then b'two', and no socket registered at the end",
             got=f"{describe(log)}, {len(selector.get_map())} socket(s) still registered", cause="unregister the socket when its waiter resumes, so the next wait can register it again")


@check("wait_traps")
def test_read_and_write_waits_on_one_socket(impl):
    """One task waits to read a socket while another waits to write to it: both are served."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []

    def reader():
        yield from module.read_wait(a)
        log.append(("read", a.recv(10)))

    def writer():
        yield from module.write_wait(a)
        a.send(b"ping")
        log.append("wrote")
        yield from module.read_wait(b)
        b.send(b"pong")

    kernel.spawn(reader())
    kernel.spawn(writer())
    with a, b:
        run(kernel, selector, "task 1 waits to read socket a while task 2 waits to write to it")
    if log != ["wrote", ("read", b"pong")]:
        fail(call="read_wait(a) in task 1 while task 2 does write_wait(a)", expected="task 2 writes first, then task 1 reads b'pong'", got=describe(log),
             cause="a selector takes each socket once: when a second kind of wait arrives, modify the registration to EVENT_READ | EVENT_WRITE")


@check("wait_traps")
def test_full_writer_waits_while_reader_is_served(impl):
    """A writer whose buffer is full stays parked when the same socket becomes readable; it resumes once there is room."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []
    while True:
        try:
            a.send(b"x" * 65536)
        except BlockingIOError:
            break

    def writer():
        yield from module.write_wait(a)
        log.append("writer resumed")

    def reader():
        yield from module.read_wait(a)
        log.append(("reader", a.recv(5)))

    def peer():
        b.send(b"hello")
        yield from module.join(2)  # the reader has its data
        log.append("draining")
        while True:
            try:
                b.recv(1 << 20)
            except BlockingIOError:
                break

    kernel.spawn(writer())
    kernel.spawn(reader())
    kernel.spawn(peer())
    with a, b:
        run(kernel, selector, "a writer on a full socket and a reader of the same socket")
    if log != [("reader", b"hello"), "draining", "writer resumed"]:
        fail(call="task 1 waits to write to a (buffer full), task 2 waits to read a; data arrives, later the peer drains",
             expected="the reader resumes; the writer only after the drain", got=describe(log),
             cause="resume a writer only when select() reports EVENT_WRITE for its socket (events & EVENT_WRITE), a reader only for EVENT_READ")


@check("wait_traps")
def test_second_reader_gets_an_error(impl):
    """A second task waiting to read the same socket gets RuntimeError; the first still gets the data."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []

    def reader(name):
        try:
            yield from module.read_wait(a)
        except RuntimeError:
            log.append((name, "RuntimeError"))
            return
        log.append((name, a.recv(10)))

    def writer():
        yield
        yield
        b.send(b"x")

    for name in ("first", "second"):
        kernel.spawn(reader(name))
    kernel.spawn(writer())
    with a, b:
        run(kernel, selector, "two tasks both doing read_wait on the same socket")
    if sorted(log, key=str) != [("first", b"x"), ("second", "RuntimeError")]:
        fail(call="two tasks both doing read_wait(a)", expected="the second gets RuntimeError, the first reads b'x'", got=describe(log),
             cause="only one task may wait to read a socket: throw RuntimeError into the second (the kernel keeps running)")


@check("wait_traps")
def test_write_wait_on_an_empty_buffer_resumes_at_once(impl):
    """write_wait on a socket with room resumes on the next poll, with None."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []

    def writer():
        log.append((yield from module.write_wait(a)))
        a.send(b"x")

    kernel.spawn(writer())
    with a, b:
        run(kernel, selector, "write_wait on a fresh socketpair")
        data = b.recv(10)
    if log != [None] or data != b"x" or len(selector.timeouts) > 3:
        fail(call="write_wait(a) on a fresh socketpair", expected="the task resumes with None after one poll and sends b'x'",
             got=f"resumed with {describe(log)}, peer read {describe(data)}, {len(selector.timeouts)} select calls", cause="register for EVENT_WRITE and resume the task (send None) when select() reports it")


@check("select_timeout")
def test_timeout_is_the_next_deadline(impl):
    """With a sleeper and a waiter only, select() waits exactly until the sleeper's deadline."""
    clock = FakeClock()
    module, kernel, selector = kernel_of(impl, clock)
    a, b = pair()
    log = []

    def reader():
        yield from module.read_wait(a)
        log.append((a.recv(10), clock.now))

    def napper():
        yield from module.sleep(2.5)
        b.send(b"late")
        log.append(("sent", clock.now))

    kernel.spawn(reader())
    kernel.spawn(napper())
    with a, b:
        run(kernel, selector, "a reader beside a task that sleeps 2.5 s, then sends", check_timeouts=True)
    waits = [t for t in selector.timeouts if t]
    if log != [("sent", 2.5), (b"late", 2.5)] or [round(t, 6) for t in waits] != [2.5]:
        fail(call="a reader beside a task sleeping 2.5 s on a fake clock, then sending", expected="one select(2.5), then the sleeper sends and the reader reads at time 2.5",
             got=f"select timeouts {describe(selector.timeouts)}, log {describe(log)}",
             cause="when no task is ready, the select timeout is the time until the earliest deadline: never None (the sleeper would be late) and never a loop of 0s")


@check("select_timeout")
def test_blocks_only_when_nothing_else_can_happen(impl):
    """With only an I/O waiter left, select() is asked with no time limit (None)."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    got = []
    b.send(b"ready")

    def reader():
        yield from module.read_wait(a)
        got.append(a.recv(10))

    kernel.spawn(reader())
    with a, b:
        run(kernel, selector, "a lone reader", check_timeouts=True)
    if got != [b"ready"] or None not in selector.timeouts or any(t not in (0, None) for t in selector.timeouts):
        fail(call="a lone task doing read_wait(a)", expected="select(None) once the reader is the only task left (no ready task, no sleeper)",
             got=f"select timeouts {describe(selector.timeouts)}", cause="with nothing ready and nothing asleep, block in select() until a socket is ready: timeout None")


@check("select_timeout")
def test_io_is_polled_while_tasks_are_busy(impl):
    """A waiter whose socket is ready resumes within a round or two, even while another task keeps yielding."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []
    b.send(b"now")

    def reader():
        yield from module.read_wait(a)
        log.append("reader")

    def busy():
        for step in range(50):
            log.append(step)
            yield

    kernel.spawn(reader())
    kernel.spawn(busy())
    with a, b:
        run(kernel, selector, "a reader whose data is there beside a task yielding 50 times", check_timeouts=True)
    where = log.index("reader") if "reader" in log else None
    if where is None or where > 3:
        fail(call="read_wait(a) with data already there, beside a task yielding 50 times", expected="the reader resumes after at most a couple of the busy task's steps",
             got=f"it resumed after {where if where is not None else 'none of'} them", cause="poll for I/O (with timeout 0) between rounds of ready tasks, not only when nothing is ready")


@check("select_timeout")
def test_due_sleepers_cost_no_time(impl):
    """sleep(0) beside a waiting reader: the select timeout for a sleeper already due is 0, not more."""
    clock = FakeClock()
    module, kernel, selector = kernel_of(impl, clock)
    a, b = pair()
    log = []

    def reader():
        yield from module.read_wait(a)
        log.append(("read", a.recv(10), clock.now))

    def polite():
        for _ in range(3):
            yield from module.sleep(0)
        b.send(b"hi")
        log.append(("sent", clock.now))

    kernel.spawn(reader())
    kernel.spawn(polite())
    with a, b:
        run(kernel, selector, "a reader beside a task doing sleep(0) three times, then sending", check_timeouts=True)
    if log != [("sent", 0), ("read", b"hi", 0)]:
        fail(call="a reader beside a task doing sleep(0) three times, then sending (fake clock)", expected="everything happens at time 0",
             got=f"{describe(log)}, select timeouts {describe(selector.timeouts)}", cause="a deadline already past means a timeout of 0: max(0, deadline - now)")


@check("select_timeout")
def test_sleepers_alone_still_use_the_clock(impl):
    """With no socket to watch, the kernel sleeps the clock as in chapter 6 and run() ends at the last deadline."""
    clock = FakeClock()
    module, kernel, selector = kernel_of(impl, clock)
    log = []

    def napper(seconds):
        yield from module.sleep(seconds)
        log.append(clock.now)

    kernel.spawn(napper(1))
    kernel.spawn(napper(3))
    run(kernel, selector, "two sleepers and no sockets", check_timeouts=True)
    if [round(t, 6) for t in log] != [1, 3] or round(clock.now, 6) != 3:
        fail(call="IOKernel with tasks sleeping 1 and 3 s and no sockets", expected="they wake at 1 and 3 and run() returns at time 3",
             got=f"woke at {describe(log)}, time {clock.now:g}, select timeouts {describe(selector.timeouts)}",
             cause="with no socket registered, poll() sleeps the clock for the timeout (a selector with nothing to watch is not a clock)")


@check("helpers")
def test_recv_at_end_of_stream_and_send_result(impl):
    """recv() returns b'' once the peer closes; send() returns the number of bytes and accepts a bytearray."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    got = []

    def talker():
        return (yield from module.send(a, bytearray(b"abc")))

    def listener_task():
        while True:
            chunk = yield from module.recv(b, 2)
            got.append(chunk)
            if not chunk:
                return

    def closer():
        yield from module.join(1)
        a.close()

    kernel.spawn(talker())
    kernel.spawn(listener_task())
    kernel.spawn(closer())
    with b:
        run(kernel, selector, "send(a, bytearray(b'abc')), then close a, while recv(b, 2) loops")
    a.close()
    results, _ = recorded(kernel)
    if b"".join(got) != b"abc" or got[-1:] != [b""] or results.get(1) != 3:
        fail(call="send(a, bytearray(b'abc')); close(a); recv(b, 2) until b''", expected="b'abc' in pieces, then b'', and send returns 3",
             got=f"chunks {describe(got)}, send returned {describe(results.get(1))}", cause="recv waits for readability, then returns sock.recv(size) as it is (b'' means the peer closed)")


@check("helpers")
def test_accept_gives_a_non_blocking_connection(impl):
    """accept() waits for a connection and returns it non-blocking, with the peer's address."""
    module, kernel, selector = kernel_of(impl)
    got = []
    with listener() as sock:
        def server():
            conn, address = yield from module.accept(sock)
            got.append((conn.getblocking(), address[0]))
            conn.close()

        def connector():
            peer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            peer.setblocking(False)
            for _ in range(3):
                yield
            try:
                peer.connect(sock.getsockname())
            except BlockingIOError:
                pass
            yield from module.write_wait(peer)
            peer.close()

        kernel.spawn(server())
        kernel.spawn(connector())
        run(kernel, selector, "accept(listener) while another task connects")
    if got != [(False, "127.0.0.1")]:
        fail(call="conn, address = yield from accept(listener)", expected="a non-blocking connection from 127.0.0.1", got=describe(got),
             cause="wait with read_wait(listener), call listener.accept(), then conn.setblocking(False): a blocking socket would stop the whole kernel")


@check("echo_server")
def test_echo_server_with_large_interleaved_clients(impl, rng):
    """Several clients send a few kilobytes each at the same time; every one gets exactly its bytes back."""
    module, kernel, selector = kernel_of(impl)
    replies = []
    count = rng.randint(4, 6)
    messages = [bytes([65 + n]) * rng.randint(1_000, 8_000) for n in range(count)]
    with listener() as sock:
        server = kernel.spawn(module.echo_server(sock, count))
        for message in messages:
            kernel.spawn(client(module, sock.getsockname()[1], message, replies))
        run(kernel, selector, f"echo_server(listener, {count}) with {count} clients sending 1-8 kB each")
    results, errors = recorded(kernel)
    if sorted(replies) != sorted(messages) or errors:
        fail(call=f"echo_server(listener, {count}) with clients sending 1-8 kB each", expected="every client gets its own bytes back, no task fails",
             got=f"{sum(a == b for a, b in zip(sorted(replies), sorted(messages)))} of {count} echoed right; errors {describe(errors)}",
             cause="each connection needs its own handler task; the handler must send back everything it receives (send() loops) until recv() returns b''")
    if server not in results:
        fail(call=f"echo_server(listener, {count})", expected="the server task returns after accepting its clients", got=describe(errors.get(server, "it did not finish")),
             cause="accept exactly `clients` connections, spawn a handler for each, then return")


@check("echo_server")
def test_echo_handler_closes_when_the_peer_does(impl):
    """When a client shuts down its side, the handler closes the connection: the client reads b''."""
    module, kernel, selector = kernel_of(impl)
    got = []
    with listener() as sock:
        def polite_client():
            peer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            peer.setblocking(False)
            with peer:
                try:
                    peer.connect(sock.getsockname())
                except BlockingIOError:
                    pass
                yield from module.write_wait(peer)
                yield from module.send(peer, b"bye")
                peer.shutdown(socket.SHUT_WR)
                while True:
                    chunk = yield from module.recv(peer, 100)
                    got.append(chunk)
                    if not chunk:
                        break

        kernel.spawn(module.echo_server(sock, 1))
        kernel.spawn(polite_client())
        run(kernel, selector, "a client that sends b'bye' and shuts down its writing side")
    if b"".join(got) != b"bye" or got[-1:] != [b""]:
        fail(call="send b'bye', shutdown(SHUT_WR), then recv until b''", expected="b'bye' echoed, then b'' (the handler closed the connection)", got=describe(got),
             cause="when recv() returns b'' the peer is done: leave the loop and close the connection")
### END HIDDEN TESTS
