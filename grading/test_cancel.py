"""Tests for chapter 8, cancel: Cancelled at the suspension point, clean-up, joiners, no-ops."""

import socket

from coopkit.doubles import FakeClock, RecordingSelector, Spin, recorded, run_kernel
from coopkit.harness import check, describe, fail


def kernel_of(impl, clock=None):
    module = impl.fresh("cancel")
    for name in ("CancelKernel", "Cancelled", "cancel"):
        impl.attr("cancel", name)
    clock = clock or FakeClock()
    selector = RecordingSelector(clock)
    kernel = module.CancelKernel(clock, selector)
    selector.kernel = kernel
    return module, kernel


def run(kernel, call):
    def cause(exc):
        if isinstance(exc, Spin):
            return "a cancelled I/O waiter must leave readers/writers and the selector"
        if isinstance(exc, (StopIteration, RuntimeError, ValueError)):
            return "a cancelled task was resumed a second time from where it used to wait: remove it from the ready queue, heap, selector or joiners first"
        return None

    run_kernel(kernel, call, "run() to return once nothing is ready, asleep or waiting", cause)


def canceller(module, target, answers, switches=1):
    for _ in range(switches):
        yield
    answers.append((yield from module.cancel(target)))


@check("delivery")
def test_cancel_raises_at_the_suspension_point(impl):
    """The cancelled task sees Cancelled where it yielded; its finally block runs; cancel() answers True."""
    module, kernel = kernel_of(impl)
    log, answers = [], []

    def worker():
        try:
            for step in range(10):
                log.append(step)
                yield
        except module.Cancelled:
            log.append("Cancelled")
            raise
        finally:
            log.append("finally")

    worker_id = kernel.spawn(worker())
    kernel.spawn(canceller(module, worker_id, answers, switches=2))
    run(kernel, "cancel(1) from task 2 while task 1 loops with bare yields")
    results, errors = recorded(kernel)
    if log != [0, 1, 2, "Cancelled", "finally"] or answers != [True] or not isinstance(errors.get(worker_id), module.Cancelled):
        fail(call="task 2 calls cancel(1) on its third step while task 1 yields in a loop",
             expected="task 1 logs 0, 1, 2, then catches Cancelled at its yield and runs finally; cancel answers True; exceptions[1] is a Cancelled",
             got=f"log {describe(log)}, cancel answered {describe(answers)}, exceptions {describe(errors)}",
             cause="take the task's entry off the ready queue and put it back with gen.throw and a Cancelled instance")


@check("cleanup")
def test_cancelled_sleeper_leaves_the_heap(impl):
    """Cancelling a sleeper removes it from the heap: the clock never sleeps to its deadline."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    answers = []

    def napper():
        yield from module.sleep(100)

    sleeper_id = kernel.spawn(napper())
    kernel.spawn(canceller(module, sleeper_id, answers))
    run(kernel, "cancel a task sleeping 100 s")
    results, errors = recorded(kernel)
    if clock.now != 0 or sleeper_id in results or not isinstance(errors.get(sleeper_id), module.Cancelled):
        fail(call="cancel(1) while task 1 sleeps 100 s (fake clock)", expected="task 1 ends with Cancelled at once; run() returns at time 0",
             got=f"time {clock.now:g}, results {describe(results)}, exceptions {describe(errors)}",
             cause="remove the sleeper's entry from self.sleeping (and heapify) before throwing Cancelled in, or it wakes again at its deadline")


@check("joiners")
def test_joiner_of_a_cancelled_task_gets_cancelled(impl):
    """A task joining a task that gets cancelled sees Cancelled raised from join()."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    seen, answers = [], []

    def napper():
        yield from module.sleep(10)

    def joiner(target):
        try:
            yield from module.join(target)
        except module.Cancelled:
            seen.append("Cancelled")

    target = kernel.spawn(napper())
    kernel.spawn(joiner(target))
    kernel.spawn(canceller(module, target, answers, switches=2))
    run(kernel, "task 2 joins task 1; task 3 cancels task 1")
    if seen != ["Cancelled"]:
        fail(call="task 2 joins task 1, then task 3 cancels task 1", expected="join() raises Cancelled in task 2", got=f"task 2 saw {describe(seen)}",
             cause="a cancelled task ends like one that raised: record its Cancelled in exceptions and throw it into every joiner")


