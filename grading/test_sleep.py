"""Tests for chapter 6, sleep: a heap of sleepers, a clock, and no busy waiting."""

from coopkit.doubles import FakeClock, run_kernel
from coopkit.harness import check, describe, fail


def kernel_of(impl, clock):
    module = impl.fresh("sleep")
    for name in ("SleepKernel", "sleep"):
        impl.attr("sleep", name)
    return module, module.SleepKernel(clock)


def run(kernel, call):
    tie = "a heap entry without a tie-breaker compares generators when two deadlines are equal: add a sequence number"
    run_kernel(kernel, call, "run() to return once no task is ready or asleep", lambda exc: tie if "not supported between instances" in str(exc) else None)


def sleeper(module, log, name, seconds, clock):
    yield from module.sleep(seconds)
    log.append((name, round(clock.now, 6)))
    return name


@check("wake_order")
def test_sleepers_wake_in_deadline_order(impl):
    """Tasks sleeping 3, 1 and 2 seconds wake after 1, 2 and 3 seconds."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    for name, seconds in (("A", 3), ("B", 1), ("C", 2)):
        kernel.spawn(sleeper(module, log, name, seconds, clock))
    run(kernel, "three tasks sleeping 3, 1 and 2 s")
    if log != [("B", 1), ("C", 2), ("A", 3)]:
        fail(call="three tasks sleeping 3, 1 and 2 s on a fake clock", expected="[('B', 1), ('C', 2), ('A', 3)]", got=describe(log),
             cause="keep sleepers in a heap of (deadline, ...) and wake the earliest first")


@check("no_busy_wait")
def test_clock_sleeps_once_per_deadline(impl):
    """With nothing else to do, the kernel sleeps the clock once per deadline, to the exact deadline."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    for name, seconds in (("A", 0.5), ("B", 2.0)):
        kernel.spawn(sleeper(module, log, name, seconds, clock))
    run(kernel, "two tasks sleeping 0.5 and 2 s")
    if [round(s, 6) for s in clock.sleeps] != [0.5, 1.5] or round(clock.now, 6) != 2.0:
        fail(call="two tasks sleeping 0.5 and 2 s on a fake clock", expected="clock.sleep(0.5) then clock.sleep(1.5), ending at time 2.0",
             got=f"clock.sleep calls {describe([round(s, 6) for s in clock.sleeps])}, time {clock.now:g}",
             cause="when no task is ready, sleep until the earliest deadline in one call; do not poll in small steps")


@check("sleep_zero")
def test_sleep_zero_is_a_fair_switch(impl):
    """sleep(0) lets the others run, like a bare yield, and takes no clock time."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    def loop(name, rounds):
        for step in range(rounds):
            log.append((name, step))
            yield from module.sleep(0)

    kernel.spawn(loop("A", 3))
    kernel.spawn(loop("B", 3))
    run(kernel, "two tasks looping sleep(0) three times")
    if log != [("A", 0), ("B", 0), ("A", 1), ("B", 1), ("A", 2), ("B", 2)] or clock.sleeps:
        fail(call="two tasks each doing three sleep(0)", expected="A and B alternate, no clock.sleep", got=f"{describe(log)}, clock.sleep calls {describe(clock.sleeps)}",
             cause="a sleeper whose deadline has come goes back on the ready queue; sleep(0) has a deadline of now")


@check("with_traps")
def test_join_a_sleeping_task(impl):
    """join() on a sleeping task returns its result once it wakes."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    got = []

    def nap():
        yield from module.sleep(5)
        return "rested"

    def waiter():
        got.append((yield from module.join(1)))
        got.append(round(clock.now, 6))

    kernel.spawn(nap())
    kernel.spawn(waiter())
    run(kernel, "a task joining a sleeping task")
    if got != ["rested", 5.0]:
        fail(call="task 2 joins task 1, which sleeps 5 s", expected="'rested' at time 5.0", got=describe(got),
             cause="the chapter 5 traps must keep working: after its sleep the task finishes and its joiners resume")


