"""Tests for chapter 9, awaiting: awaitable traps, async_map, mixed tasks, run().

Each test observes (``test_*``: runs the code, returns plain data) and is
judged by its verify half (``verify_*``: decides from that data alone).
"""

import hashlib
import inspect
import math
import socket
import time

from coopkit.doubles import FakeClock, RecordingSelector, escaped, judge_run, recorded, run_kernel
from coopkit.harness import check, describe, fail

EVERY_TASK_DONE = "run() to return once every task is done"
STRING_LIMIT = 100  # longer strings travel as their (cut) repr


def load(impl):
    module = impl.fresh("awaiting")
    for name in ("AwaitKernel", "switch", "get_id", "spawn", "join", "sleep", "cancel", "read_wait", "write_wait", "recv", "send", "async_map", "run"):
        impl.attr("awaiting", name)
    return module


def kernel_of(impl, clock=None):
    module = load(impl)
    return module, module.AwaitKernel(clock or FakeClock())


# -- plain data (pure: the observe half sends it, the verify half builds what it expects with it) --


def data(value, depth=0):
    """``value`` as plain data that compares as ``==`` did: tuples tagged ``{"tuple": [...]}``, anything else as its repr."""
    kind = type(value)
    if value is None or kind is bool or (kind is str and len(value) <= STRING_LIMIT and value.isprintable()):
        return value
    if kind is int and abs(value) < 10**18:
        return value
    if kind is float and math.isfinite(value):
        return value
    if kind in (list, tuple) and len(value) <= 1000 and depth < 10:
        items = [data(item, depth + 1) for item in value]
        return items if kind is list else {"tuple": items}
    return {"repr": describe(value)}


# -- observing (runs beside the code under test) -----------------------------------


def observe_run(kernel):
    """Run the kernel: what escaped run(), then each task's result and exception, as data and as shown."""
    error = run_kernel(kernel)
    results, errors = recorded(kernel)
    return {
        "run": error,
        "results": {describe(key): data(value) for key, value in results.items()},
        "errors": {describe(key): escaped(exc) for key, exc in errors.items()},
        "shown": {"results": describe(results), "errors": describe(errors)},
    }


# -- judging (runs in the grader, on the data alone) ---------------------------------


def result(seen, task_id):
    """Task ``task_id``'s result as data (None when it has none)."""
    return seen["results"].get(str(task_id))


def shown(seen):
    return f"results {seen['shown']['results']}, exceptions {seen['shown']['errors']}"


def not_awaitable_cause(errors):
    """A likely cause when a task died of 'can't be used in await'."""
    for error in errors.values():
        if error.get("type") == "TypeError" and "await" in error.get("text", ""):
            return f"a task raised {error.get('text')}: decorate each trap with @types.coroutine so `await` accepts it"
    return None