@check("finished_noop")
def test_cancelling_a_finished_task_does_nothing(impl):
    """cancel() on a task that already returned answers False and leaves its result alone."""
    module, kernel = kernel_of(impl)
    answers = []

    def quick():
        return "done"
        yield  # noqa: unreachable - makes this a generator

    quick_id = kernel.spawn(quick())
    kernel.spawn(canceller(module, quick_id, answers, switches=2))
    run(kernel, "cancel a task that has already returned")
    results, errors = recorded(kernel)
    if answers != [False] or results.get(quick_id) != "done" or quick_id in errors:
        fail(call="cancel(1) after task 1 returned 'done'", expected="cancel answers False; results[1] stays 'done'; nothing in exceptions",
             got=f"cancel answered {describe(answers)}, results {describe(results)}, exceptions {describe(errors)}", cause="a finished task is in results or exceptions: leave it alone and answer False")


### BEGIN HIDDEN TESTS
@check("delivery")
def test_cancelled_task_may_clean_up_with_traps(impl):
    """A task may catch Cancelled, still use traps in its clean-up, and return normally."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    answers = []

    def stubborn():
        try:
            while True:
                yield
        except module.Cancelled:
            yield from module.sleep(1)  # clean-up takes a while
            return "cleaned up"

    target = kernel.spawn(stubborn())
    kernel.spawn(canceller(module, target, answers))
    run(kernel, "a task that catches Cancelled and sleeps 1 s to clean up")
    results, errors = recorded(kernel)
    if results.get(target) != "cleaned up" or round(clock.now, 6) != 1 or answers != [True]:
        fail(call="cancel a looping task that catches Cancelled, sleeps 1 s and returns", expected="it returns 'cleaned up' at time 1",
             got=f"results {describe(results)}, exceptions {describe(errors)}, time {clock.now:g}", cause="Cancelled is an exception thrown into the task; what the task does with it is up to the task")


@check("delivery")
def test_cancel_a_task_that_never_ran(impl):
    """A task cancelled before its first step ends with Cancelled without running a line."""
    module, kernel = kernel_of(impl)
    ran, answers = [], []

    def body():
        ran.append(True)
        yield

    kernel.spawn(canceller(module, 2, answers, switches=0))
    kernel.spawn(body())
    run(kernel, "task 1 cancels task 2 before task 2 ever ran")
    results, errors = recorded(kernel)
    if ran or answers != [True] or not isinstance(errors.get(2), module.Cancelled):
        fail(call="task 1 calls cancel(2) on its first step; task 2 has not run yet", expected="task 2 never runs and ends with Cancelled; cancel answers True",
             got=f"task 2 ran: {bool(ran)}, cancel answered {describe(answers)}, exceptions {describe(errors)}", cause="a task waiting on the ready queue is cancelled too: replace its entry with one that throws Cancelled")


@check("delivery")
def test_cancel_a_task_waiting_for_an_answer(impl):
    """A task whose trap answer is waiting on the ready queue gets Cancelled instead of the answer."""
    module, kernel = kernel_of(impl)
    log, answers = [], []

    def asker():
        try:
            log.append((yield from module.get_id()))
        except module.Cancelled:
            log.append("Cancelled")

    def second():
        answers.append((yield from module.cancel(1)))

    kernel.spawn(asker())
    kernel.spawn(second())
    run(kernel, "task 2 cancels task 1 while task 1's get_id answer waits")
    if log != ["Cancelled"] or answers != [True]:
        fail(call="task 1 asks get_id(); before it resumes, task 2 cancels it", expected="task 1 sees Cancelled, not its id", got=f"task 1 logged {describe(log)}, cancel answered {describe(answers)}",
             cause="a ready task has exactly one entry: replace it, do not add a second one")


@check("cleanup")
def test_cancelled_reader_leaves_the_selector(impl):
    """Cancelling a task waiting to read removes it from the selector; run() ends."""
    module, kernel = kernel_of(impl)
    a, b = socket.socketpair()
    a.setblocking(False)
    answers = []

    def reader():
        yield from module.read_wait(a)
        return a.recv(10)

    with a, b:
        target = kernel.spawn(reader())
        kernel.spawn(canceller(module, target, answers))
        run(kernel, "cancel a task waiting to read a socket nobody writes to")
        selector = kernel.selector
        registered = len(selector.get_map())
    results, errors = recorded(kernel)
    if registered or not isinstance(errors.get(target), module.Cancelled) or not getattr(selector, "timeouts", None):
        fail(call="cancel(1) while task 1 waits in read_wait(a), on CancelKernel(clock, selector)", expected="task 1 ends with Cancelled and the given selector, used for the wait, watches nothing",
             got=f"{registered} socket(s) registered, given selector used: {bool(getattr(selector, 'timeouts', None))}, exceptions {describe(errors)}",
             cause="delete the task from readers/writers and update the socket's registration; pass clock and selector on to IOKernel")


@check("cleanup")
def test_cancelled_writer_keeps_the_reader(impl):
    """Cancelling the writer of a socket leaves the reader of the same socket waiting and served."""
    module, kernel = kernel_of(impl)
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    got = []

    def reader():
        yield from module.read_wait(a)
        got.append(a.recv(10))

    def blocked_writer():
        while True:  # fill the buffer until write_wait really waits
            try:
                a.send(b"x" * 65536)
            except BlockingIOError:
                yield from module.write_wait(a)

    def boss():
        yield
        yield from module.cancel(2)
        while True:  # drain b until the reader can be woken by data
            try:
                b.recv(1 << 20)
            except BlockingIOError:
                break
        b.send(b"hello")

    with a, b:
        kernel.spawn(reader())
        kernel.spawn(blocked_writer())
        kernel.spawn(boss())
        run(kernel, "cancel the writer of a socket whose reader still waits")
    results, errors = recorded(kernel)
    if got != [b"hello"] or not isinstance(errors.get(2), module.Cancelled):
        fail(call="task 1 waits to read a, task 2 waits to write to a and is cancelled, then data arrives for a",
             expected="task 2 ends with Cancelled; task 1 still reads b'hello'", got=f"task 1 read {describe(got)}, exceptions {describe(errors)}",
             cause="remove only the cancelled waiter and update the registration to the events still wanted (modify, not unregister)")


@check("cleanup")
def test_cancelled_joiner_is_not_resumed_twice(impl):
    """A cancelled joiner leaves the join list: when the target finishes, it is not resumed again."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []

    def napper():
        yield from module.sleep(5)
        return "late"

    def joiner():
        try:
            log.append((yield from module.join(1)))
        except module.Cancelled:
            log.append("Cancelled")
            raise

    kernel.spawn(napper())
    kernel.spawn(joiner())
    kernel.spawn(canceller(module, 2, [], switches=2))
    run(kernel, "cancel a task joining a sleeper")
    results, errors = recorded(kernel)
    if log != ["Cancelled"] or results.get(1) != "late" or 2 in results or not isinstance(errors.get(2), module.Cancelled):
        fail(call="task 2 joins task 1 (sleeping 5 s); task 3 cancels task 2", expected="task 2 ends with Cancelled once; task 1 still returns 'late'",
             got=f"task 2 logged {describe(log)}, results {describe(results)}, exceptions {describe(errors)}", cause="remove the cancelled task from the joiners of the task it waited for")


