"""Tests for chapter 5, traps: tasks ask their kernel for services and get answers through send()."""

from coopkit.doubles import run_kernel
from coopkit.harness import check, describe, fail

MISSING = object()


class Oops(Exception):
    """An error raised by a task."""


def kernel_of(impl):
    module = impl.fresh("traps")
    for name in ("Kernel", "get_id", "spawn", "join"):
        if not hasattr(module, name):
            impl.attr("traps", name)  # raises the friendly "defines no ..." error
    return module


def run(kernel, call):
    run_kernel(kernel, call, "run() to return when no task is ready",
               lambda exc: "an error inside a task must be recorded (or thrown into the task), never escape from run()")


def table(kernel, name, call):
    value = getattr(kernel, name, MISSING)
    if not isinstance(value, dict):
        fail(call=call, expected=f"kernel.{name} to be a dict", got=describe(value), cause=f"set self.{name} = {{}} in __init__")
    return value


@check("send_answers")
def test_get_id_answers_through_send(impl):
    """A task that yields get_id() gets its own id back as the value of the yield."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    seen = []

    def task():
        seen.append((yield from traps.get_id()))
        return "done"

    ids = [kernel.spawn(task()) for _ in range(3)]
    run(kernel, "three tasks asking get_id(), then run()")
    if seen != ids:
        fail(call="three tasks asking get_id(), then run()", expected=f"each gets its own id: {ids}", got=describe(seen),
             cause="answer a trap by resuming the task with gen.send(reply)")


@check("spawn")
def test_spawn_starts_a_child(impl):
    """spawn(gen) starts a new task and answers with its id; the child's result lands in results."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    got = []

    def child():
        yield
        return "child result"

    def parent():
        got.append((yield from traps.spawn(child())))

    first = kernel.spawn(parent())
    run(kernel, "a parent that spawns a child, then run()")
    results = table(kernel, "results", "run()")
    if first != 1 or got != [2] or dict.get(results, 2, MISSING) != "child result":
        fail(call="kernel.spawn(parent()), where parent spawns child(); run()", expected="parent id 1, child id 2, results[2] == 'child result'",
             got=f"parent id {describe(first)}, spawn answered {describe(got)}, results {describe(results)}",
             cause="Kernel.spawn hands out ids 1, 2, 3...; the spawn trap adds the child and sends its id back")


@check("join")
def test_join_returns_the_childs_result(impl):
    """join(child) waits for the child and returns its result."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    got = []

    def child():
        yield
        yield
        return 42

    def parent(child_id):
        got.append((yield from traps.join(child_id)))

    kernel.spawn(parent(2))
    kernel.spawn(child())
    run(kernel, "a parent joining a child (task 2)")
    if got != [42]:
        fail(call="parent: yield from join(2), task 2 returns 42 after two yields", expected="join returns 42, the child's result",
             got=describe(got), cause="park the joiner until the child finishes, then send it the child's result")


@check("unknown_trap")
def test_unknown_trap_raises_in_the_task(impl):
    """Yielding something the kernel does not know raises RuntimeError inside that task; the kernel goes on."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    caught = []

    def confused():
        try:
            yield ("teleport", 3)
        except RuntimeError as exc:
            caught.append(exc)
        return "recovered"

    def bystander():
        yield
        return "fine"

    a, b = kernel.spawn(confused()), kernel.spawn(bystander())
    run(kernel, "a task yielding ('teleport', 3) and a bystander")
    results = table(kernel, "results", "run()")
    if len(caught) != 1 or dict.get(results, a, None) != "recovered" or dict.get(results, b, None) != "fine":
        fail(call="a task yielding ('teleport', 3) inside try/except RuntimeError", expected="RuntimeError thrown into it, both tasks finish",
             got=f"caught {describe(caught)}, results {describe(results)}", cause="for an unknown trap, resume the task with gen.throw(RuntimeError(...))")


