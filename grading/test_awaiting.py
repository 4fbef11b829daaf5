"""Tests for chapter 9, awaiting: awaitable traps, async_map, mixed tasks, run()."""

import socket

from coopkit.doubles import FakeClock, recorded, run_kernel
from coopkit.harness import check, describe, fail


def load(impl):
    module = impl.fresh("awaiting")
    for name in ("AwaitKernel", "switch", "get_id", "spawn", "join", "sleep", "cancel", "read_wait", "write_wait", "recv", "send", "async_map", "run"):
        impl.attr("awaiting", name)
    return module


def kernel_of(impl, clock=None):
    module = load(impl)
    return module, module.AwaitKernel(clock or FakeClock())


def run(kernel, call):
    run_kernel(kernel, call, "run() to return once every task is done")


def not_awaitable_cause(errors):
    """A likely cause when a task died of 'can't be used in await'."""
    for error in errors.values():
        if isinstance(error, TypeError) and "await" in str(error):
            return f"a task raised {describe(str(error))}: decorate each trap with @types.coroutine so `await` accepts it"
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
    run(kernel, "an async def main() awaiting get_id, spawn, sleep and join")
    results, errors = recorded(kernel)
    want = (1, 2, 3, 20, 10, 2.0)
    if results.get(1) != want:
        fail(call="async def main(): me = await get_id(); spawn two sleeping children; join both", expected=f"main returns {want}", got=f"results {describe(results)}, exceptions {describe(errors)}",
             cause=not_awaitable_cause(errors) or "each awaitable trap yields the same request as chapter 5-8's generator trap and returns the kernel's answer")


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
    run(kernel, "two async_map tasks in one kernel")
    results, errors = recorded(kernel)
    want_log = [("A", 1), ("B", 10), ("A", 2), ("B", 20), ("A", 3)]
    if log != want_log or results.get(1) != [2, 4, 6] or results.get(2) != [20, 40]:
        fail(call="spawn(async_map(f, [1, 2, 3])); spawn(async_map(g, [10, 20]))", expected=f"calls in order {want_log}; results [2, 4, 6] and [20, 40]",
             got=f"calls {describe(log)}, results {describe(results)}, exceptions {describe(errors)}",
             cause=not_awaitable_cause(errors) or "call func(item), then `await switch()`, once per item; return the list at the end")


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
    run(kernel, "a generator task beside a coroutine task")
    results, errors = recorded(kernel)
    if log != [("gen", 0), ("coro", 0), ("gen", 1), ("coro", 1)] or results.get(1) != "coro done":
        fail(call="a generator task (yields, then joins task 2) beside an async def task (awaits switch())",
             expected="they alternate; the generator's join returns 'coro done'", got=f"log {describe(log)}, results {describe(results)}, exceptions {describe(errors)}",
             cause=not_awaitable_cause(errors) or "coroutines have send() and throw() like generators: the kernel runs both unchanged; the awaitable traps also work with `yield from`")


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
    except Exception as exc:  # noqa: BLE001
        fail(call="run(main(), clock)", expected="['1', '2']", got=f"{type(exc).__name__}: {describe(str(exc))}", cause="create an AwaitKernel, spawn main, run it, return results[main's id]")
    if value != ["1", "2"]:
        fail(call="run(main(), clock) where main joins an async_map child", expected="['1', '2']", got=describe(value), cause="return kernel.results for main's id")


### BEGIN HIDDEN TESTS
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
    run(kernel, "a coroutine joining a failing child, then cancelling a sleeping one")
    results, errors = recorded(kernel)
    if log != ["child broke", "napper finally", True, "Cancelled"] or clock.now != 0:
        fail(call="await join(failing child); await cancel(sleeping child); await join(it)",
             expected="['child broke', 'napper finally', True, 'Cancelled'] at time 0", got=f"{describe(log)} at time {clock.now:g}; exceptions {describe(errors)}",
             cause=not_awaitable_cause(errors) or "join and cancel awaitables yield the chapter 5 and 8 requests and return the answer")