@check("awaitables")
def test_async_def_task_uses_traps(impl):
    """An async def task awaits get_id, spawn, sleep and join, and gets the same answers as a generator task."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)

    async def child(n):
        await module.sleep(n)
        return n * 10

    async def main():
        me = await module.get_id()
        first = await module.spawn(child(2))
        second = await module.spawn(child(1))
        return me, first, second, await module.join(first), await module.join(second), clock.now

    kernel.spawn(main())
    return observe_run(kernel)


def verify_async_def_task_uses_traps(seen):
    judge_run(seen["run"], "an async def main() awaiting get_id, spawn, sleep and join", EVERY_TASK_DONE)
    want = (1, 2, 3, 20, 10, 2.0)
    if result(seen, 1) != data(want):
        fail(call="async def main(): me = await get_id(); spawn two sleeping children; join both", expected=f"main returns {want}", got=shown(seen),
             cause=not_awaitable_cause(seen["errors"]) or "each awaitable trap yields the same request as chapter 5-8's generator trap and returns the kernel's answer")


@check("async_map")
def test_async_map_interleaves(impl):
    """Two async_map coroutines take turns item by item and each returns its list."""
    module, kernel = kernel_of(impl)
    log = []

    def tagged(tag):
        def func(x):
            log.append((tag, x))
            return x * 2
        return func

    kernel.spawn(module.async_map(tagged("A"), [1, 2, 3]))
    kernel.spawn(module.async_map(tagged("B"), [10, 20]))
    return {**observe_run(kernel), "log": data(log), "log_shown": describe(log)}


def verify_async_map_interleaves(seen):
    judge_run(seen["run"], "two async_map tasks in one kernel", EVERY_TASK_DONE)
    want_log = [("A", 1), ("B", 10), ("A", 2), ("B", 20), ("A", 3)]
    if seen["log"] != data(want_log) or result(seen, 1) != [2, 4, 6] or result(seen, 2) != [20, 40]:
        fail(call="spawn(async_map(f, [1, 2, 3])); spawn(async_map(g, [10, 20]))", expected=f"calls in order {want_log}; results [2, 4, 6] and [20, 40]",
             got=f"calls {seen['log_shown']}, {shown(seen)}",
             cause=not_awaitable_cause(seen["errors"]) or "call func(item), then `await switch()`, once per item; return the list at the end")


@check("mixed")
def test_generator_and_coroutine_tasks_side_by_side(impl):
    """A generator task and a coroutine task interleave, and each can join the other."""
    module, kernel = kernel_of(impl)
    log = []

    def gen_task():
        for step in range(2):
            log.append(("gen", step))
            yield
        return (yield from module.join(2))

    async def coro_task():
        for step in range(2):
            log.append(("coro", step))
            await module.switch()
        return "coro done"

    kernel.spawn(gen_task())
    kernel.spawn(coro_task())
    return {**observe_run(kernel), "log": data(log), "log_shown": describe(log)}


def verify_generator_and_coroutine_tasks_side_by_side(seen):
    judge_run(seen["run"], "a generator task beside a coroutine task", EVERY_TASK_DONE)
    if seen["log"] != data([("gen", 0), ("coro", 0), ("gen", 1), ("coro", 1)]) or result(seen, 1) != "coro done":
        fail(call="a generator task (yields, then joins task 2) beside an async def task (awaits switch())",
             expected="they alternate; the generator's join returns 'coro done'", got=f"log {seen['log_shown']}, {shown(seen)}",
             cause=not_awaitable_cause(seen["errors"]) or "coroutines have send() and throw() like generators: the kernel runs both unchanged; the awaitable traps also work with `yield from`")


@check("run")
def test_run_returns_main_result(impl):
    """run(main()) runs the kernel and returns what main returned."""
    module = load(impl)

    async def main():
        child = await module.spawn(module.async_map(str, [1, 2]))
        return await module.join(child)

    try:
        value = module.run(main(), FakeClock())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged later
        return {"raised": escaped(exc)}
    return {"value": data(value), "shown": describe(value)}


def verify_run_returns_main_result(seen):
    if "raised" in seen:
        error = seen["raised"]
        fail(call="run(main(), clock)", expected="['1', '2']", got=f"{error['type']}: {error['text']}", cause="create an AwaitKernel, spawn main, run it, return results[main's id]")
    if seen["value"] != ["1", "2"]:
        fail(call="run(main(), clock) where main joins an async_map child", expected="['1', '2']", got=seen["shown"], cause="return kernel.results for main's id")


### BEGIN HIDDEN TESTS
# -- helpers of the hidden tests -------------------------------------------------


def name_of(cls):
    """A class's name, if it is a sensible one."""
    name = getattr(cls, "__name__", None)
    return name if type(name) is str and name.isidentifier() and len(name) <= 60 else "?"


def raised(error, limit=100):
    """An exception as data: type name, text (cut at ``limit``), and the names of its classes (for ``except X`` checks)."""
    return {"type": name_of(type(error)), "text": describe(str(error), limit), "lineage": [name_of(cls) for cls in type(error).__mro__[:20]]}


