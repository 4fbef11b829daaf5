"""Tests for exercise 4, Scheduler: many tasks, taking turns.

Each test observes (``test_*``: runs a Scheduler on planned tasks, returns plain
data) and is judged by its verify half (``verify_*``: decides from that data
alone). Both halves build the same plans (``*_case``/``*_cases`` functions),
drawing any hidden inputs from ``rng`` in the same order.
"""

import sys
from collections import deque
from pathlib import Path

from coopkit.harness import DESCRIBE_LIMIT, TestTimeout, check, clean_fields, describe, fail, raised_in

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


def describe_plans(plans):
    return ", ".join(f"{plan.name} ({plan.steps} step{'s' * (plan.steps != 1)})" for plan in plans)


RUN_RAISED_CAUSE = "a task's exception must be stored in scheduler.exceptions, not left to escape"
APPENDLEFT_CAUSE = (
    "an unfinished task is put back on the left (appendleft), so popleft() takes the same task "
    "again at once and it runs to its end: put it back on the right, with append()"
)
OWN_ERROR_CAUSE = (
    "the error was raised by your own code (the line named above), not by a task: "
    "a bug in run() or a method it calls, such as a misspelt name"
)
EXCEPT_ORDER_CAUSE = (
    "`except Exception` comes before `except StopIteration` and catches it too "
    "(StopIteration is an Exception): put `except StopIteration` first"
)


# -- the cases (both halves build them, drawing from rng in the same order) ----------


def round_robin_case():
    return [Plan("A", 3), Plan("B", 1), Plan("C", 2)], "round robin"


def results_by_id_plans():
    return [Plan("A", 2), Plan("B", 1)]


def failed_task_case():
    """``(plans, errors, label)``: ``errors`` maps the index of each failing plan to its exception."""
    error = Oops("task B failed")
    plans = [Plan("A", 2), Plan("B", 1, error=error), Plan("C", 2)]
    return plans, {1: error}, "A, B (raises Oops after 1 step), C"


def random_order_cases(rng):
    cases = []
    for round_ in range(8):
        plans = [Plan(chr(65 + n), rng.randint(0, 6)) for n in range(rng.randint(1, 6))]
        cases.append((plans, f"case {round_ + 1}"))
    return cases


def spawning_cases(rng):
    child = Plan("child", 2)
    grandchild = Plan("grandchild", 1)
    cases = [([Plan("parent", 3, spawns={0: [child], 2: [grandchild]}), Plan("other", 3)], "spawning")]
    for round_ in range(4):
        plans = []
        for n in range(rng.randint(1, 4)):
            steps = rng.randint(1, 5)
            spawns = {rng.randrange(steps): [Plan(f"{chr(97 + n)}{k}", rng.randint(0, 3)) for k in range(rng.randint(1, 2))]}
            plans.append(Plan(chr(65 + n), steps, spawns=spawns))
        cases.append((plans, f"spawning case {round_ + 1}"))
    return cases


def one_step_cases(rng):
    steps = rng.randint(3, 7)
    return [([Plan("solo", steps)], "a single task"), ([Plan("long", steps + 5), Plan("short", 1)], "long and short")]


def random_results_plans(rng):
    rounds = []
    for _ in range(5):
        plans = [Plan(chr(65 + n), rng.randint(0, 5)) for n in range(rng.randint(1, 7))]
        for plan in plans:
            if rng.random() < 0.3:
                plan.result = None
        rounds.append(plans)
    return rounds


def random_failure_cases(rng):
    cases = []
    for _ in range(4):
        plans = [Plan(chr(65 + n), rng.randint(0, 4)) for n in range(rng.randint(2, 6))]
        failing = rng.sample(range(len(plans)), rng.randint(1, len(plans) - 1))
        errors = {}
        for index in failing:
            errors[index] = plans[index].error = rng.choice([Oops, ValueError, KeyError, ZeroDivisionError])(plans[index].name)
        cases.append((plans, errors, describe_plans(plans) + f" (tasks {', '.join(plans[i].name for i in failing)} raise)"))
    return cases


def order_after_failure_plans():
    return [Plan("A", 3), Plan("B", 1, error=Oops("boom")), Plan("C", 3)]


def add_ids_plans(count):
    return [Plan(f"T{n}", n % 3) for n in range(count)]


def ids_with_failures_plans():
    return [Plan("A", 1), Plan("B", 1, error=Oops("B")), Plan("C", 0, error=Oops("C"))]


