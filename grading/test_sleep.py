"""Tests for chapter 6, sleep: a heap of sleepers, a clock, and no busy waiting.

Each test observes (``test_*``: runs a SleepKernel, returns plain data: who
woke and when, every ``clock.sleep``) and is judged by its verify half
(``verify_*``: decides from that data alone).
"""

import math
import time

from coopkit.doubles import FakeClock, judge_run, run_kernel
from coopkit.harness import check, describe, fail

RETURNS = "run() to return once no task is ready or asleep"
TIE = "a heap entry without a tie-breaker compares generators when two deadlines are equal: add a sequence number"
SLEEPS_KEPT = 100  # clock.sleep calls sent back (a polling kernel makes thousands; the count is sent too)


def kernel_of(impl, clock):
    module = impl.fresh("sleep")
    for name in ("SleepKernel", "sleep"):
        impl.attr("sleep", name)
    return module, module.SleepKernel(clock)


def number(value, digits=6):
    """A time as data: rounded to the microsecond (``digits=None``: as it is); anything but a finite number as its repr."""
    if type(value) in (int, float) and math.isfinite(value):
        return value if digits is None else round(value, digits)
    return describe(value)


def as_data(value, depth=0):
    """A value that came through the kernel, as data: plain values as they are, anything else as its repr."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else describe(value)
    if type(value) in (list, tuple) and depth < 3:
        return [as_data(item, depth + 1) for item in value[:20]]
    return {"repr": describe(value)}


def sleeper(module, log, name, seconds, clock):
    yield from module.sleep(seconds)
    log.append((name, number(clock.now)))
    return name


# -- observing (runs beside the code under test) --------------------------------


def observe_run(kernel, clock=None, **seen):
    """Run the kernel; what escaped run() (or None), the logs in ``seen``, and the clock's sleeps and time."""
    seen["error"] = run_kernel(kernel)
    if clock is not None:
        seen["sleeps"] = [number(seconds, None) for seconds in clock.sleeps[:SLEEPS_KEPT]]
        seen["sleep_count"] = len(clock.sleeps)
        seen["now"] = number(clock.now)
    return seen


# -- judging (runs in the grader, on the data alone) ------------------------------


def tie_cause(error):
    return TIE if "not supported between instances" in str(error.get("text", "")) else None


def judge_ran(seen, call):
    """Fail when run() raised: the usual message, naming a missing tie-breaker when that is what broke."""
    judge_run(seen["error"], call, RETURNS, tie_cause)


def tuples(log):
    """A log as the test wrote it: JSON turned its tuples into lists."""
    return [tuple(entry) if isinstance(entry, list) else entry for entry in log]


def rounded(sleeps):
    """clock.sleep arguments rounded to the microsecond (anything that was not a number stays its repr)."""
    return [seconds if isinstance(seconds, str) else round(seconds, 6) for seconds in sleeps]


def seconds_text(sleeps, count):
    """The clock.sleep calls, as the messages show them."""
    return describe(sleeps) if count <= len(sleeps) else f"{describe(sleeps)} (and more: {count} in all)"


def time_text(now):
    return f"{now:g}" if not isinstance(now, str) else now