def cut(text, limit=100):
    """Shorten a ``describe``d text further, the way ``describe`` cuts."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown_number(value):
    """A number from ``data`` as the old messages printed it (``:g``)."""
    if type(value) in (int, float):
        return f"{value:g}"
    return value.get("repr", "?") if isinstance(value, dict) else describe(value)


def same(value, expected, label):
    """``{"is": label}`` when ``value`` is that very object, else what it is."""
    return {"is": label} if value is expected else {"type": name_of(type(value)), "repr": describe(value)}


class Spinning(Exception):
    """A socket call failed with BlockingIOError over and over, the clock standing still: the task retries in a loop."""


SPIN_LIMIT = 20


class Watched:
    """A socket that logs every ``recv``/``send`` call: the fake time and whether it raised BlockingIOError.

    After SPIN_LIMIT BlockingIOErrors in a row it shuts its sending side (so a
    reader on the other end sees the end of the stream) and raises ``Spinning``.
    """

    def __init__(self, sock, clock):
        self.sock, self.clock = sock, clock
        self.calls = []
        self.in_a_row = 0

    def fileno(self):
        return self.sock.fileno()

    def __getattr__(self, name):
        return getattr(self.sock, name)

    def _call(self, method, argument):
        try:
            value = method(argument)
        except BlockingIOError:
            self.calls.append([data(self.clock.now), "BlockingIOError"])
            self.in_a_row += 1
            if self.in_a_row >= SPIN_LIMIT:
                try:
                    self.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                raise Spinning(f"{SPIN_LIMIT} BlockingIOErrors in a row") from None
            raise
        self.calls.append([data(self.clock.now), "ok"])
        self.in_a_row = 0
        return value

    def recv(self, size):
        return self._call(self.sock.recv, size)

    def send(self, payload):
        return self._call(self.sock.send, payload)


def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def not_yield_fromable_cause(errors):
    """A likely cause when a task died of "cannot 'yield from' a coroutine object"."""
    for error in errors.values():
        if error.get("type") == "TypeError" and "yield from" in error.get("text", ""):
            return (f"a task raised {error.get('text')}: a trap written as `async def` can only be awaited; "
                    "write each trap as a generator function under @types.coroutine so `yield from` still works")
    return None


@check("awaitables")
def test_join_raises_the_childs_error_and_cancel_works(impl):
    """await join() raises the child's exception; await cancel() delivers Cancelled to a coroutine."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    async def broken():
        await module.switch()
        raise ValueError("child broke")

    async def napper():
        try:
            await module.sleep(60)
        finally:
            log.append("napper finally")

    async def main():
        first = await module.spawn(broken())
        try:
            await module.join(first)
        except ValueError as exc:
            log.append(str(exc))
        second = await module.spawn(napper())
        await module.switch()
        log.append(await module.cancel(second))
        try:
            await module.join(second)
        except Exception as exc:  # noqa: BLE001 - the kernel's Cancelled
            log.append(type(exc).__name__)

    kernel.spawn(main())
    return {**observe_run(kernel), "log": data(log), "log_shown": describe(log), "now": data(clock.now)}


def verify_join_raises_the_childs_error_and_cancel_works(seen):
    judge_run(seen["run"], "a coroutine joining a failing child, then cancelling a sleeping one", EVERY_TASK_DONE)
    if seen["log"] != ["child broke", "napper finally", True, "Cancelled"] or seen["now"] != 0:
        fail(call="await join(failing child); await cancel(sleeping child); await join(it)",
             expected="['child broke', 'napper finally', True, 'Cancelled'] at time 0",
             got=f"{seen['log_shown']} at time {shown_number(seen['now'])}; exceptions {seen['shown']['errors']}",
             cause=not_awaitable_cause(seen["errors"]) or "join and cancel awaitables yield the chapter 5 and 8 requests and return the answer")


PAYLOAD = b"0123456789abcdef" * 40_000


@check("awaitables")
def test_awaitable_io_helpers(impl):
    """await send() and await recv() move a large payload over a socketpair."""
    module, kernel = kernel_of(impl)
    a, b = pair()
    got = bytearray()

    async def sender():
        return await module.send(a, PAYLOAD)

    async def receiver():
        while len(got) < len(PAYLOAD):
            chunk = await module.recv(b, 65536)
            if not chunk:
                break
            got.extend(chunk)

    with a, b:
        kernel.spawn(sender())
        kernel.spawn(receiver())
        seen = observe_run(kernel)
    results, _ = recorded(kernel)
    return {**seen, "received": len(got), "digest": hashlib.sha256(got).hexdigest(), "sent_shown": describe(results.get(1))}


def verify_awaitable_io_helpers(seen):
    judge_run(seen["run"], "await send(a, 640 kB) beside await recv(b) in a loop", EVERY_TASK_DONE)
    if seen["digest"] != hashlib.sha256(PAYLOAD).hexdigest() or result(seen, 1) != len(PAYLOAD):
        fail(call="await send(a, 640 kB) with a receiver doing await recv(b, 65536)", expected=f"all {len(PAYLOAD)} bytes arrive; send returns {len(PAYLOAD)}",
             got=f"{seen['received']} bytes, send returned {seen['sent_shown']}, exceptions {seen['shown']['errors']}",
             cause=not_awaitable_cause(seen["errors"]) or "recv: await read_wait then sock.recv; send: loop on sock.send, await write_wait on BlockingIOError")