### BEGIN HIDDEN TESTS
@check("send_answers")
def test_bare_yield_is_a_switch(impl, rng):
    """A bare yield gives the others a turn and resumes with None, round robin."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    log, values = [], []
    lengths = [rng.randint(1, 4) for _ in range(3)]

    def task(name, steps):
        for step in range(steps):
            log.append((name, step))
            values.append((yield))

    for n, steps in enumerate(lengths):
        kernel.spawn(task("ABC"[n], steps))
    run(kernel, f"three tasks of {lengths} bare yields")
    expected, queue = [], [("ABC"[n], 0, s) for n, s in enumerate(lengths)]
    while queue:
        name, step, steps = queue.pop(0)
        if step < steps:
            expected.append((name, step))
            queue.append((name, step + 1, steps))
    if log != expected or any(v is not None for v in values):
        fail(call=f"three tasks of {lengths} bare yields", expected=f"round robin {describe(expected)}, every yield resumed with None",
             got=f"{describe(log)}, values {describe(values)}", cause="a bare yield puts the task at the back and resumes it with send(None)")


@check("send_answers")
def test_answers_reach_the_right_task(impl, rng):
    """Several tasks asking get_id() between switches each get their own id, every time."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()

    def task(rounds):
        mine = []
        for _ in range(rounds):
            mine.append((yield from traps.get_id()))
            yield
        return mine

    ids = [kernel.spawn(task(rng.randint(1, 4))) for _ in range(rng.randint(3, 6))]
    run(kernel, "tasks asking get_id() repeatedly")
    results = table(kernel, "results", "run()")
    for task_id in ids:
        got = dict.get(results, task_id, MISSING)
        if got is MISSING or any(answer != task_id for answer in got):
            fail(call="tasks asking get_id() repeatedly", expected=f"task {task_id} always told {task_id}", got=describe(got),
                 cause="send the answer to the task that asked, not to whoever runs next")


@check("spawn")
def test_spawned_tasks_run_and_ids_count(impl, rng):
    """Ids count 1, 2, 3 across Kernel.spawn and the spawn trap; every child runs and is recorded."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    n = rng.randint(2, 5)
    answers = []

    def leaf(k):
        yield
        return k * 10

    def root():
        for k in range(n):
            answers.append((yield from traps.spawn(leaf(k))))
        return "root"

    root_id = kernel.spawn(root())
    other = kernel.spawn(leaf(99))
    run(kernel, f"a root task spawning {n} children")
    results = table(kernel, "results", "run()")
    want_ids = list(range(3, 3 + n))
    if root_id != 1 or other != 2 or answers != want_ids:
        fail(call=f"root spawns {n} children after a second top-level task", expected=f"ids 1, 2 then children {want_ids}",
             got=f"{root_id}, {other}, children {describe(answers)}", cause="one counter for every task, starting at 1")
    for k, child_id in enumerate(want_ids):
        if dict.get(results, child_id, MISSING) != k * 10:
            fail(call="children spawned by a task", expected=f"results[{child_id}] == {k * 10}", got=describe(results),
                 cause="spawned tasks must be run and recorded like the others")


@check("spawn")
def test_parent_does_not_wait_for_spawned_child(impl):
    """spawn answers at once: the parent goes on while the child runs."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    log = []

    def child():
        log.append("child 1")
        yield
        log.append("child 2")

    def parent():
        yield from traps.spawn(child())
        log.append("parent after spawn")
        yield
        log.append("parent end")

    kernel.spawn(parent())
    run(kernel, "a parent spawning a child")
    if log.index("parent after spawn") > log.index("child 2"):
        fail(call="a parent spawning a child", expected="the parent resumes before the child has finished", got=describe(log),
             cause="the spawn trap sends the id back right away; it does not wait for the child")


@check("join")
def test_join_raises_the_childs_exception(impl):
    """join on a child that failed raises that very exception in the joiner; both are recorded."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    error = Oops("child failed")
    caught = []

    def child():
        yield
        raise error

    def parent(child_id):
        try:
            yield from traps.join(child_id)
        except Oops as exc:
            caught.append(exc)
        return "handled"

    parent_id = kernel.spawn(parent(2))
    kernel.spawn(child())
    run(kernel, "a parent joining a child that raises")
    exceptions = table(kernel, "exceptions", "run()")
    results = table(kernel, "results", "run()")
    if caught != [error] or dict.get(exceptions, 2, None) is not error or dict.get(results, parent_id, None) != "handled":
        fail(call="parent joins a child that raises Oops", expected="the same Oops raised inside the parent; exceptions[2] is it",
             got=f"caught {describe(caught)}, exceptions {describe(exceptions)}", cause="resume the joiner with gen.throw(the child's exception)")


@check("join")
def test_join_a_task_that_already_failed(impl):
    """Joining a task after it failed raises its exception at once."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    error = Oops("failed early")
    caught = []

    def failing():
        raise error
        yield

    def late(target):
        for _ in range(3):
            yield
        try:
            yield from traps.join(target)
        except Oops as exc:
            caught.append(exc)

    kernel.spawn(failing())
    kernel.spawn(late(1))
    run(kernel, "a task joining task 1 after it failed")
    if caught != [error]:
        fail(call="yield from join(1) after task 1 raised Oops", expected="that Oops raised in the joiner", got=describe(caught),
             cause="a failed task's exception is kept in exceptions: throw it into a late joiner")