@check("wake_order")
def test_sleepers_wake_in_deadline_order(impl):
    """Tasks sleeping 3, 1 and 2 seconds wake after 1, 2 and 3 seconds."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    for name, seconds in (("A", 3), ("B", 1), ("C", 2)):
        kernel.spawn(sleeper(module, log, name, seconds, clock))
    return observe_run(kernel, log=log)


def verify_sleepers_wake_in_deadline_order(seen):
    judge_ran(seen, "three tasks sleeping 3, 1 and 2 s")
    log = tuples(seen["log"])
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
    return observe_run(kernel, clock, log=log)


def verify_clock_sleeps_once_per_deadline(seen):
    judge_ran(seen, "two tasks sleeping 0.5 and 2 s")
    sleeps = rounded(seen["sleeps"])
    if sleeps != [0.5, 1.5] or seen["sleep_count"] != 2 or seen["now"] != 2.0:
        fail(call="two tasks sleeping 0.5 and 2 s on a fake clock", expected="clock.sleep(0.5) then clock.sleep(1.5), ending at time 2.0",
             got=f"clock.sleep calls {seconds_text(sleeps, seen['sleep_count'])}, time {time_text(seen['now'])}",
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
    return observe_run(kernel, clock, log=log)


def verify_sleep_zero_is_a_fair_switch(seen):
    judge_ran(seen, "two tasks looping sleep(0) three times")
    log = tuples(seen["log"])
    if log != [("A", 0), ("B", 0), ("A", 1), ("B", 1), ("A", 2), ("B", 2)] or seen["sleep_count"]:
        fail(call="two tasks each doing three sleep(0)", expected="A and B alternate, no clock.sleep",
             got=f"{describe(log)}, clock.sleep calls {seconds_text(seen['sleeps'], seen['sleep_count'])}",
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
        got.append(as_data((yield from module.join(1))))
        got.append(number(clock.now))

    kernel.spawn(nap())
    kernel.spawn(waiter())
    return observe_run(kernel, got=got)


def verify_join_a_sleeping_task(seen):
    judge_ran(seen, "a task joining a sleeping task")
    if seen["got"] != ["rested", 5.0]:
        fail(call="task 2 joins task 1, which sleeps 5 s", expected="'rested' at time 5.0", got=describe(seen["got"]),
             cause="the chapter 5 traps must keep working: after its sleep the task finishes and its joiners resume")


### BEGIN HIDDEN TESTS
def fifo_inputs(rng):
    return [f"T{n}" for n in range(rng.randint(3, 7))]


@check("wake_order")
def test_equal_deadlines_wake_in_fifo_order(impl, rng):
    """Sleepers with the same deadline wake in the order they went to sleep (no generator comparison)."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    for name in fifo_inputs(rng):
        kernel.spawn(sleeper(module, log, name, 1.5, clock))
    return observe_run(kernel, log=log)


def verify_equal_deadlines_wake_in_fifo_order(seen, rng):
    names = fifo_inputs(rng)
    judge_ran(seen, f"{len(names)} tasks all sleeping 1.5 s")
    log = tuples(seen["log"])
    if [entry[0] for entry in log] != names:
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
    return observe_run(kernel, log=log)


def verify_ties_follow_sleep_order_not_task_ids(seen):
    judge_ran(seen, "tasks 3, 2, 1 go to sleep in that order, all until time 1")
    if seen["log"] != ["task 3", "task 2", "task 1"]:
        fail(call="tasks 3, 2 and 1 each sleep 1 s, in that order (same deadline)", expected="they wake 3, 2, 1", got=describe(seen["log"]),
             cause="the tie-breaker is a counter that grows with every sleep, so equal deadlines wake in sleep order")


def random_deadline_inputs(rng):
    return [(f"T{n}", rng.choice([0.25, 0.5, 1.0, 1.5, 3.0])) for n in range(rng.randint(6, 12))]


@check("wake_order")
def test_random_deadlines(impl, rng):
    """Many sleepers with random deadlines (some equal) wake sorted by deadline, ties in sleep order."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    for name, seconds in random_deadline_inputs(rng):
        kernel.spawn(sleeper(module, log, name, seconds, clock))
    return observe_run(kernel, log=log)


def verify_random_deadlines(seen, rng):
    plan = random_deadline_inputs(rng)
    judge_ran(seen, "tasks sleeping random durations")
    log = tuples(seen["log"])
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
            log.append(("busy", step, number(clock.now)))
            yield

    kernel.spawn(sleeper(module, log, "late", 1, clock))
    kernel.spawn(busy())
    return observe_run(kernel, log=log)


def verify_sleepers_do_not_block_ready_tasks(seen):
    judge_ran(seen, "a sleeper beside a busy task")
    log = tuples(seen["log"])
    if [entry for entry in log if entry[0] == "busy"] != [("busy", n, 0.0) for n in range(4)] or log[-1:] != [("late", 1)]:
        fail(call="a task sleeping 1 s beside a task yielding four times", expected="the busy task runs all its steps at time 0, then the sleeper wakes at 1",
             got=describe(log), cause="sleep the clock only when no task is ready")


def due_together_inputs(rng):
    """Sleepers (name, delay) that all become due during one long step: some equal, never already sorted."""
    delays = [1.0, 1.0, 2.0, 3.0] + [rng.choice([0.5, 1.0, 2.0, 3.0, 4.0]) for _ in range(rng.randint(1, 4))]
    rng.shuffle(delays)
    if delays == sorted(delays):
        delays.reverse()
    return [(f"T{n}", seconds) for n, seconds in enumerate(delays)]


LONG_STEP = 10.0  # the long task's first step moves the fake clock past every deadline
LONG_STEPS = 4


def long_task(log, clock):
    """A task whose first step takes LONG_STEP seconds of (fake) time, then a few quick steps."""
    for step in range(LONG_STEPS):
        log.append(("long", step, number(clock.now)))
        if step == 0:
            clock.now += LONG_STEP
        yield


@check("wake_order")
def test_sleepers_due_together_wake_earliest_first(impl, rng):
    """Sleepers that all become due during one long step wake earliest deadline first, ties in sleep order, all at once."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    for name, seconds in due_together_inputs(rng):
        kernel.spawn(sleeper(module, log, name, seconds, clock))
    kernel.spawn(long_task(log, clock))
    return observe_run(kernel, log=log)


