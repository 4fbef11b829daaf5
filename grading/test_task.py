"""Tests for exercise 3, Task: a generator with an id.

Each test observes (``test_*``: creates tasks right after a fresh import and
returns their ids, which generator each keeps and what happened to it, as
plain data) and is judged by its verify half (``verify_*``: decides from that
data alone).
"""

import inspect

from coopkit.harness import Shown, check, describe, fail

MISSING = object()
NO_GEN = "'<no gen attribute>'"  # how the first test shows a task without a gen attribute
STATES = {
    "GEN_CREATED": "not started",
    "GEN_SUSPENDED": "paused at a yield",
    "GEN_RUNNING": "running",
    "GEN_CLOSED": "finished",
}


def idle(log=None):
    """A generator that records whether it was ever started."""
    if log is not None:
        log.append("started")
    yield
    return "idle"


# -- observing (runs beside the code under test) --------------------------------


def type_name(value):
    try:
        name = type(value).__name__
        return name if type(name) is str else "?"
    except Exception:  # noqa: BLE001 - a strange class has no name worth showing
        return "?"


def task_id(task):
    """``task.id`` as data: an int as itself, anything else by type and repr, ``{"missing": "id"}`` if absent."""
    found = getattr(task, "id", MISSING)
    if found is MISSING:
        return {"missing": "id"}
    if type(found) is int:
        return found
    return {"type": type_name(found), "repr": describe(found)}


def kept(task, known):
    """Which generator ``task.gen`` is: ``{"is": label}`` for one of ``known`` (``{label: gen}``), else its repr."""
    found = getattr(task, "gen", MISSING)
    if found is MISSING:
        return {"missing": "gen"}
    for label, gen in known.items():
        if found is gen:
            return {"is": label}
    return {"type": type_name(found), "repr": describe(found)}


def observe_ids(Task, count):
    """Create ``count`` tasks (just after a fresh import): their ids, and the tasks."""
    tasks = [Task(idle()) for _ in range(count)]
    return [task_id(task) for task in tasks], tasks


# -- judging (runs in the grader, on the data alone) ------------------------------


def id_text(data):
    """An id as the old messages showed it: ``type: repr``."""
    if isinstance(data, dict) and "missing" in data:
        return "str: '<no id attribute>'"
    if isinstance(data, dict):
        return f"{data.get('type')}: {data.get('repr')}"
    return f"{type(data).__name__}: {describe(data)}"


def shown(ids):
    """A list of ids as the old messages showed it."""
    items = ids if isinstance(ids, list) else [ids]
    rebuilt = [
        Shown("'<no id attribute>'" if "missing" in item else item.get("repr")) if isinstance(item, dict) else item
        for item in items
    ]
    return describe(rebuilt)


def gen_text(data, missing="None"):
    """Which generator a task kept, in words (``missing``: what to show when it has no ``gen``)."""
    if isinstance(data, dict) and "is" in data:
        return str(data["is"])
    if isinstance(data, dict) and "missing" in data:
        return missing
    if isinstance(data, dict):
        return data.get("repr", "?")
    return describe(data)


def judge_ids(ids, count, label):
    """Fail unless ``ids`` (of ``count`` tasks made after a fresh import) are the ints 1..count."""
    wanted = list(range(1, count + 1))
    ids = ids if isinstance(ids, list) else []
    for position, found in enumerate(ids[:count], 1):
        if type(found) is not int:
            fail(
                call=f"{label}: Task(gen) #{position} after a fresh import",
                expected="task.id to be an int",
                got=id_text(found),
                cause="set self.id in __init__ from the class counter",
            )
    if ids != wanted:
        cause = "the counter must start at 1 and grow by one per task"
        if len({describe(found) for found in ids}) == 1:
            cause = "`self.next_id += 1` makes an instance attribute: add one to the class attribute, `Task.next_id += 1`"
        elif ids and ids[0] == 0:
            cause = "the counter starts at 0: the first task must get id 1"
        fail(
            call=f"{label}: {count} × Task(gen) after a fresh import",
            expected=f"ids {describe(wanted)}",
            got=f"ids {shown(ids)}",
            cause=cause,
        )


# -- the tests ----------------------------------------------------------------


@check("id_assignment")
def test_ids_count_from_one(impl):
    """The first three tasks after a fresh import get ids 1, 2, 3."""
    Task = impl.attr("task", "Task", fresh=True)
    ids, _ = observe_ids(Task, 3)
    return ids


def verify_ids_count_from_one(seen):
    judge_ids(seen, 3, "Task")


@check("wraps_generator")
def test_keeps_the_generator(impl):
    """task.gen is the very generator given to Task, not started."""
    Task = impl.attr("task", "Task", fresh=True)
    log = []
    gen = idle(log)
    task = Task(gen)
    return {"gen": kept(task, {"gen": gen}), "log": log, "state": inspect.getgeneratorstate(gen)}