# -- observing (runs beside the code under test) --------------------------------


def fresh_scheduler(impl):
    Scheduler = impl.attr("scheduler", "Scheduler", fresh=True)
    return Scheduler()


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


def type_name(value):
    name = getattr(type(value), "__name__", "?")
    return name if type(name) is str else "?"


def which(value, known):
    """``value`` as data: ``{"is": name}`` when it is one of the ``known`` objects, else its type name and repr."""
    for name, obj in known.items():
        if value is obj:
            return {"is": name}
    return {"type": type_name(value), "repr": describe(value)}


def entry(table, key, known=None):
    """What the dict ``table`` holds under ``key``: None for no such key, else ``which(value, known)``."""
    value = dict.get(table, key, MISSING)
    if value is MISSING:
        return None
    return which(value, known or {})


def as_id(value):
    """An id as data: an int as itself, anything else as its type name and repr."""
    if type(value) is int:
        return value
    return {"type": type_name(value), "repr": describe(value)}


def positions_of(values):
    """``{value: [indexes where it occurs]}`` for the hashable ``values`` (the others can be no dict key)."""
    positions = {}
    for index, value in enumerate(values):
        try:
            positions.setdefault(value, []).append(index)
        except TypeError:
            continue
    return positions


def logged(log):
    """The log of steps as data: a list of [name, step]."""
    return [list(step) for step in log]


def code_folder(obj):
    """The folder of the module that defines ``obj``'s class: the implementation under test."""
    module = sys.modules.get(getattr(type(obj), "__module__", None) or "")
    return Path(getattr(module, "__file__", None) or __file__).resolve().parent


def run_error(scheduler):
    """Run the scheduler: None when run() returned, else the type name and text of the Exception that escaped,
    with the file and line that raised it when that was the implementation's own code, not a task."""
    try:
        scheduler.run()
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - name what escaped
        return {"type": type_name(exc), "text": describe(str(exc)), **raised_in(exc, code_folder(scheduler))}
    return None


def read_tables(scheduler, names, seen):
    """``{name: scheduler.<name>}`` when each is a dict; else None, with the first one that is not in ``seen``."""
    tables = {}
    for name in names:
        table = getattr(scheduler, name, MISSING)
        if not isinstance(table, dict):
            seen["not_a_dict"] = {name: describe(table)}
            return None
        tables[name] = table
    return tables


def stopped(seen):
    """True when an observation ended early (run() raised, or a table is not a dict)."""
    return seen.get("run_error") is not None or "not_a_dict" in seen


def waiting_order(scheduler, gens):
    """The waiting tasks as data: for each task in scheduler.tasks, the index of the generator it holds."""
    try:
        waiting = [getattr(task, "gen", None) for task in scheduler.tasks]
    except Exception:  # noqa: BLE001 - an unreadable queue
        return {"order": None, "text": describe(None)}
    order = [next((index for index, gen in enumerate(gens) if gen is held), None) for held in waiting]
    return {"order": order, "text": describe(waiting)}


def queue_length(scheduler):
    """How many tasks are left in scheduler.tasks; None when it cannot be read."""
    try:
        return len(list(scheduler.tasks))
    except Exception:  # noqa: BLE001
        return None


class WatchedQueue(deque):
    """A deque that notes which of its ends run() takes tasks from and puts them back on."""

    def __init__(self, items=()):
        super().__init__(items)
        self.calls = []

    def _note(self, name):
        if name not in self.calls:
            self.calls.append(name)

    def append(self, item):
        self._note("append")
        super().append(item)

    def appendleft(self, item):
        self._note("appendleft")
        super().appendleft(item)

    def pop(self):
        self._note("pop")
        return super().pop()

    def popleft(self):
        self._note("popleft")
        return super().popleft()


def queue_calls(impl):
    """A second, small run with scheduler.tasks watched: the deque methods run() called, in first-use order
    (None when tasks is not a plain deque or that run fails)."""
    scheduler = fresh_scheduler(impl)
    log = []
    start(scheduler, [Plan("P", 2), Plan("Q", 2)], log)
    queue = getattr(scheduler, "tasks", None)
    if type(queue) is not deque:
        return None
    scheduler.tasks = watched = WatchedQueue(queue)
    try:
        scheduler.run()
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001 - the main observation reports the error
        return None
    return list(watched.calls)


