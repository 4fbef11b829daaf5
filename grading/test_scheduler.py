"""Tests for exercise 4, Scheduler: many tasks, taking turns."""

from collections import deque

from coopkit.harness import check, describe, fail

MISSING = object()


class Marker:
    """A return value with an identity of its own."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<result of {self.name}>"


class Oops(Exception):
    """An ordinary error raised by a task."""


class Abort(BaseException):
    """Not an Exception: the scheduler must let it through."""


class Plan:
    """What one task does: ``steps`` yields, optional spawns at some steps, then return or raise."""

    def __init__(self, name, steps, *, spawns=None, error=None):
        self.name = name
        self.steps = steps
        self.spawns = spawns or {}
        self.error = error
        self.result = Marker(name)

    def run(self, scheduler, log):
        """The task's generator: logs every step it takes."""
        for step in range(self.steps):
            log.append((self.name, step))
            for child in self.spawns.get(step, ()):
                scheduler.add(child.run(scheduler, log))
            yield
        if self.error is not None:
            log.append((self.name, "raise"))
            raise self.error
        log.append((self.name, "end"))
        return self.result


def expected_log(plans):
    """The log a FIFO round-robin scheduler produces for ``plans``."""
    queue = deque((plan, 0) for plan in plans)
    log = []
    while queue:
        plan, step = queue.popleft()
        if step < plan.steps:
            log.append((plan.name, step))
            queue.extend((child, 0) for child in plan.spawns.get(step, ()))
            queue.append((plan, step + 1))
        else:
            log.append((plan.name, "raise" if plan.error is not None else "end"))
    return log


def fresh_scheduler(impl):
    Scheduler = impl.attr("scheduler", "Scheduler", fresh=True)
    return Scheduler()


def describe_plans(plans):
    return ", ".join(f"{plan.name} ({plan.steps} step{'s' * (plan.steps != 1)})" for plan in plans)


def start(scheduler, plans, log):
    """Add every plan's generator; give back the generators and what add() returned."""
    gens = [plan.run(scheduler, log) for plan in plans]
    returned = [scheduler.add(gen) for gen in gens]
    return gens, returned


def task_ids(scheduler, gens, returned):
    """The id of each generator's task, read from scheduler.tasks (falling back to add()'s answers)."""
    found = {}
    try:
        for task in scheduler.tasks:
            for index, gen in enumerate(gens):
                if getattr(task, "gen", None) is gen:
                    found[index] = getattr(task, "id", None)
    except Exception:  # noqa: BLE001 - a broken tasks attribute leaves add()'s answers
        pass
    if len(found) == len(gens):
        return [found[index] for index in range(len(gens))]
    return returned


def run(scheduler, call):
    try:
        scheduler.run()
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - name what escaped
        fail(
            call=call,
            expected="run() to return once every task is done",
            got=f"run() raised {type(exc).__name__}: {describe(str(exc))}",
            cause="a task's exception must be stored in scheduler.exceptions, not left to escape",
        )


def check_order(impl, plans, label):
    scheduler = fresh_scheduler(impl)
    log = []
    gens, _ = start(scheduler, plans, log)
    call = f"{label}: Scheduler with {describe_plans(plans)}, then run()"
    try:
        waiting = [getattr(task, "gen", None) for task in scheduler.tasks]
    except Exception:  # noqa: BLE001
        waiting = None
    if waiting is None or len(waiting) != len(gens) or any(a is not b for a, b in zip(waiting, gens)):
        fail(
            call=f"{len(gens)} × scheduler.add(gen), then iterating scheduler.tasks",
            expected="the waiting tasks in the order they were added, first in front",
            got="a different order" if waiting and len(waiting) == len(gens) else describe(waiting),
            cause="append new tasks on the right of the deque (append, not appendleft)",
        )
    run(scheduler, call)
    want = expected_log(plans)
    if log != want:
        first = next((i for i, (a, b) in enumerate(zip(log, want)) if a != b), min(len(log), len(want)))
        cause = "take tasks from the left (popleft), advance each by one next(), append unfinished ones on the right"
        if log and want and log[0][0] == plans[-1].name != want[0][0]:
            cause = "the last task added ran first: take tasks from the front with popleft(), not pop()"
        elif log and want and all(entry[0] == log[0][0] for entry in log[: plans[0].steps + 1]) and len(plans) > 1:
            cause = "one task ran to its end before the others started: advance each task by a single next() per turn"
        fail(
            call=call,
            expected=f"steps in this order: {describe(want[first:first + 6])} from step {first + 1} on",
            got=describe(log[first:first + 6]),
            cause=cause,
        )
    try:
        left = list(scheduler.tasks)
    except Exception:  # noqa: BLE001
        left = ["<unreadable>"]
    if left:
        fail(call=call, expected="scheduler.tasks empty after run()", got=f"{len(left)} task(s) left", cause="finished tasks are put back in the queue")
    return scheduler