### BEGIN HIDDEN TESTS
@check("wake_order")
def test_equal_deadlines_wake_in_fifo_order(impl, rng):
    """Sleepers with the same deadline wake in the order they went to sleep (no generator comparison)."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    names = [f"T{n}" for n in range(rng.randint(3, 7))]
    for name in names:
        kernel.spawn(sleeper(module, log, name, 1.5, clock))
    run(kernel, f"{len(names)} tasks all sleeping 1.5 s")
    if [name for name, _ in log] != names:
        fail(call=f"{len(names)} tasks all sleeping 1.5 s", expected=f"they wake in order {names}", got=describe(log),
             cause="break ties with a sequence number: (deadline, sequence, task)")


@check("wake_order")
def test_ties_follow_sleep_order_not_task_ids(impl):
    """With equal deadlines, the task that went to sleep first wakes first, whatever its id."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    def sleeper_after(switches, name):
        for _ in range(switches):
            yield  # lets the later tasks go to sleep first
        yield from module.sleep(1)
        log.append(name)

    for switches, name in ((2, "task 1"), (1, "task 2"), (0, "task 3")):
        kernel.spawn(sleeper_after(switches, name))
    run(kernel, "tasks 3, 2, 1 go to sleep in that order, all until time 1")
    if log != ["task 3", "task 2", "task 1"]:
        fail(call="tasks 3, 2 and 1 each sleep 1 s, in that order (same deadline)", expected="they wake 3, 2, 1", got=describe(log),
             cause="the tie-breaker is a counter that grows with every sleep, so equal deadlines wake in sleep order")


@check("wake_order")
def test_random_deadlines(impl, rng):
    """Many sleepers with random deadlines (some equal) wake sorted by deadline, ties in sleep order."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    plan = [(f"T{n}", rng.choice([0.25, 0.5, 1.0, 1.5, 3.0])) for n in range(rng.randint(6, 12))]
    for name, seconds in plan:
        kernel.spawn(sleeper(module, log, name, seconds, clock))
    run(kernel, "tasks sleeping random durations")
    want = [(name, seconds) for name, seconds in sorted(plan, key=lambda item: item[1])]
    if log != want:
        fail(call=f"tasks sleeping {describe([s for _, s in plan])}", expected=describe(want), got=describe(log),
             cause="wake sleepers by (deadline, sequence) and stamp them at their deadline")


@check("wake_order")
def test_sleepers_do_not_block_ready_tasks(impl):
    """While one task sleeps, the others keep running without the clock moving."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    def busy():
        for step in range(4):
            log.append(("busy", step, clock.now))
            yield

    kernel.spawn(sleeper(module, log, "late", 1, clock))
    kernel.spawn(busy())
    run(kernel, "a sleeper beside a busy task")
    if [entry for entry in log if entry[0] == "busy"] != [("busy", n, 0.0) for n in range(4)] or log[-1] != ("late", 1):
        fail(call="a task sleeping 1 s beside a task yielding four times", expected="the busy task runs all its steps at time 0, then the sleeper wakes at 1",
             got=describe(log), cause="sleep the clock only when no task is ready")


@check("no_busy_wait")
def test_no_clock_sleep_while_tasks_are_ready(impl, rng):
    """The clock never sleeps while a task is ready, and sleeps once per distinct deadline."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    deadlines = sorted(rng.sample([1, 2, 3, 5, 8, 13], 4))
    for n, seconds in enumerate(reversed(deadlines)):
        kernel.spawn(sleeper(module, log, f"T{n}", seconds, clock))
    run(kernel, f"sleepers at {deadlines}")
    if len(clock.sleeps) != len(deadlines) or round(clock.now, 6) != deadlines[-1]:
        fail(call=f"sleepers at {deadlines} s", expected=f"{len(deadlines)} clock.sleep calls, ending at {deadlines[-1]}",
             got=f"{len(clock.sleeps)} calls {describe([round(s, 6) for s in clock.sleeps])}, ending at {clock.now:g}",
             cause="wake every sleeper that is due before sleeping the clock again; sleep straight to the next deadline")


@check("no_busy_wait")
def test_negative_sleep_is_zero(impl):
    """sleep(-1) counts as sleep(0): no clock time, no error."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    kernel.spawn(sleeper(module, log, "neg", -1, clock))
    run(kernel, "a task doing sleep(-1)")
    if log != [("neg", 0)] or clock.sleeps not in ([], [0], [0.0]):
        fail(call="yield from sleep(-1)", expected="wakes at once at time 0", got=f"{describe(log)}, clock.sleep calls {describe(clock.sleeps)}",
             cause="a deadline in the past is due now: use max(0, seconds)")