def observe_order(impl, plans):
    """Add ``plans``, read the queue, run: the queue order, what run() did, the log of steps, the tasks left,
    and the deque methods run() uses (from a second run, to tell the likely causes of a wrong order apart)."""
    scheduler = fresh_scheduler(impl)
    log = []
    gens, _ = start(scheduler, plans, log)
    seen = {"waiting": waiting_order(scheduler, gens), "run_error": run_error(scheduler), "log": logged(log)}
    if seen["run_error"] is None:
        seen["left"] = queue_length(scheduler)
        if logged(log) != logged(expected_log(plans)):
            seen["queue_calls"] = queue_calls(impl)
    return seen


def observe_orders(impl, cases):
    seen = []
    for plans, _ in cases:
        seen.append(observe_order(impl, plans))
        if stopped(seen[-1]):
            break
    return seen


def observe_results(impl, plans):
    """Run ``plans``: for each task, what results (and exceptions) hold under its id."""
    scheduler = fresh_scheduler(impl)
    log = []
    gens, returned = start(scheduler, plans, log)
    ids = task_ids(scheduler, gens, returned)
    seen = {"ids": [describe(task_id) for task_id in ids], "run_error": run_error(scheduler)}
    if seen["run_error"] is not None:
        return seen
    tables = read_tables(scheduler, ("results",), seen)
    if tables is None:
        return seen
    seen["results"] = [entry(tables["results"], task_id, {"result": plan.result}) for plan, task_id in zip(plans, ids)]
    exceptions = getattr(scheduler, "exceptions", None)
    seen["exceptions"] = [entry(exceptions, task_id) if isinstance(exceptions, dict) else None for task_id in ids]
    return seen


def observe_failure(impl, plans):
    """Run ``plans`` (some raise): the log, what exceptions holds under each id, which ids are in results."""
    scheduler = fresh_scheduler(impl)
    log = []
    gens, returned = start(scheduler, plans, log)
    ids = task_ids(scheduler, gens, returned)
    seen = {"ids": [describe(task_id) for task_id in ids], "run_error": run_error(scheduler), "log": logged(log)}
    if seen["run_error"] is not None:
        return seen
    tables = read_tables(scheduler, ("exceptions",), seen)
    if tables is None:
        return seen
    seen["exceptions"] = [
        entry(tables["exceptions"], task_id, {"error": plan.error} if plan.error is not None else {})
        for plan, task_id in zip(plans, ids)
    ]
    results = getattr(scheduler, "results", {})
    seen["in_results"] = [index for index, task_id in enumerate(ids) if isinstance(results, dict) and dict.__contains__(results, task_id)]
    return seen


def observe_add_ids(impl, count):
    """Add ``count`` tasks, then run: each add()'s answer beside the id of the Task holding gen, then the keys stored."""
    scheduler = fresh_scheduler(impl)
    log = []
    gens = [plan.run(scheduler, log) for plan in add_ids_plans(count)]
    returned = []
    adds = []
    for gen in gens:
        task_id = scheduler.add(gen)
        try:
            new = next((task for task in scheduler.tasks if getattr(task, "gen", None) is gen), None)
        except Exception:  # noqa: BLE001
            new = None
        adds.append({"returned": as_id(task_id), "task_id": as_id(getattr(new, "id", None))})
        returned.append(task_id)
    seen = {"adds": adds, "run_error": run_error(scheduler)}
    if seen["run_error"] is not None:
        return seen
    tables = read_tables(scheduler, ("results", "exceptions"), seen)
    if tables is None:
        return seen
    keys = set(dict.keys(tables["results"])) | set(dict.keys(tables["exceptions"]))
    positions = positions_of(returned)
    seen["keys"] = [{"id": as_id(key), "added": positions.get(key, [])} for key in keys]
    return seen


# -- judging (runs in the grader, on the data alone) ------------------------------


def show(value):
    """How an id sent by ``as_id`` reads in a message."""
    if isinstance(value, dict):
        return str(value.get("repr"))
    return repr(value)


def clip(text):
    text = " ".join(text.split())
    return text if len(text) <= DESCRIBE_LIMIT else text[: DESCRIBE_LIMIT - 3] + "..."


def show_list(values):
    return clip("[" + ", ".join(show(value) for value in values) + "]")


def steps_of(seen):
    return [tuple(step) for step in seen.get("log") or []]