def verify_sleepers_due_together_wake_earliest_first(seen, rng):
    plan = due_together_inputs(rng)
    call = f"tasks sleeping {describe([s for _, s in plan])} s, then a task whose first step takes {LONG_STEP:g} s (fake clock)"
    judge_ran(seen, call)
    log = tuples(seen["log"])
    woke = [entry for entry in log if entry[0] != "long"]
    order = [entry[0] for entry in woke]
    want_order = [name for name, _ in sorted(plan, key=lambda item: item[1])]
    if order != want_order or [entry for entry in woke if entry[1] != LONG_STEP]:
        if order == [name for name, _ in plan]:
            cause = ("wake takes the due sleepers in the order they went to sleep: when several are due at once, "
                     "the earliest deadline must wake first (pop the heap's smallest entry while it is due)")
        else:
            cause = "when several sleepers are due at once, wake them by (deadline, sequence): earliest deadline first, ties in sleep order"
        fail(call=call, expected=f"they all wake at {LONG_STEP:g}, in order {want_order}", got=describe(woke, 400), cause=cause)
    places = [index for index, entry in enumerate(log) if entry[0] != "long"]
    if places and places[-1] - places[0] != len(places) - 1:
        fail(call=call, expected="the sleepers wake one right after the other: all of them joined the ready queue at the same wake",
             got=describe(log, 400), cause="wake must move every due sleeper to the ready queue at once (a while loop over the heap), not one per step")


REAL_PLAN = (("A", 0.07), ("B", 0.01), ("C", 0.04), ("D", 0.01))  # 30 ms between distinct deadlines
REAL_STEP = 0.12  # a real step longer than every sleep
REAL_SPREAD = 0.015  # the sleepers went to sleep within this much real time, else the run is made again
REAL_ATTEMPTS = 3


def observe_due_together_real(module):
    kernel = module.SleepKernel()
    log, went = [], []

    def nap(name, seconds):
        went.append(time.monotonic())
        yield from module.sleep(seconds)
        log.append(name)

    def slow():
        time.sleep(REAL_STEP)
        yield

    for name, seconds in REAL_PLAN:
        kernel.spawn(nap(name, seconds))
    kernel.spawn(slow())
    error = run_kernel(kernel)
    return {"error": error, "log": log, "spread": round(max(went) - min(went), 4) if went else 0.0}


@check("wake_order")
def test_sleepers_due_together_on_the_real_clock(impl):
    """On the real clock, sleepers of 0.07, 0.01, 0.04 and 0.01 s that all become due during a 0.12 s step wake earliest first."""
    module = impl.fresh("sleep")
    for name in ("SleepKernel", "sleep"):
        impl.attr("sleep", name)
    for _ in range(REAL_ATTEMPTS):  # a machine so loaded that going to sleep took REAL_SPREAD s changes the deadlines: again
        seen = observe_due_together_real(module)
        if seen["error"] is not None or seen["spread"] < REAL_SPREAD:
            break
    return seen