@check("cleanup")
def test_other_sleepers_keep_their_order(impl, rng):
    """Cancelling one sleeper leaves the others waking at their deadlines, in order."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    log = []
    deadlines = rng.sample([1, 2, 3, 4, 5, 6, 7], 5)

    def napper(seconds):
        yield from module.sleep(seconds)
        log.append(seconds)

    ids = [kernel.spawn(napper(seconds)) for seconds in deadlines]
    victim = ids[rng.randrange(len(ids))]
    kernel.spawn(canceller(module, victim, []))
    run(kernel, f"sleepers at {deadlines}, one of them cancelled")
    want = sorted(s for task_id, s in zip(ids, deadlines) if task_id != victim)
    if log != want or round(clock.now, 6) != want[-1]:
        fail(call=f"sleepers at {deadlines}; task {victim} is cancelled", expected=f"the others wake in order {want}", got=f"{describe(log)}, time {clock.now:g}",
             cause="after removing an entry from the middle of the heap, restore the heap order with heapq.heapify")


@check("joiners")
def test_many_joiners_and_late_joiners(impl):
    """Every joiner of a cancelled task gets Cancelled, including one that joins after it ended."""
    clock = FakeClock()
    module, kernel = kernel_of(impl, clock)
    seen = []

    def napper():
        yield from module.sleep(10)

    def joiner(name, delay):
        yield from module.sleep(delay)
        try:
            yield from module.join(1)
        except module.Cancelled:
            seen.append(name)

    kernel.spawn(napper())
    for name in ("early", "also early"):
        kernel.spawn(joiner(name, 0))
    kernel.spawn(joiner("late", 2))
    kernel.spawn(canceller(module, 1, [], switches=2))
    run(kernel, "three joiners of a cancelled task, one joining after it ended")
    if sorted(seen) != ["also early", "early", "late"]:
        fail(call="two tasks join task 1 before it is cancelled, one after", expected="all three see Cancelled", got=describe(sorted(seen)),
             cause="the Cancelled goes into exceptions, so joining later raises it too")


@check("joiners")
def test_cancel_then_join_from_the_canceller(impl):
    """The canceller can join its victim afterwards and sees Cancelled; the victim's finally has run by then."""
    module, kernel = kernel_of(impl)
    log = []

    def victim():
        try:
            while True:
                yield
        finally:
            log.append("victim finally")

    def boss():
        yield from module.cancel(1)
        try:
            yield from module.join(1)
        except module.Cancelled:
            log.append("boss saw Cancelled")

    kernel.spawn(victim())
    kernel.spawn(boss())
    run(kernel, "cancel(1), then join(1)")
    if log != ["victim finally", "boss saw Cancelled"]:
        fail(call="yield from cancel(1); yield from join(1)", expected="the victim's finally runs, then join raises Cancelled in the canceller", got=describe(log),
             cause="joining a cancelled task is like joining one that raised")