@check("awaitables")
def test_traps_are_awaitable_and_yield_fromable(impl):
    """Each trap gives an awaitable object, and a plain generator can `yield from` it too."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    got = []

    def gen_task():
        got.append((yield from module.get_id()))
        yield from module.sleep(1)
        got.append(clock.now)
        yield from module.switch()

    kernel.spawn(gen_task())
    return {**observe_run(kernel), "got": data(got), "got_shown": describe(got)}


def verify_traps_are_awaitable_and_yield_fromable(seen):
    judge_run(seen["run"], "a generator task using the awaitable traps with yield from", EVERY_TASK_DONE)
    if seen["got"] != [1, 1.0]:
        fail(call="yield from get_id(); yield from sleep(1) inside a plain generator", expected="[1, 1.0]", got=f"{seen['got_shown']}, exceptions {seen['shown']['errors']}",
             cause="types.coroutine keeps the traps generators, so yield from still works on them")


@check("awaitables")
def test_every_trap_works_with_yield_from(impl):
    """A plain generator task can `yield from` spawn, join, cancel, write_wait and read_wait as well."""
    module, kernel = kernel_of(impl)
    a, b = pair()
    log = []

    def napper():
        yield from module.sleep(60)

    def worker():
        child = yield from module.spawn(napper())
        log.append(("spawned", child))
        yield from module.switch()
        log.append(("cancelled", (yield from module.cancel(child))))
        try:
            yield from module.join(child)
        except Exception as exc:  # noqa: BLE001 - the kernel's Cancelled
            log.append(("joined", type(exc).__name__))
        yield from module.write_wait(a)
        a.send(b"x")
        log.append("writable")
        yield from module.read_wait(b)
        log.append(("readable", b.recv(10)))

    with a, b:
        kernel.spawn(worker())
        seen = observe_run(kernel)
    return {**seen, "log": data(log), "log_shown": describe(log)}


def verify_every_trap_works_with_yield_from(seen):
    judge_run(seen["run"], "a generator task using spawn, cancel, join, write_wait and read_wait with yield from", EVERY_TASK_DONE)
    want = [("spawned", 2), ("cancelled", True), ("joined", "Cancelled"), "writable", ("readable", b"x")]
    if seen["log"] != data(want):
        errors = seen["errors"]
        fail(call="inside a plain generator task: yield from spawn(napper()), cancel(it), join(it), write_wait(a), read_wait(b)",
             expected=f"the steps {want}", got=f"{seen['log_shown']}, exceptions {seen['shown']['errors']}",
             cause=not_yield_fromable_cause(errors) or not_awaitable_cause(errors)
             or "every trap is the chapter 5-8 request yielded under @types.coroutine: it works with `await` and with `yield from`")


BIG = bytes(range(256)) * 4096  # 1 MiB: more than a socket buffer holds
PEER_WAKES = 5  # fake seconds before the other end reads or writes


@check("awaitables")
def test_recv_and_send_wait_in_the_selector(impl):
    """await recv() and await send() wait for the socket in the selector (read_wait / write_wait), never by retrying in a loop."""
    clock = FakeClock()
    module = load(impl)
    selector = RecordingSelector(clock)
    kernel = module.AwaitKernel(clock, selector)
    selector.kernel = kernel
    a, b = pair()
    c, d = pair()
    watched_b, watched_c = Watched(b, clock), Watched(c, clock)
    log = []
    got = bytearray()

    async def reader():
        data_read = await module.recv(watched_b, 100)
        log.append(("recv", data_read))
        log.append(("at time", clock.now))

    async def writer():
        await module.sleep(PEER_WAKES)
        a.send(b"ping")

    async def sender():
        return await module.send(watched_c, BIG)

    async def drain():
        await module.sleep(PEER_WAKES)
        while len(got) < len(BIG):
            await module.read_wait(d)
            chunk = d.recv(65536)
            if not chunk:
                break
            got.extend(chunk)

    with a, b, c, d:
        for make in (reader, writer, sender, drain):
            kernel.spawn(make())
        seen = observe_run(kernel)
    results, _ = recorded(kernel)
    return {**seen, "log": data(log), "log_shown": describe(log), "recv_calls": watched_b.calls[:200], "send_calls": watched_c.calls[:200],
            "received": len(got), "digest": hashlib.sha256(got).hexdigest(), "sent_shown": describe(results.get(3))}


def early(calls):
    """How many of the logged socket calls came before the peer woke up, and how many of those raised BlockingIOError."""
    before = [outcome for at, outcome in calls if type(at) in (int, float) and at < PEER_WAKES]
    return len(before), before.count("BlockingIOError")


def verify_recv_and_send_wait_in_the_selector(seen):
    judge_run(seen["run"], "await recv() and await send() on sockets whose peers wake at time 5", EVERY_TASK_DONE)
    calls, blocked = early(seen["recv_calls"])
    if blocked > 1 or seen["log"][:1] != data([("recv", b"ping")]):
        fail(call=f"await recv(sock, 100) on a socket whose data arrives at time {PEER_WAKES} (fake clock)",
             expected=f"the task waits in the selector; recv returns b'ping' at time {PEER_WAKES}, at most one BlockingIOError before that",
             got=f"{calls} sock.recv call(s) before time {PEER_WAKES}, {blocked} raising BlockingIOError; the task logged {seen['log_shown']}; exceptions {seen['shown']['errors']}",
             cause="await read_wait(sock), then call sock.recv(size) once: retrying sock.recv after `await switch()` keeps the kernel busy instead of waiting in the selector")
    calls, blocked = early(seen["send_calls"])
    if blocked > 1 or seen["digest"] != hashlib.sha256(BIG).hexdigest() or result(seen, 3) != len(BIG):
        fail(call=f"await send(sock, 1 MiB) while the other end reads nothing until time {PEER_WAKES} (fake clock)",
             expected=f"send waits in the selector while the buffer is full (at most one BlockingIOError before time {PEER_WAKES}); all {len(BIG)} bytes arrive; send returns {len(BIG)}",
             got=f"{blocked} BlockingIOError(s) before time {PEER_WAKES}; {seen['received']} bytes arrived; send returned {seen['sent_shown']}; exceptions {seen['shown']['errors']}",
             cause="on BlockingIOError, `await write_wait(sock)` before trying again: retrying after `await switch()` spins instead of waiting for room")


def edge_inputs(rng):
    """The items of test_async_map_edge_cases: both halves draw them the same way."""
    return [rng.randint(-50, 50) for _ in range(rng.randint(5, 9))]


@check("async_map")
def test_async_map_edge_cases(impl, rng):
    """async_map on no items returns [] at once; on many items it switches once per item."""
    module, kernel = kernel_of(impl)
    items = edge_inputs(rng)
    rounds = []

    async def counter():
        for step in range(len(items) + 3):
            rounds.append(step)
            await module.switch()

    kernel.spawn(module.async_map(abs, []))
    kernel.spawn(module.async_map(abs, items))
    kernel.spawn(counter())
    return observe_run(kernel)


def verify_async_map_edge_cases(seen, rng):
    items = edge_inputs(rng)
    judge_run(seen["run"], f"async_map(abs, []) and async_map(abs, {items}) beside a counter", EVERY_TASK_DONE)
    if result(seen, 1) != [] or result(seen, 2) != [abs(x) for x in items]:
        fail(call=f"async_map(abs, []) and async_map(abs, {items})", expected=f"[] and {[abs(x) for x in items]}",
             got=shown(seen), cause=not_awaitable_cause(seen["errors"]) or "collect func(item) for each item and return the list")


@check("async_map")
def test_async_map_is_a_coroutine_switching_per_item(impl):
    """async_map returns a coroutine that suspends exactly once per item (driven by hand)."""
    module = load(impl)
    coro = module.async_map(lambda x: x + 1, [1, 2, 3])
    if not inspect.iscoroutine(coro):
        return {"type": name_of(type(coro)), "shown": describe(coro)}
    suspensions = 0
    try:
        while True:
            request = coro.send(None)
            suspensions += 1
            if request is not None or suspensions > 10:
                break
        value = None
    except StopIteration as stop:
        value = stop.value
    finally:
        coro.close()
    return {"type": "coroutine", "suspensions": suspensions, "value": data(value), "value_shown": describe(value)}


def verify_async_map_is_a_coroutine_switching_per_item(seen):
    if seen["type"] != "coroutine":
        fail(call="async_map(f, [1, 2, 3])", expected="a coroutine object (async def)", got=seen["shown"], cause="define it with `async def` and `await switch()`")
    if seen["suspensions"] != 3 or seen["value"] != [2, 3, 4]:
        fail(call="driving async_map(lambda x: x + 1, [1, 2, 3]) with send(None)", expected="3 suspensions (each a bare switch, None), then StopIteration([2, 3, 4])",
             got=f"{seen['suspensions']} suspension(s), then {seen['value_shown']}", cause="await switch() once after each item, nothing else")


def one_shot_inputs(rng):
    """The items of test_async_map_works_before_each_switch: both halves draw them the same way."""
    return [rng.randint(-99, 99) for _ in range(rng.randint(3, 7))]


def drive(coro, calls, most):
    """Drive a coroutine by hand: after each suspension, how many calls of func had been made and what it yielded."""
    steps = []
    try:
        while len(steps) <= most:
            request = coro.send(None)
            steps.append([len(calls), data(request)])
    except StopIteration as stop:
        return {"steps": steps, "value": data(stop.value), "value_shown": describe(stop.value)}
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged later
        return {"steps": steps, "raised": raised(exc)}
    finally:
        coro.close()
    return {"steps": steps, "value": None, "value_shown": "no return (it kept suspending)"}


@check("async_map")
def test_async_map_works_before_each_switch(impl, rng):
    """async_map calls func on an item before it switches, takes a one-shot iterator, and returns [] for no items without switching."""
    module = load(impl)
    items = one_shot_inputs(rng)
    calls = []

    def func(x):
        calls.append(x)
        return x * 3

    coro = module.async_map(func, (item for item in items))
    before = len(calls)
    many = drive(coro, calls, len(items) + 3)
    empty = drive(module.async_map(func, iter([])), [], 3)
    return {"before": before, "many": many, "empty": empty}


def verify_async_map_works_before_each_switch(seen, rng):
    items = one_shot_inputs(rng)
    want = [x * 3 for x in items]
    call = f"async_map(f, <a generator of {items}>) driven by hand with send(None)"
    many = seen["many"]
    if "raised" in many:
        error = many["raised"]
        fail(call=call, expected=f"{len(items)} switches, then StopIteration({want})", got=f"it raised {error['type']}: {error['text']}",
             cause="items may be a one-shot iterator such as a generator: loop over it once with `for item in items`, no len(), indexing or second pass")
    counts = [step[0] for step in many["steps"]]
    if seen["before"] != 0 or counts != list(range(1, len(items) + 1)) or many["value"] != want:
        cause = "call func(item) and append the result, then `await switch()`: one switch after each item's work"
        if counts and counts[0] == 0:
            cause = "the switch comes before the item's work: call func(item) and append the result first, then `await switch()`"
        elif not counts:
            cause = ("no switch at all: `await switch()` inside the loop, right after each item's work "
                     "(a second loop over items finds a one-shot iterator empty)")
        fail(call=call, expected=f"after the k-th switch f has been called k times (1, 2, ..., {len(items)}), then StopIteration({want})",
             got=f"calls made at each switch: {counts}, then {many['value_shown']}", cause=cause)
    empty = seen["empty"]
    if "raised" in empty or empty["steps"] or empty["value"] != []:
        got = f"it raised {empty['raised']['type']}: {empty['raised']['text']}" if "raised" in empty else f"{len(empty['steps'])} switch(es), then {empty['value_shown']}"
        fail(call="async_map(f, iter([])) driven by hand with send(None)", expected="StopIteration([]) at the first send: no switch for no items", got=got,
             cause="switch only inside the loop, after each item: no items, no switch")


def mixed_inputs(rng):
    """The task kinds of test_many_mixed_tasks_round_robin: both halves draw them the same way."""
    return [rng.choice(["gen", "coro"]) for _ in range(rng.randint(4, 7))]


@check("mixed")
def test_many_mixed_tasks_round_robin(impl, rng):
    """Generator and coroutine tasks in any mix share the kernel round-robin."""
    module, kernel = kernel_of(impl)
    kinds = mixed_inputs(rng)
    log = []

    def gen_task(n):
        for step in range(3):
            log.append((n, step))
            yield

    async def coro_task(n):
        for step in range(3):
            log.append((n, step))
            await module.switch()

    for n, kind in enumerate(kinds):
        kernel.spawn(gen_task(n) if kind == "gen" else coro_task(n))
    return {**observe_run(kernel), "log": data(log), "log_shown": describe(log, 200)}


def verify_many_mixed_tasks_round_robin(seen, rng):
    kinds = mixed_inputs(rng)
    judge_run(seen["run"], f"tasks of kinds {kinds}", EVERY_TASK_DONE)
    want = [(n, step) for step in range(3) for n in range(len(kinds))]
    if seen["log"] != data(want):
        fail(call=f"{len(kinds)} tasks of kinds {kinds}, each doing three steps", expected="round robin: every task's step 0, then every step 1, ...", got=seen["log_shown"],
             cause="the kernel treats both kinds the same: send(), then back of the queue")


@check("mixed")
def test_coroutine_spawns_generator_and_back(impl):
    """A coroutine spawns a generator task, which spawns a coroutine; results flow back through join."""
    module, kernel = kernel_of(impl)

    async def leaf():
        await module.switch()
        return "leaf"

    def middle():
        child = yield from module.spawn(leaf())
        return "middle+" + (yield from module.join(child))

    async def top():
        child = await module.spawn(middle())
        return "top+" + await module.join(child)

    kernel.spawn(top())
    return observe_run(kernel)


def verify_coroutine_spawns_generator_and_back(seen):
    judge_run(seen["run"], "coroutine -> generator -> coroutine, joined back up", EVERY_TASK_DONE)
    if result(seen, 1) != "top+middle+leaf":
        fail(call="async top() spawns generator middle(), which spawns async leaf()", expected="'top+middle+leaf'", got=shown(seen),
             cause=not_awaitable_cause(seen["errors"]) or "spawn and join work the same for both kinds of task")


@check("run")
def test_run_raises_main_error(impl):
    """run(main()) raises main's exception after the other tasks finished."""
    module = load(impl)
    finished = []
    error = LookupError("main failed")

    async def helper():
        await module.switch()
        await module.switch()
        finished.append(True)

    async def main():
        await module.spawn(helper())
        raise error

    try:
        module.run(main(), FakeClock())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged later
        return {"raised": raised(exc), "that": same(exc, error, "main's exception"), "finished": data(finished)}
    return {"returned": "normally", "finished": data(finished)}