def missing_result_cause(scheduler, task_id, default):
    """Name the classic mistake when a finished task's StopIteration landed in exceptions."""
    exceptions = getattr(scheduler, "exceptions", None)
    if isinstance(exceptions, dict) and isinstance(dict.get(exceptions, task_id), StopIteration):
        return ("`except Exception` comes before `except StopIteration` and catches it too "
                "(StopIteration is an Exception): put `except StopIteration` first")
    return default


def results_of(scheduler, name, call):
    table = getattr(scheduler, name, MISSING)
    if not isinstance(table, dict):
        fail(call=call, expected=f"scheduler.{name} to be a dict", got=describe(table), cause=f"set self.{name} = {{}} in __init__")
    return table


@check("interleaving")
def test_round_robin_order(impl):
    """Three tasks of 3, 1 and 2 steps take turns, one step each."""
    check_order(impl, [Plan("A", 3), Plan("B", 1), Plan("C", 2)], "round robin")


@check("stop_value")
def test_results_by_id(impl):
    """scheduler.results maps each task's id to its return value."""
    check_results(impl, [Plan("A", 2), Plan("B", 1)], "store StopIteration's .value under the task's id when a task finishes")


def check_results(impl, plans, cause):
    """Run ``plans`` on a fresh Scheduler; every task's return value must sit in results under its id."""
    scheduler = fresh_scheduler(impl)
    log = []
    gens, returned = start(scheduler, plans, log)
    ids = task_ids(scheduler, gens, returned)
    call = f"Scheduler with {describe_plans(plans)}, then run()"
    run(scheduler, call)
    results = results_of(scheduler, "results", call)
    for plan, task_id in zip(plans, ids):
        got = dict.get(results, task_id, MISSING)
        if got is not plan.result:
            fail(
                call=call,
                expected=f"results[{describe(task_id)}] is {plan.result!r}",
                got="no such key" if got is MISSING else describe(got),
                cause=missing_result_cause(scheduler, task_id, cause),
            )


@check("exception_capture")
def test_failed_task_is_recorded(impl):
    """A task that raises lands in scheduler.exceptions; the others still finish."""
    scheduler = fresh_scheduler(impl)
    error = Oops("task B failed")
    plans = [Plan("A", 2), Plan("B", 1, error=error), Plan("C", 2)]
    check_failure(scheduler, plans, {1: error}, "A, B (raises Oops after 1 step), C")


@check("id_assignment")
def test_add_returns_task_id(impl):
    """add() returns the id of the task it created."""
    check_add_ids(impl, 3)


def check_failure(scheduler, plans, errors, label):
    """Run ``plans`` (those at the indexes in ``errors`` raise) and check what was recorded."""
    log = []
    gens, returned = start(scheduler, plans, log)
    ids = task_ids(scheduler, gens, returned)
    call = f"Scheduler with {label}, then run()"
    run(scheduler, call)
    exceptions = results_of(scheduler, "exceptions", call)
    for index, error in errors.items():
        plan, task_id = plans[index], ids[index]
        got = dict.get(exceptions, task_id, MISSING)
        if got is not error:
            fail(
                call=call,
                expected=f"exceptions[{describe(task_id)}] is the {type(error).__name__} task {plan.name} raised",
                got="no such key" if got is MISSING else describe(got),
                cause="catch Exception around next(task.gen) and store it under task.id",
            )
        after = [entry for entry in log if entry[0] == plan.name and entry[1] not in range(plan.steps)]
        results = getattr(scheduler, "results", {})
        if len(after) != 1 or (isinstance(results, dict) and dict.__contains__(results, task_id)):
            fail(
                call=call,
                expected=f"task {plan.name} dropped after it raised",
                got="it was run again",
                cause="a task that raised must not go back in the queue",
            )
    for index, plan in enumerate(plans):
        if index not in errors and (plan.name, "end") not in log:
            fail(
                call=call,
                expected=f"task {plan.name} to run to its end",
                got=f"task {plan.name} never finished",
                cause="one task's error stopped the others: record it and carry on",
            )