def verify_sleepers_due_together_on_the_real_clock(seen):
    call = "SleepKernel(): tasks A, B, C, D sleeping 0.07, 0.01, 0.04 and 0.01 s, then a task whose step takes 0.12 s"
    judge_ran(seen, call)
    want = [name for name, _ in sorted(REAL_PLAN, key=lambda item: item[1])]
    if seen["log"] != want:
        if seen["log"] == [name for name, _ in REAL_PLAN]:
            cause = ("wake takes the due sleepers in the order they went to sleep: when several are due at once, "
                     "the earliest deadline must wake first (pop the heap's smallest entry while it is due)")
        else:
            cause = "when several sleepers are due at once, wake them by (deadline, sequence): earliest deadline first, ties in sleep order"
        fail(call=call, expected=f"they wake {want}", got=describe(seen["log"]), cause=cause)


def observe_after_long_step(impl, delay, other):
    """Task S sleeps ``other`` s; then task N's one step takes 10 s and ends in sleep(delay)."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    def late(seconds):
        clock.now += 10.0  # a long step ...
        yield from module.sleep(seconds)  # ... that ends in a sleep
        log.append(("N", number(clock.now)))

    kernel.spawn(sleeper(module, log, "S", other, clock))
    kernel.spawn(late(delay))
    return observe_run(kernel, log=log)


@check("wake_order")
def test_negative_sleep_after_a_long_step(impl):
    """A sleep(-5) right after a 10 s step has a deadline of now: a sleeper already due wakes before it."""
    return observe_after_long_step(impl, -5, 8)


def verify_negative_sleep_after_a_long_step(seen):
    call = "task S sleeps 8 s; task N's step takes 10 s and ends in sleep(-5)"
    judge_ran(seen, call)
    log = tuples(seen["log"])
    if log != [("S", 10), ("N", 10)]:
        fail(call=call, expected="[('S', 10), ('N', 10)]: S (deadline 8) wakes before N (deadline 10, now)", got=describe(log),
             cause="a negative delay counts as 0: the deadline is clock.time() + max(0, seconds), not a time in the past")


@check("wake_order")
def test_deadline_counts_from_the_sleep(impl):
    """A sleep(1) at the end of a 10 s step wakes 1 s after that step, at 11, after a sleeper due at 5.5."""
    return observe_after_long_step(impl, 1, 5.5)


def verify_deadline_counts_from_the_sleep(seen):
    call = "task S sleeps 5.5 s; task N's step takes 10 s and ends in sleep(1)"
    judge_ran(seen, call)
    log = tuples(seen["log"])
    if log != [("S", 10), ("N", 11)]:
        cause = "the deadline is clock.time() + seconds, with the time read when the sleep trap arrives"
        if log[:1] == [("N", 10)]:
            cause += ", not a time read before the task's step (its step took 10 s)"
        fail(call=call, expected="[('S', 10), ('N', 11)]: S is due when N's step ends; N wakes 1 s after it", got=describe(log), cause=cause)


@check("no_busy_wait")
def test_no_clock_sleep_while_tasks_are_ready(impl, rng):
    """The clock never sleeps while a task is ready, and sleeps once per distinct deadline."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    deadlines = sorted(rng.sample([1, 2, 3, 5, 8, 13], 4))
    for n, seconds in enumerate(reversed(deadlines)):
        kernel.spawn(sleeper(module, log, f"T{n}", seconds, clock))
    return observe_run(kernel, clock, log=log)


def verify_no_clock_sleep_while_tasks_are_ready(seen, rng):
    deadlines = sorted(rng.sample([1, 2, 3, 5, 8, 13], 4))
    judge_ran(seen, f"sleepers at {deadlines}")
    if seen["sleep_count"] != len(deadlines) or seen["now"] != deadlines[-1]:
        fail(call=f"sleepers at {deadlines} s", expected=f"{len(deadlines)} clock.sleep calls, ending at {deadlines[-1]}",
             got=f"{seen['sleep_count']} calls {seconds_text(rounded(seen['sleeps']), seen['sleep_count'])}, ending at {time_text(seen['now'])}",
             cause="wake every sleeper that is due before sleeping the clock again; sleep straight to the next deadline")


