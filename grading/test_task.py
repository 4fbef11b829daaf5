"""Tests for exercise 3, Task: a generator with an id."""

import inspect

from coopkit.harness import check, describe, fail


def idle(log=None):
    """A generator that records whether it was ever started."""
    if log is not None:
        log.append("started")
    yield
    return "idle"


def check_ids(Task, count, label):
    """Create ``count`` tasks right after a fresh import; their ids must be 1..count."""
    tasks = [Task(idle()) for _ in range(count)]
    ids = [getattr(task, "id", "<no id attribute>") for task in tasks]
    for position, (task_id, wanted) in enumerate(zip(ids, range(1, count + 1)), 1):
        if type(task_id) is not int:
            fail(
                call=f"{label}: Task(gen) #{position} after a fresh import",
                expected="task.id to be an int",
                got=f"{type(task_id).__name__}: {describe(task_id)}",
                cause="set self.id in __init__ from the class counter",
            )
    if ids != list(range(1, count + 1)):
        cause = "the counter must start at 1 and grow by one per task"
        if len(set(ids)) == 1:
            cause = "`self.next_id += 1` makes an instance attribute: add one to the class attribute, `Task.next_id += 1`"
        elif ids and ids[0] == 0:
            cause = "the counter starts at 0: the first task must get id 1"
        fail(
            call=f"{label}: {count} × Task(gen) after a fresh import",
            expected=f"ids {describe(list(range(1, count + 1)))}",
            got=f"ids {describe(ids)}",
            cause=cause,
        )
    return tasks


@check("id_assignment")
def test_ids_count_from_one(impl):
    """The first three tasks after a fresh import get ids 1, 2, 3."""
    Task = impl.attr("task", "Task", fresh=True)
    check_ids(Task, 3, "Task")


@check("wraps_generator")
def test_keeps_the_generator(impl):
    """task.gen is the very generator given to Task, not started."""
    Task = impl.attr("task", "Task", fresh=True)
    log = []
    gen = idle(log)
    task = Task(gen)
    kept = getattr(task, "gen", "<no gen attribute>")
    if kept is not gen:
        fail(
            call="task = Task(gen)",
            expected="task.gen is gen (the same object)",
            got=f"task.gen = {describe(kept)}",
            cause="store the generator as given: self.gen = gen",
        )
    if log or inspect.getgeneratorstate(gen) != inspect.GEN_CREATED:
        fail(
            call="task = Task(gen)",
            expected="gen still paused before its first step",
            got="gen was started",
            cause="Task must not call next() on the generator: the scheduler does that",
        )


### BEGIN HIDDEN TESTS
@check("id_assignment")
def test_ids_many_tasks(impl, rng):
    """Any number of tasks get 1, 2, 3, ... after a fresh import, every time."""
    for _ in range(3):
        Task = impl.attr("task", "Task", fresh=True)
        check_ids(Task, rng.randint(5, 40), "Task")


@check("id_assignment")
def test_ids_are_stable(impl, rng):
    """A task keeps its id when more tasks are created later."""
    Task = impl.attr("task", "Task", fresh=True)
    tasks = check_ids(Task, rng.randint(2, 6), "Task")
    before = [task.id for task in tasks]
    for _ in range(rng.randint(2, 6)):
        Task(idle())
    after = [task.id for task in tasks]
    if before != after:
        fail(
            call="create tasks, then create more",
            expected=f"the first tasks keep ids {describe(before)}",
            got=f"ids now {describe(after)}",
            cause="id computed on the fly from the class counter: store it on the instance in __init__",
        )


@check("id_assignment")
def test_ids_shared_across_generators(impl, rng):
    """Tasks around different kinds of generators share one counter."""
    Task = impl.attr("task", "Task", fresh=True)
    gens = [idle(), iter(()), (x for x in range(3)), idle([])]
    ids = [Task(rng.choice(gens)).id for _ in range(6)]
    if ids != [1, 2, 3, 4, 5, 6]:
        fail(call="six Tasks around assorted generators", expected="ids [1, 2, 3, 4, 5, 6]", got=f"ids {describe(ids)}", cause="one counter on the class, shared by every task")


@check("wraps_generator")
def test_keeps_any_generator(impl, rng):
    """Task keeps each generator it is given, even one already running, untouched."""
    Task = impl.attr("task", "Task", fresh=True)
    for _ in range(5):
        log = []
        gen = idle(log)
        if rng.random() < 0.5:
            next(gen)
        state = inspect.getgeneratorstate(gen)
        task = Task(gen)
        if getattr(task, "gen", None) is not gen or inspect.getgeneratorstate(gen) != state or log.count("started") > 1:
            fail(
                call="task = Task(gen)",
                expected="task.gen is gen, in the state it was given",
                got=f"task.gen = {describe(getattr(task, 'gen', None))}",
                cause="store the generator as given and do not advance it",
            )


@check("wraps_generator")
def test_each_task_its_own_generator(impl):
    """Two tasks keep two different generators."""
    Task = impl.attr("task", "Task", fresh=True)
    first, second = idle(), idle()
    a, b = Task(first), Task(second)
    if getattr(a, "gen", None) is not first or getattr(b, "gen", None) is not second:
        fail(
            call="a = Task(g1); b = Task(g2)",
            expected="a.gen is g1 and b.gen is g2",
            got=f"a.gen = {describe(getattr(a, 'gen', None))}, b.gen = {describe(getattr(b, 'gen', None))}",
            cause="the generator stored on the class instead of the instance",
        )
### END HIDDEN TESTS