@check("join")
def test_join_a_finished_task_and_many_joiners(impl, rng):
    """Joining a task that already finished answers at once; several joiners all get the result."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    got = []

    def quick():
        return "quick"
        yield

    def slow(steps):
        for _ in range(steps):
            yield
        return "slow"

    def joiner(target, wait):
        for _ in range(wait):
            yield
        got.append((yield from traps.join(target)))

    q = kernel.spawn(quick())
    s = kernel.spawn(slow(rng.randint(3, 6)))
    for _ in range(3):
        kernel.spawn(joiner(s, rng.randint(0, 2)))
    kernel.spawn(joiner(q, 3))
    run(kernel, "joiners of a finished task and of a slow task")
    if sorted(got) != ["quick", "slow", "slow", "slow"]:
        fail(call="three tasks join a slow task, one joins a finished task", expected="['slow', 'slow', 'slow'] and 'quick'",
             got=describe(got), cause="keep a list of joiners per task and resume them all; a finished task's result is sent at once")


@check("join")
def test_join_unknown_id_raises_key_error(impl):
    """Joining an id that was never handed out (0, the next id, 999) raises KeyError(id) in the joiner."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    caught = []

    def lost(target):
        try:
            yield from traps.join(target)
        except KeyError as exc:
            caught.append(exc.args)

    kernel.spawn(lost(0))
    kernel.spawn(lost(4))  # these three tasks are ids 1-3; 4 is the next id and is never handed out
    kernel.spawn(lost(999))
    run(kernel, "tasks joining ids 0, 4 and 999")
    if sorted(caught) != [(0,), (4,), (999,)]:
        fail(call="yield from join(0), join(4) (never spawned), join(999)", expected="KeyError(0), KeyError(4), KeyError(999) raised in the joiners",
             got=describe(caught), cause="an id that was never handed out cannot finish: throw KeyError(id) into the joiner instead of waiting forever")


@check("join")
def test_join_the_first_task(impl):
    """Task 1 is a task like any other: another task can wait for it."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    got = []

    def slow():
        for _ in range(3):
            yield
        return "first"

    def waiter():
        got.append((yield from traps.join(1)))

    kernel.spawn(slow())
    kernel.spawn(waiter())
    run(kernel, "task 2 joins task 1 while it runs")
    if got != ["first"]:
        fail(call="task 2: yield from join(1), task 1 still running", expected="'first'", got=describe(got), cause="valid ids run from 1 to the last one handed out")


@check("unknown_trap")
def test_unhandled_unknown_trap_fails_only_that_task(impl, rng):
    """A task that does not catch the error lands in exceptions; the others finish."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    strange = rng.choice([42, "sleep", ("nope",), ["get_id"], ()])

    def bad():
        yield strange

    def good(k):
        for _ in range(k):
            yield
        return k

    bad_id = kernel.spawn(bad())
    good_ids = [kernel.spawn(good(k)) for k in range(1, 4)]
    run(kernel, f"a task yielding {strange!r} and three good tasks")
    exceptions = table(kernel, "exceptions", "run()")
    results = table(kernel, "results", "run()")
    if not isinstance(dict.get(exceptions, bad_id, None), RuntimeError):
        fail(call=f"a task yielding {strange!r}", expected="exceptions[its id] is a RuntimeError", got=describe(exceptions),
             cause="an unknown trap is thrown into the task as RuntimeError; uncaught, the task fails like any other")
    if [dict.get(results, i, None) for i in good_ids] != [1, 2, 3]:
        fail(call="three good tasks beside a bad one", expected="results 1, 2, 3", got=describe(results), cause="one bad task must not stop the kernel")
### END HIDDEN TESTS