def verify_run_raises_main_error(seen):
    if "raised" not in seen:
        fail(call="run(main()) where main raises LookupError", expected="LookupError('main failed')", got="run() returned normally", cause="check kernel.exceptions for main's id and raise it")
    error = seen["raised"]
    if "LookupError" in error["lineage"]:
        if error["text"] != describe("main failed") or seen["finished"] != [True]:
            fail(call="run(main()) where main spawns a helper and raises LookupError", expected="LookupError('main failed') after the helper finished",
                 got=f"LookupError({error['text']}), helper finished: {bool(seen['finished'])}", cause="run the kernel until every task is done, then raise main's recorded exception")
        if seen["that"] != {"is": "main's exception"}:
            fail(call="run(main()) where main raises a LookupError", expected="that very LookupError object raised again",
                 got=f"another {error['type']} with the same text", cause="raise kernel.exceptions[main's id] itself, not a new error")
        return
    fail(call="run(main()) where main raises LookupError", expected="LookupError('main failed')", got=f"{error['type']}: {cut(error['text'])}",
         cause="raise kernel.exceptions[main's id] itself, not a new error")


@check("run")
def test_run_with_the_default_clock_sleeps_for_real(impl):
    """run(main()) without a clock uses real time."""
    module = load(impl)

    async def main():
        await module.sleep(0.03)
        return "awake"

    started = time.monotonic()
    try:
        value = module.run(main())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged later
        return {"raised": escaped(exc)}
    elapsed = time.monotonic() - started
    return {"value": data(value), "shown": describe(value), "elapsed": elapsed}