def judge_run(seen, call):
    error = seen.get("run_error")
    if error is not None:
        where = clean_fields("raised", error) if isinstance(error, dict) else {}
        if where.get("file") and where.get("line"):
            fail(
                call=call,
                expected="run() to return once every task is done",
                got=f"run() itself raised {error.get('type')} at {where['file']} line {where['line']}: {error.get('text')}",
                cause=OWN_ERROR_CAUSE,
            )
        fail(
            call=call,
            expected="run() to return once every task is done",
            got=f"run() raised {error.get('type')}: {error.get('text')}",
            cause=RUN_RAISED_CAUSE,
        )


def judge_tables(seen, call, names):
    bad = seen.get("not_a_dict") or {}
    for name in names:
        if name in bad:
            fail(call=call, expected=f"scheduler.{name} to be a dict", got=bad[name], cause=f"set self.{name} = {{}} in __init__")


def judge_order(seen, plans, label):
    call = f"{label}: Scheduler with {describe_plans(plans)}, then run()"
    waiting = seen.get("waiting") or {}
    order = waiting.get("order")
    if order != list(range(len(plans))):
        fail(
            call=f"{len(plans)} × scheduler.add(gen), then iterating scheduler.tasks",
            expected="the waiting tasks in the order they were added, first in front",
            got="a different order" if order and len(order) == len(plans) else waiting.get("text"),
            cause="append new tasks on the right of the deque (append, not appendleft)",
        )
    judge_run(seen, call)
    log = steps_of(seen)
    want = expected_log(plans)
    if log != want:
        first = next((i for i, (a, b) in enumerate(zip(log, want)) if a != b), min(len(log), len(want)))
        cause = "take tasks from the left (popleft), advance each by one next(), append unfinished ones on the right"
        if log and want and log[0][0] == plans[-1].name != want[0][0]:
            cause = "the last task added ran first: take tasks from the front with popleft(), not pop()"
        elif log and want and all(entry[0] == log[0][0] for entry in log[: plans[0].steps + 1]) and len(plans) > 1:
            cause = "one task ran to its end before the others started: advance each task by a single next() per turn"
            if "appendleft" in (seen.get("queue_calls") or ()):
                cause = APPENDLEFT_CAUSE
        fail(
            call=call,
            expected=f"steps in this order: {describe(want[first:first + 6])} from step {first + 1} on",
            got=describe(log[first:first + 6]),
            cause=cause,
        )
    left = seen.get("left")
    if left != 0:
        fail(
            call=call,
            expected="scheduler.tasks empty after run()",
            got=f"{1 if left is None else left} task(s) left",
            cause="finished tasks are put back in the queue",
        )


def judge_orders(seen, cases):
    for index, (plans, label) in enumerate(cases):
        judge_order(seen[index] if index < len(seen) else {}, plans, label)


def judge_results(seen, plans, cause):
    """Every task's return value must sit in results under its id."""
    call = f"Scheduler with {describe_plans(plans)}, then run()"
    judge_run(seen, call)
    judge_tables(seen, call, ("results",))
    results, exceptions, ids = seen.get("results") or [], seen.get("exceptions") or [], seen.get("ids") or []
    for index, plan in enumerate(plans):
        got = results[index] if index < len(results) else None
        if got != {"is": "result"}:
            stored = exceptions[index] if index < len(exceptions) else None
            landed = isinstance(stored, dict) and stored.get("type") == "StopIteration"
            key = ids[index] if index < len(ids) else "?"
            fail(
                call=call,
                expected=f"results[id of task {plan.name}] is {plan.result!r}",
                got=f"no key {key} in results" if not isinstance(got, dict) else f"results[{key}] is {got.get('repr')}",
                cause=EXCEPT_ORDER_CAUSE if landed else cause,
            )


def judge_failure(seen, plans, errors, label):
    """The failing tasks' exceptions recorded under their ids, those tasks dropped, the others finished."""
    call = f"Scheduler with {label}, then run()"
    judge_run(seen, call)
    judge_tables(seen, call, ("exceptions",))
    log = steps_of(seen)
    stored, ids, in_results = seen.get("exceptions") or [], seen.get("ids") or [], seen.get("in_results") or []
    for index, error in errors.items():
        plan = plans[index]
        got = stored[index] if index < len(stored) else None
        if got != {"is": "error"}:
            key = ids[index] if index < len(ids) else "?"
            fail(
                call=call,
                expected=f"exceptions[id of task {plan.name}] is the {type(error).__name__} task {plan.name} raised",
                got=f"no key {key} in exceptions" if not isinstance(got, dict) else f"exceptions[{key}] is {got.get('repr')}",
                cause="catch Exception around next(task.gen) and store it under task.id",
            )
        after = [entry for entry in log if entry[0] == plan.name and entry[1] not in range(plan.steps)]
        if len(after) != 1 or index in in_results:
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