def verify_keeps_the_generator(seen):
    if seen.get("gen") != {"is": "gen"}:
        fail(
            call="task = Task(gen)",
            expected="task.gen is gen (the same object)",
            got=f"task.gen = {gen_text(seen.get('gen'), missing=NO_GEN)}",
            cause="store the generator as given: self.gen = gen",
        )
    if seen.get("log") != [] or seen.get("state") != "GEN_CREATED":
        fail(
            call="task = Task(gen)",
            expected="gen still paused before its first step",
            got="gen was started",
            cause="Task must not call next() on the generator: the scheduler does that",
        )


### BEGIN HIDDEN TESTS
def many_inputs(rng):
    """How many tasks each of the three fresh imports makes: both halves draw them the same way."""
    return [rng.randint(5, 40) for _ in range(3)]


@check("id_assignment")
def test_ids_many_tasks(impl, rng):
    """Any number of tasks get 1, 2, 3, ... after a fresh import, every time."""
    seen = []
    for count in many_inputs(rng):
        Task = impl.attr("task", "Task", fresh=True)
        ids, _ = observe_ids(Task, count)
        seen.append(ids)
    return seen


def verify_ids_many_tasks(seen, rng):
    for index, count in enumerate(many_inputs(rng)):
        judge_ids(seen[index], count, "Task")


def stable_inputs(rng):
    """How many tasks come first, and how many more after them."""
    return rng.randint(2, 6), rng.randint(2, 6)


@check("id_assignment")
def test_ids_are_stable(impl, rng):
    """A task keeps its id when more tasks are created later."""
    Task = impl.attr("task", "Task", fresh=True)
    first, more = stable_inputs(rng)
    ids, tasks = observe_ids(Task, first)
    for _ in range(more):
        Task(idle())
    return {"ids": ids, "after": [task_id(task) for task in tasks]}


def verify_ids_are_stable(seen, rng):
    first, _ = stable_inputs(rng)
    judge_ids(seen.get("ids"), first, "Task")
    wanted = list(range(1, first + 1))
    if seen.get("after") != wanted:
        fail(
            call="create tasks, then create more",
            expected=f"the first tasks keep ids {describe(wanted)}",
            got=f"ids now {shown(seen.get('after'))}",
            cause="id computed on the fly from the class counter: store it on the instance in __init__",
        )


@check("id_assignment")
def test_ids_shared_across_generators(impl, rng):
    """Tasks around different kinds of generators share one counter."""
    Task = impl.attr("task", "Task", fresh=True)
    gens = [idle(), iter(()), (x for x in range(3)), idle([])]
    return [task_id(Task(rng.choice(gens))) for _ in range(6)]


def verify_ids_shared_across_generators(seen):
    if seen != [1, 2, 3, 4, 5, 6]:
        fail(call="six Tasks around assorted generators", expected="ids [1, 2, 3, 4, 5, 6]", got=f"ids {shown(seen)}", cause="one counter on the class, shared by every task")


def any_generator_inputs(rng):
    """For each of five generators, whether it is started before Task gets it."""
    return [rng.random() < 0.5 for _ in range(5)]


@check("wraps_generator")
def test_keeps_any_generator(impl, rng):
    """Task keeps each generator it is given, even one already running, untouched."""
    Task = impl.attr("task", "Task", fresh=True)
    seen = []
    for started in any_generator_inputs(rng):
        log = []
        gen = idle(log)
        if started:
            next(gen)
        task = Task(gen)
        seen.append({"gen": kept(task, {"gen": gen}), "log": log, "state": inspect.getgeneratorstate(gen)})
    return seen


def verify_keeps_any_generator(seen, rng):
    for index, started in enumerate(any_generator_inputs(rng)):
        record = seen[index] if isinstance(seen[index], dict) else {}
        state = "GEN_SUSPENDED" if started else "GEN_CREATED"
        log = ["started"] if started else []
        if record.get("gen") != {"is": "gen"} or record.get("state") != state or record.get("log") != log:
            got = f"task.gen = {gen_text(record.get('gen'))}"
            if record.get("gen") == {"is": "gen"}:
                now = STATES.get(record.get("state"), record.get("state"))
                got = f"task.gen = gen, but gen is now {now} (it was {STATES[state]})"
            fail(
                call="task = Task(gen)",
                expected="task.gen is gen, in the state it was given",
                got=got,
                cause="store the generator as given and do not advance it",
            )


@check("wraps_generator")
def test_each_task_its_own_generator(impl):
    """Two tasks keep two different generators."""
    Task = impl.attr("task", "Task", fresh=True)
    first, second = idle(), idle()
    a, b = Task(first), Task(second)
    known = {"g1": first, "g2": second}
    return {"a": kept(a, known), "b": kept(b, known)}


def verify_each_task_its_own_generator(seen):
    if seen.get("a") != {"is": "g1"} or seen.get("b") != {"is": "g2"}:
        fail(
            call="a = Task(g1); b = Task(g2)",
            expected="a.gen is g1 and b.gen is g2",
            got=f"a.gen = {gen_text(seen.get('a'))}, b.gen = {gen_text(seen.get('b'))}",
            cause="the generator stored on the class instead of the instance",
        )
### END HIDDEN TESTS