@check("awaitables")
def test_awaitable_io_helpers(impl):
    """await send() and await recv() move a large payload over a socketpair."""
    module, kernel = kernel_of(impl)
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    payload = b"0123456789abcdef" * 40_000
    got = bytearray()

    async def sender():
        return await module.send(a, payload)

    async def receiver():
        while len(got) < len(payload):
            chunk = await module.recv(b, 65536)
            if not chunk:
                break
            got.extend(chunk)

    with a, b:
        kernel.spawn(sender())
        kernel.spawn(receiver())
        run(kernel, "await send(a, 640 kB) beside await recv(b) in a loop")
    results, errors = recorded(kernel)
    if bytes(got) != payload or results.get(1) != len(payload):
        fail(call="await send(a, 640 kB) with a receiver doing await recv(b, 65536)", expected=f"all {len(payload)} bytes arrive; send returns {len(payload)}",
             got=f"{len(got)} bytes, send returned {describe(results.get(1))}, exceptions {describe(errors)}",
             cause=not_awaitable_cause(errors) or "recv: await read_wait then sock.recv; send: loop on sock.send, await write_wait on BlockingIOError")


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
    run(kernel, "a generator task using the awaitable traps with yield from")
    results, errors = recorded(kernel)
    if got != [1, 1.0]:
        fail(call="yield from get_id(); yield from sleep(1) inside a plain generator", expected="[1, 1.0]", got=f"{describe(got)}, exceptions {describe(errors)}",
             cause="types.coroutine keeps the traps generators, so yield from still works on them")


@check("async_map")
def test_async_map_edge_cases(impl, rng):
    """async_map on no items returns [] at once; on many items it switches once per item."""
    module, kernel = kernel_of(impl)
    items = [rng.randint(-50, 50) for _ in range(rng.randint(5, 9))]
    rounds = []

    async def counter():
        for step in range(len(items) + 3):
            rounds.append(step)
            await module.switch()

    kernel.spawn(module.async_map(abs, []))
    kernel.spawn(module.async_map(abs, items))
    kernel.spawn(counter())
    run(kernel, f"async_map(abs, []) and async_map(abs, {items}) beside a counter")
    results, errors = recorded(kernel)
    if results.get(1) != [] or results.get(2) != [abs(x) for x in items]:
        fail(call=f"async_map(abs, []) and async_map(abs, {items})", expected=f"[] and {[abs(x) for x in items]}",
             got=f"results {describe(results)}, exceptions {describe(errors)}", cause=not_awaitable_cause(errors) or "collect func(item) for each item and return the list")


@check("async_map")
def test_async_map_is_a_coroutine_switching_per_item(impl):
    """async_map returns a coroutine that suspends exactly once per item (driven by hand)."""
    import inspect

    module = load(impl)
    coro = module.async_map(lambda x: x + 1, [1, 2, 3])
    if not inspect.iscoroutine(coro):
        fail(call="async_map(f, [1, 2, 3])", expected="a coroutine object (async def)", got=describe(coro), cause="define it with `async def` and `await switch()`")
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
    if suspensions != 3 or value != [2, 3, 4]:
        fail(call="driving async_map(lambda x: x + 1, [1, 2, 3]) with send(None)", expected="3 suspensions (each a bare switch, None), then StopIteration([2, 3, 4])",
             got=f"{suspensions} suspension(s), then {describe(value)}", cause="await switch() once after each item, nothing else")