@check("no_busy_wait")
def test_negative_sleep_is_zero(impl):
    """sleep(-1) counts as sleep(0): no clock time, no error."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    kernel.spawn(sleeper(module, log, "neg", -1, clock))
    return observe_run(kernel, clock, log=log)


def verify_negative_sleep_is_zero(seen):
    judge_ran(seen, "a task doing sleep(-1)")
    log = tuples(seen["log"])
    if log != [("neg", 0)] or seen["sleep_count"] > 1 or seen["sleeps"] not in ([], [0]):
        fail(call="yield from sleep(-1)", expected="wakes at once at time 0",
             got=f"{describe(log)}, clock.sleep calls {seconds_text(seen['sleeps'], seen['sleep_count'])}",
             cause="a deadline in the past is due now: use max(0, seconds)")


NEGATIVE_TICK = 0.001  # the clock moves 1 ms per reading
NEGATIVE_DELAYS = [(k + 0.5) * NEGATIVE_TICK for k in range(6)]  # deadlines half a reading apart from the clock's


@check("no_busy_wait")
def test_clock_never_sleeps_a_negative_time(impl):
    """When the earliest deadline passed between two readings of the clock, the kernel sleeps 0, not a negative time."""
    seen = []
    for seconds in NEGATIVE_DELAYS:
        clock = FakeClock(tick=NEGATIVE_TICK)
        module, kernel = kernel_of(impl, clock)
        log = []
        kernel.spawn(sleeper(module, log, "T", seconds, clock))
        seen.append(observe_run(kernel, clock, log=log))
    return seen


def verify_clock_never_sleeps_a_negative_time(seen):
    for seconds, one in zip(NEGATIVE_DELAYS, seen, strict=True):
        call = f"a task sleeping {seconds:g} s on a clock that moves {NEGATIVE_TICK:g} s per reading"
        judge_ran(one, call)
        below = [s for s in one["sleeps"] if not isinstance(s, str) and s < 0]
        if [entry[0] for entry in one["log"]] != ["T"] or below:
            fail(call=call, expected="the task wakes; every clock.sleep is 0 or more",
                 got=f"woke: {describe(tuples(one['log']))}, clock.sleep calls {seconds_text(rounded(one['sleeps']), one['sleep_count'])}",
                 cause="the deadline can pass between wake() and the clock reading before clock.sleep; "
                       "time.sleep raises ValueError on a negative time: sleep max(0, deadline - now)")


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
    return observe_run(kernel, log=log)


def verify_sleep_zero_loop_cannot_starve_a_sleeper(seen):
    judge_ran(seen, "a sleep(0) loop beside a 0.05 s sleeper, on a ticking clock")
    log = tuples(seen["log"])
    if [entry[0] for entry in log] != ["sleeper", "spinner done"]:
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
    return observe_run(kernel, log=log)


def verify_sleep_zero_mixes_with_bare_yields(seen):
    judge_ran(seen, "a sleep(0) task beside a bare-yield task")
    log = tuples(seen["log"])
    if log != [("S", 0), ("P", 0), ("S", 1), ("P", 1), ("S", 2), ("P", 2)]:
        fail(call="a task doing sleep(0) beside one doing bare yields", expected="they alternate", got=describe(log),
             cause="a task woken from sleep(0) joins the back of the ready queue, like a switch")


@check("sleep_zero")
def test_sleeper_wakes_before_the_next_step(impl):
    """A sleeper whose deadline passes during a step joins the ready queue right after that step, not a round later."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    def busy(name):
        for step in range(3):
            log.append((name, step))
            if name == "X" and step == 0:
                clock.now += 1.0  # S's deadline (0.5) passes during this step
            yield

    kernel.spawn(sleeper(module, log, "S", 0.5, clock))
    for name in "XYZ":
        kernel.spawn(busy(name))
    return observe_run(kernel, log=log)


ROUND_ORDER = [("X", 0), ("Y", 0), ("Z", 0), ("X", 1), ("S", 1.0), ("Y", 1), ("Z", 1), ("X", 2), ("Y", 2), ("Z", 2)]


def verify_sleeper_wakes_before_the_next_step(seen):
    call = "task S sleeps 0.5 s beside X, Y, Z yielding three times each; X's first step takes 1 s"
    judge_ran(seen, call)
    log = tuples(seen["log"])
    if log != ROUND_ORDER:
        fail(call=call, expected=f"S joins the queue right after X's first step, behind Y, Z and X: {describe(ROUND_ORDER, 400)}",
             got=describe(log, 400), cause="wake the due sleepers before every step, not once per round of the ready queue")