def verify_run_with_the_default_clock_sleeps_for_real(seen):
    if "raised" in seen:
        error = seen["raised"]
        fail(call="run(main()) where main sleeps 0.03 s", expected="'awake' after about 0.03 s", got=f"{error['type']}: {error['text']}", cause="clock defaults to None: the kernel's real clock")
    elapsed = seen["elapsed"]
    if seen["value"] != "awake" or not 0.025 <= elapsed < 2:
        fail(call="run(main()) where main sleeps 0.03 s", expected="'awake' after about 0.03 s", got=f"{seen['shown']} after {elapsed:.3f} s", cause="pass the clock on to AwaitKernel")


@check("run")
def test_run_uses_the_given_clock(impl):
    """run(main(), clock) sleeps on that clock: an hour of fake sleep takes no real time."""
    module = load(impl)
    clock = FakeClock()

    async def main():
        await module.sleep(3600)
        return clock.now

    try:
        value = module.run(main(), clock)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged later
        return {"raised": escaped(exc)}
    return {"value": data(value), "shown": describe(value), "sleeps": data(clock.sleeps), "sleeps_shown": describe(clock.sleeps)}


def verify_run_uses_the_given_clock(seen):
    if "raised" in seen:
        error = seen["raised"]
        fail(call="run(main(), fake_clock) where main sleeps 3600 s", expected="3600.0", got=f"{error['type']}: {error['text']}", cause="pass the clock on to AwaitKernel(clock)")
    if seen["value"] != 3600.0 or seen["sleeps"] != [3600]:
        fail(call="run(main(), fake_clock) where main sleeps 3600 s", expected="one fake clock.sleep(3600); main returns 3600.0",
             got=f"returned {seen['shown']}, fake sleeps {seen['sleeps_shown']}", cause="pass the clock on to AwaitKernel(clock)")