def judge_add_ids(seen, count):
    adds = seen.get("adds") or []
    if len(adds) != count:
        fail(call=f"{count} × scheduler.add(gen)", expected=f"{count} answers from add()", got=f"{len(adds)}", cause="every add must create a new Task")
    returned = []
    for number, add in enumerate(adds, start=1):
        task_id, new_id = add.get("returned"), add.get("task_id")
        if type(task_id) is not int or type(new_id) is not int or new_id != task_id:
            nothing = isinstance(task_id, dict) and task_id.get("type") == "NoneType"
            fail(
                call=f"scheduler.add(gen) #{number}",
                expected=f"the id of the new task (the Task holding gen in scheduler.tasks has id {show(new_id)})",
                got=show(task_id),
                cause="add must return task.id" + (" (it returns nothing)" if nothing else ""),
            )
        returned.append(task_id)
    if len(set(returned)) != len(returned):
        fail(call=f"{count} × scheduler.add(gen)", expected="a different id for every task", got=show_list(returned), cause="every add must create a new Task")
    call = f"{count} × scheduler.add(gen), then run()"
    judge_run(seen, call)
    judge_tables(seen, call, ("results", "exceptions"))
    keys = seen.get("keys") or []
    keyed = {index for key in keys for index in key.get("added") or []}
    if keyed != set(range(count)) or any(not key.get("added") for key in keys):
        fail(
            call=call,
            expected=f"results keyed by the ids add() returned: {show_list(sorted(returned))}",
            got=f"keys {clip('[' + ', '.join(sorted({show(key.get('id')) for key in keys})) + ']')}",
            cause="use task.id as the key, not the task or the generator",
        )


@check("interleaving")
def test_round_robin_order(impl):
    """Three tasks of 3, 1 and 2 steps take turns, one step each."""
    plans, _ = round_robin_case()
    return observe_order(impl, plans)


def verify_round_robin_order(seen):
    plans, label = round_robin_case()
    judge_order(seen, plans, label)


@check("stop_value")
def test_results_by_id(impl):
    """scheduler.results maps each task's id to its return value."""
    return observe_results(impl, results_by_id_plans())


def verify_results_by_id(seen):
    judge_results(seen, results_by_id_plans(), "store StopIteration's .value under the task's id when a task finishes")


@check("exception_capture")
def test_failed_task_is_recorded(impl):
    """A task that raises lands in scheduler.exceptions; the others still finish."""
    plans, _, _ = failed_task_case()
    return observe_failure(impl, plans)


def verify_failed_task_is_recorded(seen):
    judge_failure(seen, *failed_task_case())


@check("id_assignment")
def test_add_returns_task_id(impl):
    """add() returns the id of the task it created."""
    return observe_add_ids(impl, 3)


def verify_add_returns_task_id(seen):
    judge_add_ids(seen, 3)


### BEGIN HIDDEN TESTS
@check("interleaving")
def test_round_robin_random(impl, rng):
    """Tasks of unequal lengths interleave in FIFO round-robin order."""
    return observe_orders(impl, random_order_cases(rng))


def verify_round_robin_random(seen, rng):
    judge_orders(seen, random_order_cases(rng))


@check("interleaving")
def test_tasks_added_during_run(impl, rng):
    """A task added while run() is running joins the back of the queue and runs."""
    return observe_orders(impl, spawning_cases(rng))


def verify_tasks_added_during_run(seen, rng):
    judge_orders(seen, spawning_cases(rng))


LATE_CALL = "add a task after a first run(), then run() again"


@check("interleaving")
def test_empty_and_repeated_runs(impl):
    """run() on an empty scheduler returns; adding after a run and running again works."""
    scheduler = fresh_scheduler(impl)
    seen = {"first": run_error(scheduler)}
    if seen["first"] is not None:
        return seen
    log = []
    start(scheduler, [Plan("late", 2)], log)
    seen["second"] = run_error(scheduler)
    seen["log"] = logged(log)
    return seen