def check_add_ids(impl, count, extra=0):
    scheduler = fresh_scheduler(impl)
    log = []
    plans = [Plan(f"T{n}", n % 3) for n in range(count)]
    gens = [plan.run(scheduler, log) for plan in plans]
    returned = []
    for gen in gens:
        task_id = scheduler.add(gen)
        try:
            new = next((task for task in scheduler.tasks if getattr(task, "gen", None) is gen), None)
        except Exception:  # noqa: BLE001
            new = None
        if type(task_id) is not int or type(getattr(new, "id", None)) is not int or new.id != task_id:
            fail(
                call=f"scheduler.add(gen) #{len(returned) + 1}",
                expected=f"the id of the new task (the Task holding gen in scheduler.tasks has id {describe(getattr(new, 'id', None))})",
                got=describe(task_id),
                cause="add must return task.id" + (" (it returns nothing)" if task_id is None else ""),
            )
        returned.append(task_id)
    if len(set(returned)) != len(returned):
        fail(call=f"{count} × scheduler.add(gen)", expected="a different id for every task", got=describe(returned), cause="every add must create a new Task")
    call = f"{count} × scheduler.add(gen), then run()"
    run(scheduler, call)
    keys = set(dict.keys(results_of(scheduler, "results", call))) | set(dict.keys(results_of(scheduler, "exceptions", call)))
    if keys != set(returned):
        fail(
            call=call,
            expected=f"results keyed by the ids add() returned: {describe(sorted(returned))}",
            got=f"keys {describe(sorted(keys, key=repr))}",
            cause="use task.id as the key, not the task or the generator",
        )


### BEGIN HIDDEN TESTS
@check("interleaving")
def test_round_robin_random(impl, rng):
    """Tasks of unequal lengths interleave in FIFO round-robin order."""
    for round_ in range(8):
        plans = [Plan(chr(65 + n), rng.randint(0, 6)) for n in range(rng.randint(1, 6))]
        check_order(impl, plans, f"case {round_ + 1}")


@check("interleaving")
def test_tasks_added_during_run(impl, rng):
    """A task added while run() is running joins the back of the queue and runs."""
    child = Plan("child", 2)
    grandchild = Plan("grandchild", 1)
    plans = [Plan("parent", 3, spawns={0: [child], 2: [grandchild]}), Plan("other", 3)]
    check_order(impl, plans, "spawning")
    for round_ in range(4):
        plans = []
        for n in range(rng.randint(1, 4)):
            steps = rng.randint(1, 5)
            spawns = {rng.randrange(steps): [Plan(f"{chr(97 + n)}{k}", rng.randint(0, 3)) for k in range(rng.randint(1, 2))]}
            plans.append(Plan(chr(65 + n), steps, spawns=spawns))
        check_order(impl, plans, f"spawning case {round_ + 1}")


@check("interleaving")
def test_empty_and_repeated_runs(impl):
    """run() on an empty scheduler returns; adding after a run and running again works."""
    scheduler = fresh_scheduler(impl)
    run(scheduler, "Scheduler().run() with no task")
    log = []
    start(scheduler, [Plan("late", 2)], log)
    run(scheduler, "add a task after a first run(), then run() again")
    if log != [("late", 0), ("late", 1), ("late", "end")]:
        fail(call="add a task after a first run(), then run() again", expected="the task runs to its end", got=describe(log), cause="run() must work on whatever is in the queue")


@check("interleaving")
def test_one_step_per_turn(impl, rng):
    """Each turn advances a task by exactly one next()."""
    steps = rng.randint(3, 7)
    check_order(impl, [Plan("solo", steps)], "a single task")
    check_order(impl, [Plan("long", steps + 5), Plan("short", 1)], "long and short")


@check("stop_value")
def test_results_random(impl, rng):
    """results holds every finished task's return value, None included."""
    for _ in range(5):
        plans = [Plan(chr(65 + n), rng.randint(0, 5)) for n in range(rng.randint(1, 7))]
        for plan in plans:
            if rng.random() < 0.3:
                plan.result = None
        check_results(impl, plans, "every finished task's StopIteration.value belongs in results, even None")


@check("stop_value")
def test_results_of_spawned_tasks(impl):
    """Tasks added during run() get their results recorded too."""
    scheduler = fresh_scheduler(impl)
    child = Plan("child", 1)
    log = []
    parent = Plan("parent", 2)

    def spawning():
        scheduler.add(child.run(scheduler, log))
        yield
        return parent.result

    scheduler.add(spawning())
    run(scheduler, "a task that adds a child task, then run()")
    results = results_of(scheduler, "results", "run()")
    values = set(map(id, dict.values(results)))
    if id(child.result) not in values or id(parent.result) not in values:
        fail(
            call="a task that adds a child task, then run()",
            expected="results for both the parent and the child",
            got=describe(results),
            cause="tasks added during run() must be run and recorded like the others",
        )