@check("sleep_zero")
def test_sleep_zero_after_a_long_step(impl):
    """sleep(0) at the end of a 10 s step has a deadline of now: a sleeper already due wakes before it."""
    return observe_after_long_step(impl, 0, 8)


def verify_sleep_zero_after_a_long_step(seen):
    call = "task S sleeps 8 s; task N's step takes 10 s and ends in sleep(0)"
    judge_ran(seen, call)
    log = tuples(seen["log"])
    if log != [("S", 10), ("N", 10)]:
        fail(call=call, expected="[('S', 10), ('N', 10)]: S (deadline 8) wakes before N (deadline 10, now)", got=describe(log),
             cause="sleep(0) is a sleep like any other, with a deadline of clock.time() when the trap arrives: "
                   "it goes through the heap, so the sleepers already due go first")


@check("with_traps")
def test_default_clock_is_real_time(impl):
    """Without a clock argument the kernel sleeps for real."""
    module = impl.fresh("sleep")
    kernel = impl.attr("sleep", "SleepKernel")()
    done = []

    def nap():
        yield from module.sleep(0.03)
        done.append(True)

    started = time.monotonic()
    kernel.spawn(nap())
    error = run_kernel(kernel)
    return {"error": error, "done": done, "elapsed": round(time.monotonic() - started, 4)}


def verify_default_clock_is_real_time(seen):
    judge_ran(seen, "SleepKernel() with a task sleeping 0.03 s")
    elapsed = seen["elapsed"]
    if seen["done"] != [True] or not 0.025 <= elapsed < 2:
        fail(call="SleepKernel().run() with a task sleeping 0.03 s", expected="the task wakes after about 0.03 s of real time",
             got=f"woke: {bool(seen['done'])}, after {elapsed:.3f} s", cause="the default clock uses time.monotonic() and time.sleep()")


def spawn_inputs(rng):
    return rng.sample([1, 2, 4], 3)  # with the parent's 0.25 s naps, no two deadlines coincide


@check("with_traps")
def test_spawn_and_results_with_sleeps(impl, rng):
    """Children spawned by a sleeping parent run, sleep and are recorded; ids and results as in chapter 5."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    durations = spawn_inputs(rng)
    answered, own = [], []

    def child(seconds):
        yield from module.sleep(seconds)
        own.append([seconds, as_data((yield from module.get_id()))])
        return seconds * 10

    def parent():
        ids = []
        for seconds in durations:
            ids.append((yield from module.spawn(child(seconds))))
            answered.append(as_data(ids[-1]))
            yield from module.sleep(0.25)
        values = []
        for child_id in ids:
            values.append((yield from module.join(child_id)))
        return values

    kernel.spawn(parent())
    error = run_kernel(kernel)
    results = getattr(kernel, "results", {})
    return {"error": error, "results_type": type(results).__name__, "result": as_data(dict.get(results, 1)) if isinstance(results, dict) else None,
            "results": describe(results), "spawned": answered, "own": own}


def verify_spawn_and_results_with_sleeps(seen, rng):
    durations = spawn_inputs(rng)
    call = f"a parent spawning children that sleep {durations} s, then joining them"
    judge_ran(seen, "a parent spawning sleeping children and joining them")
    want = [s * 10 for s in durations]
    if seen["results_type"] != "dict" or seen["result"] != want:
        fail(call=call, expected=f"results[1] == {want}",
             got=seen["results"], cause="a task resumed from sleep must continue exactly where it was, and join must still work")
    if seen["spawned"] != [2, 3, 4]:
        fail(call=call, expected="spawn answers the children's ids 2, 3, 4", got=describe(seen["spawned"]),
             cause="spawn answers the new task's id, whether or not tasks sleep")
    own = sorted((tuple(entry) for entry in seen["own"]), key=lambda pair: pair[0])
    want_own = sorted((seconds, 2 + n) for n, seconds in enumerate(durations))
    if own != want_own:
        fail(call=call + "; each child calls get_id() after its sleep",
             expected=f"(sleep, id) pairs {describe(want_own)}", got=describe(seen["own"]),
             cause="a woken task keeps its own id: wake puts back (task id, generator, gen.send, None) from the heap entry")
### END HIDDEN TESTS
