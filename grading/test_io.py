"""Tests for chapter 7, io: read and write waits over a selector, helpers, an echo server.

Each test observes (``test_*``: runs an IOKernel over socketpairs and
127.0.0.1 listeners, returns plain data: what the tasks logged, the select()
timeouts, what came back) and is judged by its verify half (``verify_*``:
decides from that data alone).
"""

import hashlib
import math
import socket
import time

from coopkit.doubles import FakeClock, RecordingSelector, judge_run, recorded, run_kernel
from coopkit.harness import check, describe, fail, short

RETURNS = "run() to return once nothing is ready, asleep or waiting"
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, more than a socket buffer holds
SHORT = 200  # byte strings up to this long are sent back as they are; longer ones as length and sha256


def kernel_of(impl, clock=None, selector_type=RecordingSelector):
    module = impl.fresh("io")
    for name in ("IOKernel", "read_wait", "write_wait", "recv", "send", "accept", "echo_server"):
        impl.attr("io", name)
    clock = clock or FakeClock()
    selector = selector_type(clock)
    kernel = module.IOKernel(clock, selector)
    selector.kernel = kernel
    return module, kernel, selector


def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def listener(kind=socket.socket):
    sock = kind(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    return sock


# -- plain data: what the observe half sends, and how the verify half reads it back ----------


class Shown:
    """A value the observe half could only describe: it shows (and compares) as that description."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text

    def __eq__(self, other):
        return isinstance(other, Shown) and other.text == self.text

    def __hash__(self):
        return hash(self.text)


def as_data(value, depth=0):
    """A logged value as data: numbers, text and None as they are, bytes as ``{"bytes": latin-1 text}``
    (``{"length", "sha256"}`` when long), tuples and lists as lists, anything else as ``{"repr": ...}``."""
    if value is None or type(value) is bool:
        return value
    if type(value) is str:
        return value if len(value) <= SHORT else {"repr": describe(value)}
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return int(value)
        except Exception:  # noqa: BLE001 - a strange int subclass
            return {"repr": describe(value)}
    if isinstance(value, float):
        try:
            number = float(value)
        except Exception:  # noqa: BLE001
            return {"repr": describe(value)}
        return number if math.isfinite(number) else {"repr": describe(value)}
    if type(value) in (bytes, bytearray):
        return blob(value)
    if type(value) in (list, tuple) and depth < 6:
        return [as_data(item, depth + 1) for item in value]
    return {"repr": describe(value)}


def blob(data):
    """Bytes as data: the bytes themselves (as latin-1 text) when short, else their length and sha256."""
    data = bytes(data)
    if len(data) <= SHORT:
        return {"bytes": data.decode("latin-1")}
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def from_data(value, top=True):
    """``as_data`` read back: bytes again, nested lists as tuples (as the test logged them), reprs as ``Shown``."""
    if isinstance(value, dict):
        if "bytes" in value:
            return str(value["bytes"]).encode("latin-1", "replace")
        if "sha256" in value:
            return Shown(f"<{value.get('length')} bytes>")
        return Shown(str(value.get("repr")))
    if isinstance(value, list):
        items = [from_data(item, False) for item in value]
        return items if top else tuple(items)
    return value


def same_bytes(seen, expected):
    """Whether the data ``seen`` (a ``blob``) is exactly ``expected``."""
    return isinstance(seen, dict) and seen == blob(expected)


def size_of(seen):
    """How many bytes a ``blob`` holds."""
    if isinstance(seen, dict) and "bytes" in seen:
        return len(str(seen["bytes"]))
    return seen.get("length", 0) if isinstance(seen, dict) else 0


def in_order(seen, expected):
    """Whether the bytes of ``seen`` are the start of ``expected``."""
    return same_bytes(seen, expected[: size_of(seen)])


def show_bytes(seen):
    """A ``blob`` as the old messages showed it: the bytes' repr, or their count when long."""
    if isinstance(seen, dict) and "bytes" in seen:
        return describe(from_data(seen))
    return f"{size_of(seen)} bytes"


def outcome(kernel, task_id):
    """How task ``task_id`` ended, as data: ``{"returned": value}``, ``{"raised": repr}``, or None (it did not)."""
    results, errors = recorded(kernel)
    if task_id in results:
        return {"returned": as_data(results[task_id])}
    if task_id in errors:
        return {"raised": describe(errors[task_id])}
    return None


def shown_outcome(seen):
    """An ``outcome`` as the old messages showed it: the value (or the exception) described."""
    if isinstance(seen, dict) and "returned" in seen:
        return describe(from_data(seen["returned"]))
    if isinstance(seen, dict) and "raised" in seen:
        return str(seen["raised"])
    return describe(None)


def returned(seen, value):
    """Whether an ``outcome`` says the task returned ``value``."""
    return isinstance(seen, dict) and "returned" in seen and from_data(seen["returned"]) == value


def registered_count(selector):
    return len(selector.get_map() or {})


# -- observing (runs beside the code under test) --------------------------------


def observe_run(kernel, selector, **seen):
    """Run the kernel: what escaped run() (or None), the select() timeouts and misuses, and the logs in ``seen``."""
    seen["error"] = run_kernel(kernel)
    seen["mistakes"] = [str(mistake) for mistake in selector.mistakes[:5]]
    seen["timeouts"] = [as_data(timeout) for timeout in selector.timeouts]
    return seen


# -- judging (runs in the grader, on the data alone) ------------------------------


def kernel_cause(error):
    """Why run() raised, from what escaped it: a spin, or a socket registered twice."""
    if error.get("type") == "Spin":
        return "the kernel polls in a loop: when only sleepers wait, the select timeout is the time until the earliest deadline, not 0"
    if error.get("type") == "KeyError" or "registered" in str(error.get("text", "")):
        return "a socket was registered twice: read and write waits on one socket share one registration (use modify), and a socket is unregistered when nobody waits on it"
    return None


def judge_ran(seen, call, *, check_timeouts=False):
    """Fail when run() raised (or, for the timeout checks, used select(None) at the wrong moment)."""
    judge_run(seen["error"], call, RETURNS, kernel_cause)
    if seen["mistakes"] and check_timeouts:
        fail(call=call, expected="select(timeout) with timeout 0 while a task is ready, and the time to the next deadline while tasks sleep",
             got=f"{seen['mistakes'][0]} (timeouts used: {describe(timeouts_of(seen))})", cause="select(None) blocks until a socket is ready: only right when nothing else can happen")


def timeouts_of(seen):
    return from_data(seen["timeouts"])


def rounded(value):
    return round(value, 6) if type(value) in (int, float) else value


def log_of(seen, key="log"):
    return from_data(seen[key])


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
        seen = observe_run(kernel, selector)
        seen["registered"] = registered_count(selector)
    seen["log"] = as_data(log)
    return seen


def verify_read_wait_parks_until_data_arrives(seen):
    judge_ran(seen, "a reader waiting on a socket while a writer yields twice and sends b'hi'")
    log = log_of(seen)
    want = ["reader waits", ("writer", 0), ("writer", 1), "writer sent", ("reader got", b"hi")]
    if log != want:
        fail(call="a reader waiting on a socketpair while a writer yields twice, then sends", expected=describe(want, 200), got=describe(log, 200),
             cause="read_wait parks the task in the selector; poll() puts it back on the ready queue when select() reports the socket readable")
    if seen["registered"]:
        fail(call="run() after the reader got its data", expected="the selector watches no socket any more", got=f"{seen['registered']} socket(s) still registered",
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
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_select_does_not_block_while_tasks_are_ready(seen):
    judge_ran(seen, "a reader beside a task that yields three times, then sends", check_timeouts=True)
    log, timeouts = log_of(seen), timeouts_of(seen)
    if log != [b"done"] or any(t != 0 for t in timeouts[:-1]):
        fail(call="a reader beside a task that yields three times, then sends", expected="select(0) while the busy task is ready; the reader gets b'done'",
             got=f"timeouts {describe(timeouts)}, reader got {describe(log)}", cause="the select timeout is 0 whenever a task is ready")


@check("helpers")
def test_send_and_recv_a_large_payload(impl):
    """send() delivers all of a payload larger than the socket buffer; recv() reads it back."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    got = bytearray()

    def sender():
        return (yield from module.send(a, PAYLOAD))

    def receiver():
        while len(got) < len(PAYLOAD):
            chunk = yield from module.recv(b, 65536)
            if not chunk:
                break
            got.extend(chunk)

    sender_id = kernel.spawn(sender())
    kernel.spawn(receiver())
    with a, b:
        seen = observe_run(kernel, selector)
    seen["got"] = blob(got)
    seen["send"] = outcome(kernel, sender_id)
    return seen


def verify_send_and_recv_a_large_payload(seen):
    judge_ran(seen, "send(a, 1 MiB) beside a task recv()-ing it from the other end")
    got = seen["got"]
    if not same_bytes(got, PAYLOAD) or not returned(seen["send"], len(PAYLOAD)):
        wrong_order = size_of(got) and not in_order(got, PAYLOAD)
        fail(call="send(a, 1 MiB of data) with a receiver on the other end", expected=f"all {len(PAYLOAD)} bytes arrive in order and send returns {len(PAYLOAD)}",
             got=f"{size_of(got)} bytes arrived{' (in the wrong order)' if wrong_order else ''}, send returned {shown_outcome(seen['send'])}",
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


SERVES_MESSAGES = [f"hello from client {n}".encode() for n in range(3)]


@check("echo_server")
def test_echo_server_serves_clients(impl):
    """echo_server(listener, 3) serves three clients at once over loopback; each gets its bytes back."""
    module, kernel, selector = kernel_of(impl)
    replies = []
    with listener() as sock:
        kernel.spawn(module.echo_server(sock, 3))
        for message in SERVES_MESSAGES:
            kernel.spawn(client(module, sock.getsockname()[1], message, replies))
        seen = observe_run(kernel, selector)
    seen["replies"] = as_data(replies)
    return seen


def verify_echo_server_serves_clients(seen):
    judge_ran(seen, "echo_server(listener, 3) with three clients")
    replies = log_of(seen, "replies")
    if sorted(replies, key=repr) != sorted(SERVES_MESSAGES, key=repr):
        fail(call="echo_server(listener, 3) with three clients each sending one line", expected=describe(SERVES_MESSAGES, 200), got=describe(replies, 200),
             cause="accept each connection, spawn echo_handler(conn) for it, and have the handler send back what it receives until recv() returns b''")


### BEGIN HIDDEN TESTS
GIVE_UP_AFTER = 0.75  # real seconds the clients of the new echo tests wait before they give up
PAUSE = 10  # bare yields between two pieces of a message: the handler has long read the first
WINDOW = 32 * 1024  # how far the large-message client sends ahead of its echo
LARGE = 256 * 1024  # more than one recv(65536) can return


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
        seen = observe_run(kernel, selector)
        seen["registered"] = registered_count(selector)
    seen["log"] = as_data(log)
    return seen


def verify_reading_the_same_socket_twice(seen):
    judge_ran(seen, "a task doing read_wait(a) twice while another sends two messages, one at a time")
    log = log_of(seen)
    if log != [b"one", b"two"] or seen["registered"]:
        fail(call="read_wait(a) twice in a row, with data sent before each", expected="b'one' then b'two', and no socket registered at the end",
             got=f"{describe(log)}, {seen['registered']} socket(s) still registered", cause="unregister the socket when its waiter resumes, so the next wait can register it again")


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
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_read_and_write_waits_on_one_socket(seen):
    judge_ran(seen, "task 1 waits to read socket a while task 2 waits to write to it")
    log = log_of(seen)
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
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_full_writer_waits_while_reader_is_served(seen):
    judge_ran(seen, "a writer on a full socket and a reader of the same socket")
    log = log_of(seen)
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
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_second_reader_gets_an_error(seen):
    judge_ran(seen, "two tasks both doing read_wait on the same socket")
    log = log_of(seen)
    if sorted(log, key=str) != [("first", b"x"), ("second", "RuntimeError")]:
        fail(call="two tasks both doing read_wait(a)", expected="the second gets RuntimeError, the first reads b'x'", got=describe(log),
             cause="only one task may wait to read a socket: throw RuntimeError into the second (the kernel keeps running)")


@check("wait_traps")
def test_second_writer_gets_an_error(impl):
    """A second task waiting to write to the same socket gets RuntimeError too; the first still resumes."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    log = []

    def writer(name):
        try:
            yield from module.write_wait(a)
        except RuntimeError:
            log.append((name, "RuntimeError"))
            return
        log.append((name, "resumed"))

    for name in ("first", "second"):
        kernel.spawn(writer(name))
    with a, b:
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_second_writer_gets_an_error(seen):
    judge_ran(seen, "two tasks both doing write_wait on the same socket")
    log = log_of(seen)
    if sorted(log, key=str) != [("first", "resumed"), ("second", "RuntimeError")]:
        fail(call="two tasks both doing write_wait(a)", expected="the second gets RuntimeError, the first resumes", got=describe(log),
             cause="one writer per socket, as for readers: throw RuntimeError into the second instead of replacing the first (whose task would be lost)")


def snapshot(kernel, selector, names, gens):
    """What the kernel and the selector hold at this moment, as data (sockets and generators by name)."""

    def label(thing, known):
        for name, value in known:
            if thing is value:
                return name
        return describe(thing)

    def waiters(attribute):
        table = getattr(kernel, attribute, None)
        if not isinstance(table, dict):
            return {"repr": describe(table)}
        rows = []
        for sock, entry in table.items():
            if type(entry) is tuple and len(entry) == 2:
                rows.append([label(sock, names), as_data(entry[0]), label(entry[1], gens)])
            else:
                rows.append([label(sock, names), {"repr": describe(entry)}])
        return sorted(rows, key=str)

    registered = getattr(kernel, "registered", None)
    if isinstance(registered, dict):
        registered = sorted(([label(sock, names), as_data(events)] for sock, events in registered.items()), key=str)
    else:
        registered = {"repr": describe(registered)}
    watched = sorted(([label(key.fileobj, names), as_data(key.events)] for key in (selector.get_map() or {}).values()), key=str)
    return {"readers": waiters("readers"), "writers": waiters("writers"), "registered": registered, "selector": watched}


STATE_MOMENTS = [
    ("while task 1 waits to read a and task 2 to write to it",
     {"readers": [["a", 1, "task 1"]], "writers": [["a", 2, "task 2"]], "registered": [["a", 3]], "selector": [["a", 3]]}),
    ("once task 2 has resumed (task 1 still waits to read a)",
     {"readers": [["a", 1, "task 1"]], "writers": [], "registered": [["a", 1]], "selector": [["a", 1]]}),
    ("once task 1 has read its data", {"readers": [], "writers": [], "registered": [], "selector": []}),
]
STATE_CAUSES = {
    "selector": "one registration per socket: EVENT_READ | EVENT_WRITE (3) while both wait, modify down to EVENT_READ (1) when the writer leaves, unregister when nobody waits",
    "readers": "readers maps each socket to (task id, generator) of the task waiting to read it; the entry goes when that task resumes",
    "writers": "writers maps each socket to (task id, generator) of the task waiting to write to it; the entry goes when that task resumes",
    "registered": "keep self.registered in step with the selector: {socket: events} for every socket it watches, the entry deleted when you unregister",
}


@check("wait_traps")
def test_kernel_state_follows_the_waiters(impl):
    """readers, writers, registered and the selector say who waits on what, at every moment."""
    module, kernel, selector = kernel_of(impl)
    a, b = pair()
    snapshots = []

    def reader():
        yield from module.read_wait(a)
        a.recv(10)

    def writer():
        yield from module.write_wait(a)

    reader_gen, writer_gen = reader(), writer()
    gens = [("task 1", reader_gen), ("task 2", writer_gen)]

    def spy():
        snapshots.append(snapshot(kernel, selector, [("a", a), ("b", b)], gens))
        yield from module.join(2)
        snapshots.append(snapshot(kernel, selector, [("a", a), ("b", b)], gens))
        b.send(b"x")
        yield from module.join(1)
        snapshots.append(snapshot(kernel, selector, [("a", a), ("b", b)], gens))

    kernel.spawn(reader_gen)
    kernel.spawn(writer_gen)
    kernel.spawn(spy())
    with a, b:
        seen = observe_run(kernel, selector)
    seen["snapshots"] = snapshots
    return seen


def verify_kernel_state_follows_the_waiters(seen):
    call = "task 1 waits to read a, task 2 to write to it, task 3 looks at the kernel's readers, writers, registered and selector"
    judge_ran(seen, call)
    snapshots = seen["snapshots"]
    for index, (moment, want) in enumerate(STATE_MOMENTS):
        if index >= len(snapshots):
            fail(call=call, expected=f"task 3 gets to look {moment}", got="it never did (a task was not resumed)",
                 cause="a waiter resumes once select() reports its socket ready; a task joining a finished one resumes")
        got = snapshots[index]
        for part in ("selector", "readers", "writers", "registered"):
            if got.get(part) != want[part]:
                fail(call=call, expected=f"{part} {moment}: {describe(want[part], 200)}", got=describe(got.get(part), 200), cause=STATE_CAUSES[part])


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
        seen = observe_run(kernel, selector)
        try:
            data = b.recv(10)
        except BlockingIOError:
            data = None
    seen["log"] = as_data(log)
    seen["data"] = as_data(data)
    seen["selects"] = len(selector.timeouts)
    return seen


def verify_write_wait_on_an_empty_buffer_resumes_at_once(seen):
    judge_ran(seen, "write_wait on a fresh socketpair")
    log, data = log_of(seen), from_data(seen["data"])
    if log != [None] or data != b"x" or seen["selects"] > 3:
        fail(call="write_wait(a) on a fresh socketpair", expected="the task resumes with None after one poll and sends b'x'",
             got=f"resumed with {describe(log)}, peer read {describe(data)}, {seen['selects']} select calls", cause="register for EVENT_WRITE and resume the task (send None) when select() reports it")


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
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_timeout_is_the_next_deadline(seen):
    judge_ran(seen, "a reader beside a task that sleeps 2.5 s, then sends", check_timeouts=True)
    log, timeouts = log_of(seen), timeouts_of(seen)
    waits = [t for t in timeouts if t]
    if log != [("sent", 2.5), (b"late", 2.5)] or [rounded(t) for t in waits] != [2.5]:
        fail(call="a reader beside a task sleeping 2.5 s on a fake clock, then sending", expected="one select(2.5), then the sleeper sends and the reader reads at time 2.5",
             got=f"select timeouts {describe(timeouts)}, log {describe(log)}",
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
        seen = observe_run(kernel, selector)
    seen["got"] = as_data(got)
    return seen


def verify_blocks_only_when_nothing_else_can_happen(seen):
    judge_ran(seen, "a lone reader", check_timeouts=True)
    got, timeouts = log_of(seen, "got"), timeouts_of(seen)
    if got != [b"ready"] or None not in timeouts or any(t not in (0, None) for t in timeouts):
        fail(call="a lone task doing read_wait(a)", expected="select(None) once the reader is the only task left (no ready task, no sleeper)",
             got=f"select timeouts {describe(timeouts)}", cause="with nothing ready and nothing asleep, block in select() until a socket is ready: timeout None")


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
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_io_is_polled_while_tasks_are_busy(seen):
    judge_ran(seen, "a reader whose data is there beside a task yielding 50 times", check_timeouts=True)
    log = log_of(seen)
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
        seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    return seen


def verify_due_sleepers_cost_no_time(seen):
    judge_ran(seen, "a reader beside a task doing sleep(0) three times, then sending", check_timeouts=True)
    log = log_of(seen)
    if log != [("sent", 0), ("read", b"hi", 0)]:
        fail(call="a reader beside a task doing sleep(0) three times, then sending (fake clock)", expected="everything happens at time 0",
             got=f"{describe(log)}, select timeouts {describe(timeouts_of(seen))}", cause="a deadline already past means a timeout of 0: max(0, deadline - now)")


SLEEPS_KEPT = 100  # clock.sleep calls sent back (a polling kernel makes thousands; the count is sent too)


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
    seen = observe_run(kernel, selector)
    seen["log"] = as_data(log)
    seen["now"] = as_data(clock.now)
    seen["sleeps"] = [as_data(seconds) for seconds in clock.sleeps[:SLEEPS_KEPT]]
    seen["sleep_count"] = len(clock.sleeps)
    return seen


def verify_sleepers_alone_still_use_the_clock(seen):
    call = "IOKernel with tasks sleeping 1 and 3 s and no sockets"
    judge_ran(seen, "two sleepers and no sockets", check_timeouts=True)
    log, now, timeouts = log_of(seen), from_data(seen["now"]), timeouts_of(seen)
    now_text = f"{now:g}" if type(now) in (int, float) else describe(now)
    if [rounded(t) for t in log] != [1, 3] or rounded(now) != 3:
        fail(call=call, expected="they wake at 1 and 3 and run() returns at time 3",
             got=f"woke at {describe(log)}, time {now_text}, select timeouts {describe(timeouts)}",
             cause="with no socket registered, poll() sleeps the clock for the timeout (a selector with nothing to watch is not a clock)")
    sleeps = from_data(seen["sleeps"])
    if [rounded(s) for s in sleeps] != [1, 2] or seen["sleep_count"] != 2:
        more = f" (and more: {seen['sleep_count']} in all)" if seen["sleep_count"] > len(sleeps) else ""
        cause = "with no socket registered, poll() sleeps the clock for the timeout (a selector with nothing to watch is not a clock)"
        if any(s == 0 for s in sleeps):
            cause = "poll() sleeps the clock only for a timeout above 0 (`if timeout:`): while tasks are ready there is nothing to wait for"
        fail(call=call, expected="clock.sleep(1) then clock.sleep(2): the waits go through the clock, once per deadline",
             got=f"clock.sleep calls {describe(sleeps)}{more}, select timeouts {describe(timeouts)}", cause=cause)


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

    talker_id = kernel.spawn(talker())
    kernel.spawn(listener_task())
    kernel.spawn(closer())
    with b:
        seen = observe_run(kernel, selector)
    a.close()
    seen["got"] = as_data(got)
    seen["send"] = outcome(kernel, talker_id)
    return seen


def verify_recv_at_end_of_stream_and_send_result(seen):
    judge_ran(seen, "send(a, bytearray(b'abc')), then close a, while recv(b, 2) loops")
    got = log_of(seen, "got")
    call = "send(a, bytearray(b'abc')); close(a); recv(b, 2) until b''"
    if b"".join(c if isinstance(c, bytes) else b"?" for c in got) != b"abc" or got[-1:] != [b""] or not returned(seen["send"], 3):
        fail(call=call, expected="b'abc' in pieces, then b'', and send returns 3",
             got=f"chunks {describe(got)}, send returned {shown_outcome(seen['send'])}", cause="recv waits for readability, then returns sock.recv(size) as it is (b'' means the peer closed)")
    if any(isinstance(chunk, bytes) and len(chunk) > 2 for chunk in got):
        fail(call=call, expected="chunks of at most 2 bytes: recv(b, 2) reads at most 2", got=f"chunks {describe(got)}",
             cause="pass size on: return sock.recv(size), not a fixed buffer size")


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
        seen = observe_run(kernel, selector)
    seen["got"] = as_data(got)
    return seen


def verify_accept_gives_a_non_blocking_connection(seen):
    judge_ran(seen, "accept(listener) while another task connects")
    got = log_of(seen, "got")
    if got != [(False, "127.0.0.1")]:
        fail(call="conn, address = yield from accept(listener)", expected="a non-blocking connection from 127.0.0.1", got=describe(got),
             cause="wait with read_wait(listener), call listener.accept(), then conn.setblocking(False): a blocking socket would stop the whole kernel")


def interleaved_inputs(rng):
    """The number of clients and their messages: both halves draw them the same way."""
    count = rng.randint(4, 6)
    return [bytes([65 + n]) * rng.randint(1_000, 8_000) for n in range(count)]


@check("echo_server")
def test_echo_server_with_large_interleaved_clients(impl, rng):
    """Several clients send a few kilobytes each at the same time; every one gets exactly its bytes back."""
    module, kernel, selector = kernel_of(impl)
    replies = []
    messages = interleaved_inputs(rng)
    with listener() as sock:
        server = kernel.spawn(module.echo_server(sock, len(messages)))
        for message in messages:
            kernel.spawn(client(module, sock.getsockname()[1], message, replies))
        seen = observe_run(kernel, selector)
    _, errors = recorded(kernel)
    seen["replies"] = [blob(reply) for reply in replies]
    seen["errors"] = [[as_data(task_id), describe(error)] for task_id, error in errors.items()]
    seen["server"] = outcome(kernel, server)
    return seen


def verify_echo_server_with_large_interleaved_clients(seen, rng):
    messages = interleaved_inputs(rng)
    count = len(messages)
    judge_ran(seen, f"echo_server(listener, {count}) with {count} clients sending 1-8 kB each")
    replies = list(seen["replies"])
    echoed = 0
    for message in messages:
        if blob(message) in replies:
            replies.remove(blob(message))
            echoed += 1
    errors = {from_data(task_id): Shown(text) for task_id, text in seen["errors"]}
    if echoed != count or len(seen["replies"]) != count or errors:
        fail(call=f"echo_server(listener, {count}) with clients sending 1-8 kB each", expected="every client gets its own bytes back, no task fails",
             got=f"{echoed} of {count} echoed right; errors {describe(errors)}",
             cause="each connection needs its own handler task; the handler must send back everything it receives (send() loops) until recv() returns b''")
    server = seen["server"]
    if not (isinstance(server, dict) and "returned" in server):
        fail(call=f"echo_server(listener, {count})", expected="the server task returns after accepting its clients",
             got=describe(Shown(server["raised"]) if isinstance(server, dict) and "raised" in server else "it did not finish"),
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
        seen = observe_run(kernel, selector)
    seen["got"] = as_data(got)
    return seen


def verify_echo_handler_closes_when_the_peer_does(seen):
    judge_ran(seen, "a client that sends b'bye' and shuts down its writing side")
    got = log_of(seen, "got")
    if b"".join(c if isinstance(c, bytes) else b"?" for c in got) != b"bye" or got[-1:] != [b""]:
        fail(call="send b'bye', shutdown(SHUT_WR), then recv until b''", expected="b'bye' echoed, then b'' (the handler closed the connection)", got=describe(got),
             cause="when recv() returns b'' the peer is done: leave the loop and close the connection")


# -- echo clients that stay connected, and give up when the server hangs -------------------


class PatientSelector(RecordingSelector):
    """A RecordingSelector whose clients have limited patience.

    A server that hangs (it serves one client while another waits, or waits
    for its handlers) would keep run() waiting forever. Past ``GIVE_UP_AFTER``
    real seconds, the next select() shuts down every socket in ``sockets``
    (the clients' ends and the listener) and logs "clients gave up": whoever
    waits on them wakes up (b'' or an error), so run() can end and the test
    sees how far each client got.
    """

    def __init__(self, clock):
        super().__init__(clock)
        self.sockets = []
        self.log = []
        self.deadline = None

    def start(self, sockets, log):
        self.sockets, self.log = sockets, log
        self.deadline = time.monotonic() + GIVE_UP_AFTER

    def select(self, timeout=None):
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.deadline = None
            self.log.append("clients gave up")
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return super().select(timeout)


class TrackingListener(socket.socket):
    """A listener that keeps every connection it hands out, to see afterwards whether it was closed."""

    def accept(self):
        conn, address = super().accept()
        self.accepted.append(conn)
        return conn, address


def tracking_listener():
    sock = listener(TrackingListener)
    sock.accepted = []
    return sock


def client_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


def connect(module, sock, port):
    try:
        sock.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    yield from module.write_wait(sock)


def send_all(module, sock, data):
    """The test's own send loop (so a bug in the helpers costs only the helpers check)."""
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view):]
        except BlockingIOError:
            yield from module.write_wait(sock)


def talk(module, sock, port, pieces, record, log, name, *, hang_up=False):
    """A client task: connect, send the pieces (``PAUSE`` turns apart), read until the whole message is back.

    What came back goes into ``record`` (``reply``, and ``error``: the first
    socket error's type name). The socket stays open unless ``hang_up``.
    """
    message = b"".join(pieces)
    got = b""
    try:
        yield from connect(module, sock, port)
        for index, piece in enumerate(pieces):
            if index:
                for _ in range(PAUSE):
                    yield
            yield from send_all(module, sock, piece)
    except OSError as exc:
        record["error"] = f"sending raised {type(exc).__name__}"
    try:
        while len(got) < len(message):
            yield from module.read_wait(sock)
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                break
            got += chunk
    except OSError as exc:
        record["error"] = record["error"] or f"reading raised {type(exc).__name__}"
    record["reply"] = got
    log.append(f"{name} done")
    if hang_up:
        sock.close()


def talk_large(module, sock, port, payload, record, log):
    """A client task: send ``payload``, never more than ``WINDOW`` bytes ahead of its echo, and read it all back."""
    got = bytearray()
    sent = 0
    try:
        yield from connect(module, sock, port)
    except OSError as exc:
        record["error"] = f"connecting raised {type(exc).__name__}"
        sent = len(payload)
    try:
        while len(got) < len(payload):
            if record["error"] is None and sent < len(payload) and sent - len(got) < WINDOW:
                try:
                    sent += sock.send(payload[sent: len(got) + WINDOW])
                except BlockingIOError:
                    pass
                except OSError as exc:
                    record["error"] = f"sending raised {type(exc).__name__}"
            yield from module.read_wait(sock)
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                break
            got += chunk
    except OSError as exc:
        record["error"] = record["error"] or f"reading raised {type(exc).__name__}"
    record["reply"] = bytes(got)
    log.append("client 0 done")


def hang_up(module, wait_for, sockets, log):
    """A task: join the tasks in ``wait_for`` (logging how the labelled ones ended), then close the clients' sockets."""
    for task_id, label in wait_for:
        try:
            yield from module.join(task_id)
        except Exception as exc:  # noqa: BLE001 - a client or server that failed: noted, we go on
            if label:
                log.append(f"{label} raised {short(type(exc).__name__, 60)}")
            continue
        if label:
            log.append(f"{label} returned")
    for sock in sockets:
        sock.close()
    log.append("clients hung up")


def observe_echo(impl, messages, *, pieces=None, large=None, wait_for_server=False, each_hangs_up=False):
    """Run echo_server(listener, len(messages)) with one client task per message (see ``talk``).

    Unless each client hangs up itself, a last task closes every client's
    socket once all clients (and first the server, with ``wait_for_server``)
    have finished. Returns the run, the log, what each client got back and
    the file number of every connection accepted (-1: closed).
    """
    module, kernel, selector = kernel_of(impl, selector_type=PatientSelector)
    log = []
    records = [{"reply": b"", "error": None} for _ in messages]
    with tracking_listener() as server_sock:
        port = server_sock.getsockname()[1]
        clients = [client_socket() for _ in messages]
        try:
            server = kernel.spawn(module.echo_server(server_sock, len(messages)))
            talkers = []
            for n, message in enumerate(messages):
                if large is not None:
                    task = talk_large(module, clients[n], port, message, records[n], log)
                else:
                    task = talk(module, clients[n], port, pieces or [message], records[n], log, f"client {n}", hang_up=each_hangs_up)
                talkers.append(kernel.spawn(task))
            if not each_hangs_up:
                wait_for = [(server, "server")] if wait_for_server else []
                kernel.spawn(hang_up(module, wait_for + [(task_id, None) for task_id in talkers], clients, log))
            selector.start(clients + [server_sock], log)
            seen = observe_run(kernel, selector)
            seen["accepted"] = [conn.fileno() for conn in server_sock.accepted]
        finally:
            for sock in clients + server_sock.accepted:
                sock.close()
    seen["log"] = log
    seen["replies"] = [blob(record["reply"]) for record in records]
    seen["errors"] = [record["error"] for record in records]
    return seen


def replies_text(seen):
    """What each client got back, for a message."""
    parts = []
    for n, (reply, error) in enumerate(zip(seen["replies"], seen["errors"])):
        parts.append(f"client {n} got {show_bytes(reply)}" + (f", then {error}" if error else ""))
    text = "; ".join(parts)
    if "clients gave up" in seen["log"]:
        text += f" (the clients gave up after waiting {GIVE_UP_AFTER:g} s)"
    return text


INLINE = ("echo_server serves one client at a time: it must not run the handler itself (`yield from echo_handler(conn)`) "
          "but start it as a task of its own (`yield from spawn(echo_handler(conn))`) and go straight back to accept(); "
          "here the first client stays connected, so the next one is never served")
SPAWN_HANDLERS = "accept each connection, spawn echo_handler(conn) for it, and have the handler send back what it receives until recv() returns b''"


def judge_echo(seen, call, messages, expected, stuck_cause=None):
    """Fail unless every client got exactly its message back (``messages``: what each one sent)."""
    judge_ran(seen, call)
    if all(same_bytes(reply, message) for reply, message in zip(seen["replies"], messages)) and len(seen["replies"]) == len(messages):
        return
    served = sum(same_bytes(reply, message) for reply, message in zip(seen["replies"], messages))
    cause = SPAWN_HANDLERS
    if stuck_cause and "clients gave up" in seen["log"] and served:
        cause = stuck_cause
    fail(call=call, expected=expected, got=replies_text(seen), cause=cause)


def concurrent_inputs(rng):
    return [f"message {n}: {rng.randint(1000, 9999)}".encode() for n in range(rng.randint(2, 3))]


@check("echo_server")
def test_echo_server_serves_clients_at_the_same_time(impl, rng):
    """Clients that stay connected until every one has its echo are all served: one handler task each."""
    return observe_echo(impl, concurrent_inputs(rng))


def verify_echo_server_serves_clients_at_the_same_time(seen, rng):
    messages = concurrent_inputs(rng)
    count = len(messages)
    judge_echo(seen, f"echo_server(listener, {count}) with {count} clients that connect at once and stay connected until every one has its echo",
               messages, "each client gets its own bytes back while the others are still connected", INLINE)


@check("echo_server")
def test_echo_server_returns_once_the_last_client_is_accepted(impl):
    """echo_server returns after its last accept while the clients are still connected: the handlers go on alone."""
    return observe_echo(impl, SERVES_MESSAGES[:2], wait_for_server=True)


def verify_echo_server_returns_once_the_last_client_is_accepted(seen):
    call = "echo_server(listener, 2); its two clients stay connected until the server task has returned"
    judge_echo(seen, call, SERVES_MESSAGES[:2], "both clients get their bytes back and the server task returns while they are still connected", INLINE)
    log = seen["log"]
    gave_up = log.index("clients gave up") if "clients gave up" in log else None
    if "server returned" not in log or (gave_up is not None and gave_up < log.index("server returned")):
        ending = [entry for entry in log if entry.startswith("server ")]
        if "server returned" in log:
            got = "it returned only after the clients gave up and closed their sockets"
        else:
            got = f"it {ending[0].removeprefix('server ')}" if ending else "it never returned"
        fail(call=call, expected="the server task returns as soon as it has accepted its 2 clients", got=got,
             cause="echo_server returns after its last accept: spawn each handler and move on, do not join the handlers or wait for the clients to leave (the handlers go on running on their own)")


@check("echo_server")
def test_echo_handler_closes_its_connection(impl):
    """Once its client closes, each handler closes its own connection (not left for the garbage collector)."""
    return observe_echo(impl, SERVES_MESSAGES[:2], each_hangs_up=True)


def verify_echo_handler_closes_its_connection(seen):
    call = "echo_server(listener, 2); each client sends a line, reads the echo and closes its socket"
    judge_echo(seen, call, SERVES_MESSAGES[:2], "both clients get their bytes back")
    still_open = [fileno for fileno in seen["accepted"] if fileno != -1]
    if len(seen["accepted"]) != 2 or still_open:
        fail(call=call, expected="2 connections accepted, each closed by its handler once its client closed",
             got=f"{len(seen['accepted'])} accepted, {len(still_open)} still open after run() returned",
             cause="when recv() returns b'' the handler closes conn (`with conn:` or conn.close()): the docstring says so, and an unclosed socket stays open until the garbage collector finds it")


def pieces_inputs(rng):
    return [f"piece {n} of the message ({rng.randint(100, 999)}) ".encode() for n in range(rng.randint(3, 5))]


ONE_RECV = ("echo_handler stops too early: loop recv() then send back, again and again, until recv() returns b''; "
            "one recv() returns only what has arrived so far (and at most its size)")
EACH_PIECE = "echo_handler sends back each piece as soon as it arrives (recv, send, recv, ...), not once the client is done"


def judge_one_message(seen, call, message):
    judge_ran(seen, call)
    reply = seen["replies"][0]
    if same_bytes(reply, message):
        return
    wrong_order = size_of(reply) and not in_order(reply, message)
    cause = SPAWN_HANDLERS
    if "clients gave up" in seen["log"]:
        cause = EACH_PIECE
    elif size_of(reply) < len(message) and not wrong_order:
        cause = ONE_RECV
    got = f"{show_bytes(reply)}{' (in the wrong order)' if wrong_order else ''}" + (f", then {seen['errors'][0]}" if seen["errors"][0] else "")
    if not seen["errors"][0] and size_of(reply) < len(message) and "clients gave up" not in seen["log"]:
        got += ", then b'' (the connection was closed)"
    if "clients gave up" in seen["log"]:
        got += f" (the client gave up after waiting {GIVE_UP_AFTER:g} s)"
    fail(call=call, expected=f"all {len(message)} bytes back, in order", got=got, cause=cause)


@check("echo_server")
def test_echo_handler_echoes_a_message_sent_in_pieces(impl, rng):
    """A message that arrives in pieces, with pauses between them, comes back whole: the handler loops until b''."""
    pieces = pieces_inputs(rng)
    return observe_echo(impl, [b"".join(pieces)], pieces=pieces)


def verify_echo_handler_echoes_a_message_sent_in_pieces(seen, rng):
    pieces = pieces_inputs(rng)
    judge_one_message(seen, f"echo_server(listener, 1); the client sends {len(pieces)} pieces, {PAUSE} turns apart, then reads until the whole message is back",
                      b"".join(pieces))


@check("echo_server")
def test_echo_handler_echoes_a_large_message(impl, rng):
    """256 KiB, more than one recv() returns, comes back whole and in order."""
    return observe_echo(impl, [rng.randbytes(LARGE)], large=True)


def verify_echo_handler_echoes_a_large_message(seen, rng):
    judge_one_message(seen, f"echo_server(listener, 1); the client sends {LARGE // 1024} KiB (at most {WINDOW // 1024} KiB ahead of its echo) and reads it all back",
                      rng.randbytes(LARGE))
### END HIDDEN TESTS