@check("finished_noop")
def test_cancel_a_failed_task_and_an_unknown_id(impl):
    """Cancelling a task that raised answers False (its exception stays); an unknown id raises KeyError in the caller."""
    module, kernel = kernel_of(impl)
    answers = []

    def broken():
        raise ValueError("boom")
        yield  # noqa: unreachable

    def boss():
        yield
        answers.append((yield from module.cancel(1)))
        for unknown in (0, 3, 99):
            try:
                yield from module.cancel(unknown)
            except KeyError as exc:
                answers.append(("KeyError", exc.args))

    kernel.spawn(broken())
    kernel.spawn(boss())
    run(kernel, "cancel a failed task, then ids never spawned")
    results, errors = recorded(kernel)
    want = [False, ("KeyError", (0,)), ("KeyError", (3,)), ("KeyError", (99,))]
    if answers != want or not isinstance(errors.get(1), ValueError) or 2 not in results:
        fail(call="cancel(1) after task 1 raised ValueError; then cancel(0), cancel(3), cancel(99) with tasks 1 and 2 spawned",
             expected="False, then KeyError(id) raised in the caller for each unknown id; exceptions[1] stays the ValueError",
             got=f"answers {describe(answers)}, exceptions {describe(errors)}", cause="a task in exceptions has finished too; ids never spawned are an error, as with join")


@check("finished_noop")
def test_a_task_can_cancel_itself(impl):
    """cancel(own id) throws Cancelled into the caller at that point; finally runs."""
    module, kernel = kernel_of(impl)
    log = []

    def suicidal():
        me = yield from module.get_id()
        try:
            yield from module.cancel(me)
            log.append("went on")
        finally:
            log.append("finally")

    kernel.spawn(suicidal())
    run(kernel, "a task cancelling itself")
    results, errors = recorded(kernel)
    if log != ["finally"] or not isinstance(errors.get(1), module.Cancelled):
        fail(call="yield from cancel(yield from get_id())", expected="Cancelled raised at the cancel() call; finally runs; exceptions[1] is a Cancelled",
             got=f"log {describe(log)}, results {describe(results)}, exceptions {describe(errors)}", cause="the caller is running, on no queue: answer its trap by throwing Cancelled in")


@check("delivery")
def test_cancel_twice(impl):
    """A second cancel of a task already cancelled but not yet resumed answers True and delivers one Cancelled."""
    module, kernel = kernel_of(impl)
    caught, answers = [], []

    def victim():
        try:
            while True:
                yield
        except module.Cancelled:
            caught.append("Cancelled")
            return "caught once"

    def boss():
        yield
        answers.append((yield from module.cancel(1)))

    kernel.spawn(victim())
    kernel.spawn(boss())
    kernel.spawn(boss())
    run(kernel, "two tasks both cancel task 1 in the same round")
    results, errors = recorded(kernel)
    if caught != ["Cancelled"] or results.get(1) != "caught once" or answers != [True, True]:
        fail(call="tasks 2 and 3 both cancel task 1 before it runs again", expected="task 1 catches one Cancelled and returns 'caught once'",
             got=f"task 1 caught {describe(caught)}, results {describe(results)}, exceptions {describe(errors)}, cancel answered {describe(answers)}",
             cause="replace the task's single ready-queue entry; never add a second one")
### END HIDDEN TESTS