def spawn_outcome(spawn, task):
    """What ``spawn(task)`` did: None if it returned, else the exception as data (its text long enough to find a type name in)."""
    try:
        spawn(task)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged later
        return raised(exc, 400)
    return None


def judge_type_error(outcome):
    """The old summary of a spawn outcome: 'TypeError' when right, else what went wrong."""
    if outcome is None:
        return "no error"
    if "TypeError" in outcome["lineage"]:
        return "TypeError" if "function" in outcome["text"] else f"TypeError without naming what was passed: {cut(outcome['text'])}"
    return f"{outcome['type']}: {cut(outcome['text'])}"


@check("run")
def test_spawning_a_function_is_a_clear_type_error(impl):
    """spawn(main) without the call raises TypeError at once, from the kernel and inside a task."""
    module, kernel = kernel_of(impl)

    async def main():
        return 1

    outside = spawn_outcome(kernel.spawn, main)
    seen = []

    async def parent():
        try:
            await module.spawn(main)
        except TypeError:
            seen.append("TypeError")

    kernel.spawn(parent())
    return {**observe_run(kernel), "outside": outside, "in_task": data(seen), "in_task_shown": describe(seen)}


def verify_spawning_a_function_is_a_clear_type_error(seen):
    outside = judge_type_error(seen["outside"])
    judge_run(seen["run"], "a task doing await spawn(main) (the function, not a coroutine)", EVERY_TASK_DONE)
    if outside != "TypeError" or seen["in_task"] != ["TypeError"]:
        fail(call="kernel.spawn(main) and, inside a task, await spawn(main) (main not called)",
             expected="TypeError from kernel.spawn, its message naming the type passed (a function); TypeError raised in the task, the kernel keeps running",
             got=f"kernel.spawn: {outside}; in the task: {seen['in_task_shown']}",
             cause="check with inspect.isgenerator / inspect.iscoroutine in spawn; in trap_spawn throw the TypeError into the caller")