def verify_empty_and_repeated_runs(seen):
    judge_run({"run_error": seen.get("first")}, "Scheduler().run() with no task")
    judge_run({"run_error": seen.get("second")}, LATE_CALL)
    log = steps_of(seen)
    if log != [("late", 0), ("late", 1), ("late", "end")]:
        fail(call=LATE_CALL, expected="the task runs to its end", got=describe(log), cause="run() must work on whatever is in the queue")


@check("interleaving")
def test_one_step_per_turn(impl, rng):
    """Each turn advances a task by exactly one next()."""
    return observe_orders(impl, one_step_cases(rng))


def verify_one_step_per_turn(seen, rng):
    judge_orders(seen, one_step_cases(rng))


@check("stop_value")
def test_results_random(impl, rng):
    """results holds every finished task's return value, None included."""
    seen = []
    for plans in random_results_plans(rng):
        seen.append(observe_results(impl, plans))
        if stopped(seen[-1]):
            break
    return seen


def verify_results_random(seen, rng):
    for index, plans in enumerate(random_results_plans(rng)):
        judge_results(seen[index] if index < len(seen) else {}, plans, "every finished task's StopIteration.value belongs in results, even None")


SPAWN_CALL = "a task that adds a child task, then run()"


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
    seen = {"run_error": run_error(scheduler)}
    if seen["run_error"] is not None:
        return seen
    tables = read_tables(scheduler, ("results",), seen)
    if tables is None:
        return seen
    results = tables["results"]
    seen["values"] = [which(value, {"child": child.result, "parent": parent.result}) for value in dict.values(results)]
    seen["text"] = describe(results)
    return seen


def verify_results_of_spawned_tasks(seen):
    judge_run(seen, SPAWN_CALL)
    judge_tables(seen, "run()", ("results",))
    found = {value.get("is") for value in seen.get("values") or [] if isinstance(value, dict)}
    if "child" not in found or "parent" not in found:
        fail(
            call=SPAWN_CALL,
            expected="results for both the parent and the child",
            got=seen.get("text"),
            cause="tasks added during run() must be run and recorded like the others",
        )


@check("exception_capture")
def test_failures_random(impl, rng):
    """Failing tasks are recorded, dropped, and the others finish."""
    seen = []
    for plans, _, _ in random_failure_cases(rng):
        seen.append(observe_failure(impl, plans))
        if stopped(seen[-1]):
            break
    return seen


def verify_failures_random(seen, rng):
    for index, (plans, errors, label) in enumerate(random_failure_cases(rng)):
        judge_failure(seen[index] if index < len(seen) else {}, plans, errors, label)


@check("interleaving")
def test_order_after_a_failure(impl):
    """After a failure, the remaining tasks keep their round-robin order."""
    scheduler = fresh_scheduler(impl)
    log = []
    plans = order_after_failure_plans()
    start(scheduler, plans, log)
    # capturing a task's error is exception_capture's business: judge the order so far
    seen = {"run_error": run_error(scheduler), "log": logged(log)}
    if seen["run_error"] is not None and "file" not in seen["run_error"]:
        seen["run_error"] = None
    if seen["run_error"] is None and seen["log"] != logged(expected_log(plans)):
        seen["queue_calls"] = queue_calls(impl)
    return seen


def verify_order_after_a_failure(seen):
    log = steps_of(seen)
    full = expected_log(order_after_failure_plans())
    want = full[: len(log)] if log and log[-1] == ("B", "raise") else full
    call = "Scheduler with A (3 steps), B (raises after 1 step), C (3 steps), then run()"
    if log != want:
        judge_run(seen, call)  # run() itself raised: that is the cause
        cause = "after a failed task is dropped, keep taking the others from the left, one step each"
        if "appendleft" in (seen.get("queue_calls") or ()):
            cause = APPENDLEFT_CAUSE
        fail(call=call, expected=f"steps in this order: {describe(want)}", got=describe(log), cause=cause)


BASE_ERRORS = (("Abort", lambda: Abort("stop")), ("KeyboardInterrupt", KeyboardInterrupt))


@check("exception_capture")
def test_base_exceptions_propagate(impl):
    """KeyboardInterrupt and other non-Exceptions stop run() instead of being stored."""
    seen = []
    for _, make in BASE_ERRORS:
        error = make()
        scheduler = fresh_scheduler(impl)
        log = []
        start(scheduler, [Plan("A", 2), Plan("B", 1, error=error)], log)
        try:
            scheduler.run()
        except (NotImplementedError, TestTimeout):
            raise
        except BaseException as caught:  # noqa: BLE001 - record what came out
            seen.append({"raised": which(caught, {"error": error})})
            continue
        seen.append({"raised": None})
    return seen