@check("mixed")
def test_many_mixed_tasks_round_robin(impl, rng):
    """Generator and coroutine tasks in any mix share the kernel round-robin."""
    module, kernel = kernel_of(impl)
    kinds = [rng.choice(["gen", "coro"]) for _ in range(rng.randint(4, 7))]
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
    run(kernel, f"tasks of kinds {kinds}")
    want = [(n, step) for step in range(3) for n in range(len(kinds))]
    if log != want:
        fail(call=f"{len(kinds)} tasks of kinds {kinds}, each doing three steps", expected="round robin: every task's step 0, then every step 1, ...", got=describe(log, 200),
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
    run(kernel, "coroutine -> generator -> coroutine, joined back up")
    results, errors = recorded(kernel)
    if results.get(1) != "top+middle+leaf":
        fail(call="async top() spawns generator middle(), which spawns async leaf()", expected="'top+middle+leaf'", got=f"results {describe(results)}, exceptions {describe(errors)}",
             cause=not_awaitable_cause(errors) or "spawn and join work the same for both kinds of task")


@check("run")
def test_run_raises_main_error(impl):
    """run(main()) raises main's exception after the other tasks finished."""
    module = load(impl)
    finished = []

    async def helper():
        await module.switch()
        await module.switch()
        finished.append(True)

    async def main():
        await module.spawn(helper())
        raise LookupError("main failed")

    try:
        module.run(main(), FakeClock())
    except NotImplementedError:
        raise
    except LookupError as exc:
        if str(exc) != "main failed" or finished != [True]:
            fail(call="run(main()) where main spawns a helper and raises LookupError", expected="LookupError('main failed') after the helper finished",
                 got=f"LookupError({describe(str(exc))}), helper finished: {bool(finished)}", cause="run the kernel until every task is done, then raise main's recorded exception")
    except Exception as exc:  # noqa: BLE001
        fail(call="run(main()) where main raises LookupError", expected="LookupError('main failed')", got=f"{type(exc).__name__}: {describe(str(exc))}",
             cause="raise kernel.exceptions[main's id] itself, not a new error")
    else:
        fail(call="run(main()) where main raises LookupError", expected="LookupError('main failed')", got="run() returned normally", cause="check kernel.exceptions for main's id and raise it")


@check("run")
def test_run_with_the_default_clock_sleeps_for_real(impl):
    """run(main()) without a clock uses real time."""
    import time

    module = load(impl)

    async def main():
        await module.sleep(0.03)
        return "awake"

    started = time.monotonic()
    try:
        value = module.run(main())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(call="run(main()) where main sleeps 0.03 s", expected="'awake' after about 0.03 s", got=f"{type(exc).__name__}: {describe(str(exc))}", cause="clock defaults to None: the kernel's real clock")
    elapsed = time.monotonic() - started
    if value != "awake" or not 0.025 <= elapsed < 2:
        fail(call="run(main()) where main sleeps 0.03 s", expected="'awake' after about 0.03 s", got=f"{describe(value)} after {elapsed:.3f} s", cause="pass the clock on to AwaitKernel")


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
    except Exception as exc:  # noqa: BLE001
        fail(call="run(main(), fake_clock) where main sleeps 3600 s", expected="3600.0", got=f"{type(exc).__name__}: {describe(str(exc))}", cause="pass the clock on to AwaitKernel(clock)")
    if value != 3600.0 or clock.sleeps != [3600]:
        fail(call="run(main(), fake_clock) where main sleeps 3600 s", expected="one fake clock.sleep(3600); main returns 3600.0",
             got=f"returned {describe(value)}, fake sleeps {describe(clock.sleeps)}", cause="pass the clock on to AwaitKernel(clock)")


@check("run")
def test_spawning_a_function_is_a_clear_type_error(impl):
    """spawn(main) without the call raises TypeError at once, from the kernel and inside a task."""
    module, kernel = kernel_of(impl)

    async def main():
        return 1

    try:
        kernel.spawn(main)
        outside = "no error"
    except TypeError as exc:
        outside = "TypeError" if "function" in str(exc) else f"TypeError without naming what was passed: {describe(str(exc))}"
    except Exception as exc:  # noqa: BLE001
        outside = f"{type(exc).__name__}: {describe(str(exc))}"
    seen = []

    async def parent():
        try:
            await module.spawn(main)
        except TypeError:
            seen.append("TypeError")

    kernel.spawn(parent())
    run(kernel, "a task doing await spawn(main) (the function, not a coroutine)")
    if outside != "TypeError" or seen != ["TypeError"]:
        fail(call="kernel.spawn(main) and, inside a task, await spawn(main) (main not called)",
             expected="TypeError from kernel.spawn, its message naming the type passed (a function); TypeError raised in the task, the kernel keeps running",
             got=f"kernel.spawn: {outside}; in the task: {describe(seen)}",
             cause="check with inspect.isgenerator / inspect.iscoroutine in spawn; in trap_spawn throw the TypeError into the caller")
### END HIDDEN TESTS