@check("sleep_zero")
def test_sleep_zero_loop_cannot_starve_a_sleeper(impl):
    """On a clock that moves while tasks run, a task looping sleep(0) does not keep a sleeper from waking."""
    clock = FakeClock(tick=0.001)
    module, kernel = kernel_of(impl, clock)
    log = []

    def spinner():
        for step in range(400):
            yield from module.sleep(0)
        log.append(("spinner done", step))

    kernel.spawn(spinner())
    kernel.spawn(sleeper(module, log, "sleeper", 0.05, clock))
    run(kernel, "a sleep(0) loop beside a 0.05 s sleeper, on a ticking clock")
    names = [entry[0] for entry in log]
    if names != ["sleeper", "spinner done"]:
        fail(call="a task doing sleep(0) 400 times beside a task sleeping 0.05 s (time moves 1 ms per reading)",
             expected="the sleeper wakes long before the loop ends", got=describe(log),
             cause="check for due sleepers before every step, not only when nothing else is ready")


@check("sleep_zero")
def test_sleep_zero_mixes_with_bare_yields(impl):
    """sleep(0) and a bare yield take turns fairly."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    def sleepy():
        for step in range(3):
            log.append(("S", step))
            yield from module.sleep(0)

    def plain():
        for step in range(3):
            log.append(("P", step))
            yield

    kernel.spawn(sleepy())
    kernel.spawn(plain())
    run(kernel, "a sleep(0) task beside a bare-yield task")
    if log != [("S", 0), ("P", 0), ("S", 1), ("P", 1), ("S", 2), ("P", 2)]:
        fail(call="a task doing sleep(0) beside one doing bare yields", expected="they alternate", got=describe(log),
             cause="a task woken from sleep(0) joins the back of the ready queue, like a switch")


@check("with_traps")
def test_default_clock_is_real_time(impl):
    """Without a clock argument the kernel sleeps for real."""
    import time

    module = impl.fresh("sleep")
    kernel = impl.attr("sleep", "SleepKernel")()
    done = []

    def nap():
        yield from module.sleep(0.03)
        done.append(True)

    started = time.monotonic()
    kernel.spawn(nap())
    run(kernel, "SleepKernel() with a task sleeping 0.03 s")
    elapsed = time.monotonic() - started
    if done != [True] or not 0.025 <= elapsed < 2:
        fail(call="SleepKernel().run() with a task sleeping 0.03 s", expected="the task wakes after about 0.03 s of real time",
             got=f"woke: {bool(done)}, after {elapsed:.3f} s", cause="the default clock uses time.monotonic() and time.sleep()")


@check("with_traps")
def test_spawn_and_results_with_sleeps(impl, rng):
    """Children spawned by a sleeping parent run, sleep and are recorded; ids and results as in chapter 5."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    durations = rng.sample([1, 2, 4], 3)  # with the parent's 0.25 s naps, no two deadlines coincide

    def child(seconds):
        yield from module.sleep(seconds)
        return seconds * 10

    def parent():
        ids = []
        for seconds in durations:
            ids.append((yield from module.spawn(child(seconds))))
            yield from module.sleep(0.25)
        values = []
        for child_id in ids:
            values.append((yield from module.join(child_id)))
        return values

    kernel.spawn(parent())
    run(kernel, "a parent spawning sleeping children and joining them")
    results = getattr(kernel, "results", {})
    if not isinstance(results, dict) or dict.get(results, 1) != [s * 10 for s in durations]:
        fail(call=f"a parent spawning children that sleep {durations} s, then joining them", expected=f"results[1] == {[s * 10 for s in durations]}",
             got=describe(results), cause="a task resumed from sleep must continue exactly where it was, and join must still work")
### END HIDDEN TESTS