@check("exception_capture")
def test_failures_random(impl, rng):
    """Failing tasks are recorded, dropped, and the others finish."""
    for _ in range(4):
        scheduler = fresh_scheduler(impl)
        plans = [Plan(chr(65 + n), rng.randint(0, 4)) for n in range(rng.randint(2, 6))]
        failing = rng.sample(range(len(plans)), rng.randint(1, len(plans) - 1))
        errors = {}
        for index in failing:
            errors[index] = plans[index].error = rng.choice([Oops, ValueError, KeyError, ZeroDivisionError])(plans[index].name)
        check_failure(scheduler, plans, errors, describe_plans(plans) + f" (tasks {', '.join(plans[i].name for i in failing)} raise)")


@check("interleaving")
def test_order_after_a_failure(impl):
    """After a failure, the remaining tasks keep their round-robin order."""
    plans = [Plan("A", 3), Plan("B", 1, error=Oops("boom")), Plan("C", 3)]
    scheduler = fresh_scheduler(impl)
    log = []
    start(scheduler, plans, log)
    try:
        scheduler.run()
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001 - capturing errors is exception_capture's business: judge the order so far
        pass
    want = expected_log(plans)[: len(log)] if log and log[-1] == ("B", "raise") else expected_log(plans)
    if log != want:
        fail(
            call="Scheduler with A (3 steps), B (raises after 1 step), C (3 steps), then run()",
            expected=f"steps in this order: {describe(want)}",
            got=describe(log),
            cause="after a failed task is dropped, keep taking the others from the left, one step each",
        )


@check("exception_capture")
def test_base_exceptions_propagate(impl):
    """KeyboardInterrupt and other non-Exceptions stop run() instead of being stored."""
    for error in (Abort("stop"), KeyboardInterrupt()):
        scheduler = fresh_scheduler(impl)
        log = []
        start(scheduler, [Plan("A", 2), Plan("B", 1, error=error)], log)
        call = f"Scheduler with a task that raises {type(error).__name__}, then run()"
        try:
            scheduler.run()
        except BaseException as caught:  # noqa: BLE001 - compare what came out
            if caught is not error:
                fail(call=call, expected=f"that {type(error).__name__} to come out of run()", got=f"{type(caught).__name__}", cause="re-raise non-Exception errors unchanged")
            continue
        fail(
            call=call,
            expected=f"the {type(error).__name__} to stop run()",
            got="run() returned normally",
            cause="`except BaseException` or a bare `except:` swallows it: catch Exception only",
        )


@check("exception_capture")
def test_exception_not_in_results(impl):
    """A task that raised has no entry in results; a finished one has none in exceptions."""
    scheduler = fresh_scheduler(impl)
    error = ValueError("bad")
    plans = [Plan("ok", 1), Plan("bad", 2, error=error)]
    log = []
    gens, returned = start(scheduler, plans, log)
    ids = task_ids(scheduler, gens, returned)
    call = "Scheduler with one finishing and one failing task, then run()"
    run(scheduler, call)
    results = results_of(scheduler, "results", call)
    exceptions = results_of(scheduler, "exceptions", call)
    if dict.__contains__(results, ids[1]):
        fail(call=call, expected="no results entry for the task that raised", got=describe(dict.get(results, ids[1])), cause="the failed task is put back and finished later")
    if dict.__contains__(exceptions, ids[0]) and not isinstance(dict.get(exceptions, ids[0]), StopIteration):
        fail(call=call, expected="no exceptions entry for the task that finished", got=describe(dict.get(exceptions, ids[0])), cause="results and exceptions mixed up")


@check("id_assignment")
def test_add_ids_many(impl, rng):
    """add() returns each new task's id, and results/exceptions use those ids."""
    check_add_ids(impl, rng.randint(4, 20))


@check("id_assignment")
def test_ids_with_failures(impl):
    """Ids of failed tasks key scheduler.exceptions."""
    scheduler = fresh_scheduler(impl)
    log = []
    plans = [Plan("A", 1), Plan("B", 1, error=Oops("B")), Plan("C", 0, error=Oops("C"))]
    gens = [plan.run(scheduler, log) for plan in plans]
    returned = [scheduler.add(gen) for gen in gens]
    call = "three tasks (two of them raise) added, then run()"
    try:
        scheduler.run()
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001 - catching task errors is exception_capture's business, not this check's
        return
    exceptions = results_of(scheduler, "exceptions", call)
    keys = set(dict.keys(exceptions))
    if not set(returned[1:]) <= keys or not keys <= set(returned):
        fail(
            call=call,
            expected=f"exceptions keyed by the ids add() returned for B and C: {describe(returned[1:])}",
            got=f"keys {describe(sorted(dict.keys(exceptions), key=repr))}",
            cause="add must return task.id, and exceptions must be keyed by it",
        )
### END HIDDEN TESTS