def verify_base_exceptions_propagate(seen):
    for index, (name, _) in enumerate(BASE_ERRORS):
        call = f"Scheduler with a task that raises {name}, then run()"
        raised = (seen[index] if index < len(seen) else {}).get("raised")
        if raised is None:
            fail(
                call=call,
                expected=f"the {name} to stop run()",
                got="run() returned normally",
                cause="`except BaseException` or a bare `except:` swallows it: catch Exception only",
            )
        if raised != {"is": "error"}:
            fail(call=call, expected=f"that {name} to come out of run()", got=f"{raised.get('type')}", cause="re-raise non-Exception errors unchanged")


NOT_IN_RESULTS_CALL = "Scheduler with one finishing and one failing task, then run()"


@check("exception_capture")
def test_exception_not_in_results(impl):
    """A task that raised has no entry in results; a finished one has none in exceptions."""
    scheduler = fresh_scheduler(impl)
    plans = [Plan("ok", 1), Plan("bad", 2, error=ValueError("bad"))]
    log = []
    gens, returned = start(scheduler, plans, log)
    ids = task_ids(scheduler, gens, returned)
    seen = {"run_error": run_error(scheduler)}
    if seen["run_error"] is not None:
        return seen
    tables = read_tables(scheduler, ("results", "exceptions"), seen)
    if tables is None:
        return seen
    seen["results"] = [entry(tables["results"], task_id) for task_id in ids]
    seen["exceptions"] = [entry(tables["exceptions"], task_id) for task_id in ids]
    return seen


def verify_exception_not_in_results(seen):
    judge_run(seen, NOT_IN_RESULTS_CALL)
    judge_tables(seen, NOT_IN_RESULTS_CALL, ("results", "exceptions"))
    results, exceptions = seen.get("results") or [None, None], seen.get("exceptions") or [None, None]
    if isinstance(results[1], dict):
        fail(call=NOT_IN_RESULTS_CALL, expected="no results entry for the task that raised", got=results[1].get("repr"), cause="the failed task is put back and finished later")
    if isinstance(exceptions[0], dict) and exceptions[0].get("type") != "StopIteration":
        fail(call=NOT_IN_RESULTS_CALL, expected="no exceptions entry for the task that finished", got=exceptions[0].get("repr"), cause="results and exceptions mixed up")


@check("id_assignment")
def test_add_ids_many(impl, rng):
    """add() returns each new task's id, and results/exceptions use those ids."""
    return observe_add_ids(impl, rng.randint(4, 20))


def verify_add_ids_many(seen, rng):
    judge_add_ids(seen, rng.randint(4, 20))


IDS_CALL = "three tasks (two of them raise) added, then run()"


@check("id_assignment")
def test_ids_with_failures(impl):
    """Ids of failed tasks key scheduler.exceptions."""
    scheduler = fresh_scheduler(impl)
    log = []
    gens = [plan.run(scheduler, log) for plan in ids_with_failures_plans()]
    returned = [scheduler.add(gen) for gen in gens]
    seen = {"returned": [as_id(task_id) for task_id in returned], "run_error": run_error(scheduler)}
    if seen["run_error"] is not None:
        return seen  # catching task errors is exception_capture's business, not this check's
    tables = read_tables(scheduler, ("exceptions",), seen)
    if tables is None:
        return seen
    positions = positions_of(returned)
    seen["keys"] = [{"id": as_id(key), "added": positions.get(key, [])} for key in dict.keys(tables["exceptions"])]
    return seen


def verify_ids_with_failures(seen):
    if seen.get("run_error") is not None:
        return  # run() raised: catching task errors is exception_capture's business, not this check's
    judge_tables(seen, IDS_CALL, ("exceptions",))
    keys = seen.get("keys") or []
    keyed = {index for key in keys for index in key.get("added") or []}
    if not {1, 2} <= keyed or any(not key.get("added") for key in keys):
        fail(
            call=IDS_CALL,
            expected=f"exceptions keyed by the ids add() returned for B and C: {show_list((seen.get('returned') or [])[1:])}",
            got=f"keys {clip('[' + ', '.join(sorted(show(key.get('id')) for key in keys)) + ']')}",
            cause="add must return task.id, and exceptions must be keyed by it",
        )
### END HIDDEN TESTS