NOT_TASKS = [("42", False), ("None", False), ("[1, 2]", False), ("numbers, a generator function (not called)", True)]  # (label, must the message name a function)


@check("run")
def test_only_generators_and_coroutines_can_be_spawned(impl):
    """kernel.spawn of anything but a generator or coroutine object (a number, None, a list, a function) raises TypeError and starts nothing; so does run(main) without the call."""
    module, kernel = kernel_of(impl)
    ran = []

    def numbers():
        yield 1

    async def main():
        ran.append("main")
        return "ran"

    outcomes = [spawn_outcome(kernel.spawn, task) for task in (42, None, [1, 2], numbers)]

    async def fine():
        return "fine"

    first = kernel.spawn(fine())
    seen = {**observe_run(kernel), "outcomes": outcomes, "first": data(first)}
    try:
        value = module.run(main, FakeClock())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged later
        seen["run_main"] = {"raised": raised(exc, 400)}
    else:
        seen["run_main"] = {"returned": describe(value)}
    seen["ran"] = data(ran)
    return seen


def verify_only_generators_and_coroutines_can_be_spawned(seen):
    for (label, named), outcome in zip(NOT_TASKS, seen["outcomes"]):
        if outcome is None or "TypeError" not in outcome["lineage"] or (named and "function" not in outcome["text"]):
            got = "it returned normally" if outcome is None else f"{outcome['type']}: {cut(outcome['text'])}"
            fail(call=f"kernel.spawn({label})", expected="TypeError at once" + (", its message naming the type passed (a function)" if named else ""), got=got,
                 cause="raise TypeError unless is_task(task) (a generator or coroutine object): checking only for functions, or only callable(), lets numbers, None and lists through")
    judge_run(seen["run"], "kernel.spawn(fine()) after the refused spawns, then run()", EVERY_TASK_DONE)
    if seen["first"] != 1 or result(seen, 1) != "fine":
        fail(call="kernel.spawn(fine()) after four refused spawns", expected="id 1, and the task runs: results {1: 'fine'}", got=f"id {seen['first']}, {shown(seen)}",
             cause="check the task before Kernel.spawn takes an id or queues anything")
    run_main = seen["run_main"]
    error = run_main.get("raised")
    if error is None or "TypeError" not in error["lineage"] or "function" not in error["text"] or seen["ran"] != []:
        got = f"it returned {run_main['returned']}" if error is None else f"{error['type']}: {cut(error['text'])}"
        fail(call="run(main, clock) with main an async def function, not called", expected="TypeError naming the function passed, and main never runs", got=got,
             cause="run(main) is the classic mistake the TypeError is there for: let kernel.spawn(main) refuse it, don't call main for the caller")
### END HIDDEN TESTS
