"""Tests for chapter 5, traps: tasks ask their kernel for services and get answers through send().

Each test observes (``test_*``: runs a kernel on tasks of its own and returns
plain data) and is judged by its verify half (``verify_*``: decides from that
data alone).
"""

import json
import math

from coopkit.doubles import judge_run, run_kernel
from coopkit.harness import check, describe, fail

MISSING = object()
TABLE_LIMIT = 50  # entries of a kernel table sent back: more than any test makes
RUN_EXPECTED = "run() to return when no task is ready"
TASK_ERROR_CAUSE = "an error inside a task must be recorded (or thrown into the task), never escape from run()"


class Oops(Exception):
    """An error raised by a task."""


def kernel_of(impl):
    module = impl.fresh("traps")
    for name in ("Kernel", "get_id", "spawn", "join"):
        if not hasattr(module, name):
            impl.attr("traps", name)  # raises the friendly "defines no ..." error
    return module


# -- observing (runs beside the code under test) --------------------------------


def value(item, depth=0):
    """A value from the kernel as data: None, bools, ints, short strings and finite floats as they are,
    lists and tuples item by item (as lists), anything else as ``{"object": its repr}``."""
    kind = type(item)
    if item is None or kind in (bool, int):
        return item
    if kind is float and math.isfinite(item):
        return item
    if kind is str and len(item) <= 100:
        return item
    if kind in (list, tuple) and depth < 3 and len(item) <= TABLE_LIMIT:
        return [value(part, depth + 1) for part in item]
    return {"object": describe(item)}


def kinds(error):
    """The built-in exception classes ``error`` is an instance of (``isinstance`` as data)."""
    try:
        return [cls.__name__ for cls in type(error).__mro__ if cls.__module__ == "builtins"]
    except Exception:  # noqa: BLE001 - a strange class is simply no known kind
        return []


def exception(error, known=None):
    """An exception as data: its type name, its built-in kinds and its repr; ``is`` names it when it is
    one of the ``known`` objects (``{label: object}``) the test raised itself."""
    data = {"type": type(error).__name__, "kinds": kinds(error), "repr": describe(error)}
    for label, obj in (known or {}).items():
        if error is obj:
            data["is"] = label
    return data


def table(kernel, name, convert=value):
    """``kernel.<name>`` as data: ``{"entries": [[key, value], ...]}``, or why it is no dict."""
    found = getattr(kernel, name, MISSING)
    if found is MISSING:
        return {"missing": True}
    if not isinstance(found, dict):
        return {"not_dict": describe(found)}
    return {"entries": [[value(key), convert(item)] for key, item in list(dict.items(found))[:TABLE_LIMIT]]}


def exceptions_table(kernel, known=None):
    return table(kernel, "exceptions", lambda error: exception(error, known))


# -- judging (runs in the grader, on the data alone) ------------------------------


def same(first, second):
    """Equal as data, type for type (``0`` is not ``False``, ``1`` is not ``1.0``)."""
    return json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


class Shown:
    """A described object, shown by its description."""

    def __init__(self, text):
        self.text = text if isinstance(text, str) else "?"

    def __repr__(self):
        return self.text


def rebuilt(data):
    """Data rebuilt into objects whose repr reads like the original's (for messages)."""
    if isinstance(data, list):
        return [rebuilt(item) for item in data]
    if isinstance(data, dict):
        if "entries" in data and isinstance(data["entries"], list):
            shown = {}
            for pair in data["entries"]:
                key, item = (pair + [None, None])[:2] if isinstance(pair, list) else (pair, None)
                key = rebuilt(key)
                try:
                    hash(key)
                except TypeError:
                    key = Shown(describe(key))
                shown[key] = rebuilt(item)
            return shown
        if "missing" in data:
            return Shown("nothing (no such attribute)")
        for field in ("repr", "object", "not_dict"):
            if field in data:
                return Shown(data[field])
    return data


def shown(data):
    """Data as the old messages showed the objects behind it."""
    return describe(rebuilt(data))


def judge(seen, call, cause=None):
    judge_run(seen.get("run"), call, RUN_EXPECTED, cause or (lambda error: TASK_ERROR_CAUSE))


def entries(seen_table, name, call):
    """The entries of a table the kernel must keep as a dict (fails when it is not one)."""
    if not isinstance(seen_table, dict) or not isinstance(seen_table.get("entries"), list):
        fail(call=call, expected=f"kernel.{name} to be a dict", got=shown(seen_table), cause=f"set self.{name} = {{}} in __init__")
    return seen_table["entries"]


def lookup(pairs, key, default=MISSING):
    """``table[key]`` on sent entries (keys compared as data)."""
    for pair in pairs:
        if isinstance(pair, list) and len(pair) == 2 and same(pair[0], key):
            return pair[1]
    return default


def is_known(data, label):
    return isinstance(data, dict) and data.get("is") == label


def is_kind(data, name):
    return isinstance(data, dict) and isinstance(data.get("kinds"), list) and name in data["kinds"]


# -- the tests ----------------------------------------------------------------


@check("send_answers")
def test_get_id_answers_through_send(impl):
    """A task that yields get_id() gets its own id back as the value of the yield."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    answers = []

    def task():
        answers.append((yield from traps.get_id()))
        return "done"

    ids = [kernel.spawn(task()) for _ in range(3)]
    error = run_kernel(kernel)
    return {"run": error, "ids": [value(i) for i in ids], "answers": [value(a) for a in answers]}


def verify_get_id_answers_through_send(seen):
    call = "three tasks asking get_id(), then run()"
    judge(seen, call)
    if not same(seen["answers"], seen["ids"]):
        fail(call=call, expected=f"each gets its own id: {shown(seen['ids'])}", got=shown(seen["answers"]),
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
    error = run_kernel(kernel)
    return {"run": error, "first": value(first), "answers": [value(a) for a in got], "results": table(kernel, "results")}


def verify_spawn_starts_a_child(seen):
    judge(seen, "a parent that spawns a child, then run()")
    results = entries(seen["results"], "results", "run()")
    if not same(seen["first"], 1) or not same(seen["answers"], [2]) or not same(lookup(results, 2, None), "child result"):
        fail(call="kernel.spawn(parent()), where parent spawns child(); run()", expected="parent id 1, child id 2, results[2] == 'child result'",
             got=f"parent id {shown(seen['first'])}, spawn answered {shown(seen['answers'])}, results {shown(seen['results'])}",
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
    error = run_kernel(kernel)
    return {"run": error, "got": [value(g) for g in got]}


def verify_join_returns_the_childs_result(seen):
    judge(seen, "a parent joining a child (task 2)")
    if not same(seen["got"], [42]):
        fail(call="parent: yield from join(2), task 2 returns 42 after two yields", expected="join returns 42, the child's result",
             got=shown(seen["got"]), cause="park the joiner until the child finishes, then send it the child's result")


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
            caught.append(exception(exc))
        return "recovered"

    def bystander():
        yield
        return "fine"

    a, b = kernel.spawn(confused()), kernel.spawn(bystander())
    error = run_kernel(kernel)
    return {"run": error, "ids": [value(a), value(b)], "caught": caught, "results": table(kernel, "results")}


def verify_unknown_trap_raises_in_the_task(seen):
    judge(seen, "a task yielding ('teleport', 3) and a bystander")
    results = entries(seen["results"], "results", "run()")
    a, b = seen["ids"]
    if len(seen["caught"]) != 1 or not same(lookup(results, a, None), "recovered") or not same(lookup(results, b, None), "fine"):
        fail(call="a task yielding ('teleport', 3) inside try/except RuntimeError", expected="RuntimeError thrown into it, both tasks finish",
             got=f"caught {shown(seen['caught'])}, results {shown(seen['results'])}",
             cause="for an unknown trap, resume the task with gen.throw(RuntimeError(...))")


### BEGIN HIDDEN TESTS
def switch_inputs(rng):
    """How many bare yields each of the three tasks makes: both halves draw them the same way."""
    return [rng.randint(1, 4) for _ in range(3)]


@check("send_answers")
def test_bare_yield_is_a_switch(impl, rng):
    """A bare yield gives the others a turn and resumes with None, round robin."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    log, values = [], []
    lengths = switch_inputs(rng)

    def task(name, steps):
        for step in range(steps):
            log.append([name, step])
            values.append(value((yield)))

    for n, steps in enumerate(lengths):
        kernel.spawn(task("ABC"[n], steps))
    error = run_kernel(kernel)
    return {"run": error, "log": log, "values": values}


def verify_bare_yield_is_a_switch(seen, rng):
    lengths = switch_inputs(rng)
    judge(seen, f"three tasks of {lengths} bare yields")
    expected, queue = [], [("ABC"[n], 0, s) for n, s in enumerate(lengths)]
    while queue:
        name, step, steps = queue.pop(0)
        if step < steps:
            expected.append((name, step))
            queue.append((name, step + 1, steps))
    log = [tuple(entry) for entry in seen["log"]]
    if log != expected or any(v is not None for v in seen["values"]):
        fail(call=f"three tasks of {lengths} bare yields", expected=f"round robin {describe(expected)}, every yield resumed with None",
             got=f"{describe(log)}, values {shown(seen['values'])}", cause="a bare yield puts the task at the back and resumes it with send(None)")


def answers_inputs(rng):
    """How many rounds each task asks get_id(): the number of tasks first, then each task's rounds."""
    count = rng.randint(3, 6)
    return [rng.randint(1, 4) for _ in range(count)]


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

    ids = [kernel.spawn(task(rounds)) for rounds in answers_inputs(rng)]
    error = run_kernel(kernel)
    return {"run": error, "ids": [value(i) for i in ids], "results": table(kernel, "results")}


def verify_answers_reach_the_right_task(seen, rng):
    answers_inputs(rng)
    call = "tasks asking get_id() repeatedly"
    judge(seen, call)
    results = entries(seen["results"], "results", "run()")
    for task_id in seen["ids"]:
        got = lookup(results, task_id)
        if got is MISSING or not isinstance(got, list) or any(not same(answer, task_id) for answer in got):
            fail(call=call, expected=f"task {shown(task_id)} always told {shown(task_id)}",
                 got="nothing (no result)" if got is MISSING else shown(got),
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
    error = run_kernel(kernel)
    return {"run": error, "root": value(root_id), "other": value(other), "answers": [value(a) for a in answers],
            "results": table(kernel, "results")}


def verify_spawned_tasks_run_and_ids_count(seen, rng):
    n = rng.randint(2, 5)
    judge(seen, f"a root task spawning {n} children")
    results = entries(seen["results"], "results", "run()")
    want_ids = list(range(3, 3 + n))
    if not same(seen["root"], 1) or not same(seen["other"], 2) or not same(seen["answers"], want_ids):
        fail(call=f"root spawns {n} children after a second top-level task", expected=f"ids 1, 2 then children {want_ids}",
             got=f"{shown(seen['root'])}, {shown(seen['other'])}, children {shown(seen['answers'])}", cause="one counter for every task, starting at 1")
    for k, child_id in enumerate(want_ids):
        if not same(lookup(results, child_id), k * 10):
            fail(call="children spawned by a task", expected=f"results[{child_id}] == {k * 10}", got=shown(seen["results"]),
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
    error = run_kernel(kernel)
    return {"run": error, "log": log}


def verify_parent_does_not_wait_for_spawned_child(seen):
    judge(seen, "a parent spawning a child")
    log = seen["log"]
    if "parent after spawn" not in log or "child 2" not in log or log.index("parent after spawn") > log.index("child 2"):
        fail(call="a parent spawning a child", expected="the parent resumes before the child has finished", got=describe(log),
             cause="the spawn trap sends the id back right away; it does not wait for the child")


@check("spawn")
def test_spawned_child_waits_its_turn(impl):
    """A child started by the spawn trap joins the back of the ready queue: the tasks already waiting run first."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    log = []

    def child():
        log.append("child")
        yield

    def spawner():
        yield from traps.spawn(child())
        log.append("spawner")

    def other(name):
        log.append(name)
        yield

    kernel.spawn(spawner())
    kernel.spawn(other("task 2"))
    kernel.spawn(other("task 3"))
    error = run_kernel(kernel)
    return {"run": error, "log": log}


def verify_spawned_child_waits_its_turn(seen):
    call = "task 1 spawns a child while tasks 2 and 3 are ready"
    judge(seen, call)
    log = seen["log"]
    if any(name not in log for name in ("child", "task 2", "task 3")) or log.index("child") < max(log.index("task 2"), log.index("task 3")):
        fail(call=call, expected="tasks 2 and 3 take their turns before the child's first step (it joins the back of the ready queue)",
             got=describe(log),
             cause="the spawn trap adds the child as Kernel.spawn does, at the back of the ready queue: it does not jump ahead of waiting tasks")


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
            caught.append(exception(exc, {"error": error}))
        return "handled"

    parent_id = kernel.spawn(parent(2))
    kernel.spawn(child())
    escaped = run_kernel(kernel)
    return {"run": escaped, "parent": value(parent_id), "caught": caught,
            "exceptions": exceptions_table(kernel, {"error": error}), "results": table(kernel, "results")}


def verify_join_raises_the_childs_exception(seen):
    judge(seen, "a parent joining a child that raises")
    exceptions = entries(seen["exceptions"], "exceptions", "run()")
    results = entries(seen["results"], "results", "run()")
    caught = seen["caught"]
    if (len(caught) != 1 or not is_known(caught[0], "error") or not is_known(lookup(exceptions, 2, None), "error")
            or not same(lookup(results, seen["parent"], None), "handled")):
        fail(call="parent joins a child that raises Oops", expected="the same Oops raised inside the parent; exceptions[2] is it",
             got=f"caught {shown(caught)}, exceptions {shown(seen['exceptions'])}", cause="resume the joiner with gen.throw(the child's exception)")


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
            caught.append(exception(exc, {"error": error}))

    kernel.spawn(failing())
    kernel.spawn(late(1))
    escaped = run_kernel(kernel)
    return {"run": escaped, "caught": caught}


def verify_join_a_task_that_already_failed(seen):
    judge(seen, "a task joining task 1 after it failed")
    caught = seen["caught"]
    if len(caught) != 1 or not is_known(caught[0], "error"):
        fail(call="yield from join(1) after task 1 raised Oops", expected="that Oops raised in the joiner", got=shown(caught),
             cause="a failed task's exception is kept in exceptions: throw it into a late joiner")


def many_joiners_inputs(rng):
    """The slow task's steps, then each of the three joiners' waits."""
    return rng.randint(3, 6), [rng.randint(0, 2) for _ in range(3)]


@check("join")
def test_join_a_finished_task_and_many_joiners(impl, rng):
    """Joining a task that already finished answers at once; several joiners all get the result."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    got = []
    steps, waits = many_joiners_inputs(rng)

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
        got.append(value((yield from traps.join(target))))

    q = kernel.spawn(quick())
    s = kernel.spawn(slow(steps))
    for wait in waits:
        kernel.spawn(joiner(s, wait))
    kernel.spawn(joiner(q, 3))
    error = run_kernel(kernel)
    return {"run": error, "got": got}


def verify_join_a_finished_task_and_many_joiners(seen, rng):
    many_joiners_inputs(rng)
    judge(seen, "joiners of a finished task and of a slow task")
    got = seen["got"]
    if sorted(json.dumps(g, sort_keys=True) for g in got) != sorted(json.dumps(g) for g in ["quick", "slow", "slow", "slow"]):
        fail(call="three tasks join a slow task, one joins a finished task", expected="['slow', 'slow', 'slow'] and 'quick'",
             got=shown(got), cause="keep a list of joiners per task and resume them all; a finished task's result is sent at once")


FALSY_RESULTS = "None, 0, '', False, []"


def falsy_results():
    """What the finished tasks return (fresh objects each time: a kernel could change a list)."""
    return [None, 0, "", False, []]


@check("join")
def test_join_a_task_that_returned_a_falsy_value(impl):
    """A task that returned None, 0, '', False or [] has finished all the same: joining it gives that value."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    got = []

    def finished(result):
        return result
        yield

    def slow(result):
        yield
        yield
        return result

    def joiner(target, wait):
        for _ in range(wait):
            yield
        answer = yield from traps.join(target)
        got.append([target, value(answer)])

    for result in falsy_results():
        kernel.spawn(finished(result))  # ids 1-5: done at their first step
    kernel.spawn(slow(0))  # id 6: still running when it is joined
    for target in range(1, 7):
        kernel.spawn(joiner(target, 1 if target < 6 else 0))
    error = run_kernel(kernel)
    return {"run": error, "got": got}


def verify_join_a_task_that_returned_a_falsy_value(seen):
    call = f"tasks 1-5 return {FALSY_RESULTS} at once, task 6 returns 0 after two yields; one task joins each"
    judge(seen, call)
    want = dict(enumerate(falsy_results() + [0], start=1))
    answers = {}
    for entry in seen["got"]:
        if isinstance(entry, list) and len(entry) == 2:
            answers.setdefault(entry[0], []).append(entry[1])
    if all(len(answers.get(target, [])) == 1 and same(answers[target][0], result) for target, result in want.items()):
        return
    parts = []
    for target in want:
        given = answers.get(target, [])
        parts.append(f"join({target}) -> " + (" and ".join(shown(answer) for answer in given) if given else "no answer (still waiting)"))
    waiting = any(not answers.get(target) for target in want)
    fail(call=call, expected=f"join gives back each result: {FALSY_RESULTS}, 0", got="; ".join(parts),
         cause=("a task whose result is None, 0, '' or False has finished all the same: ask `target in self.results`, "
                "not whether the result is true" if waiting else "send the joiner the very value the task returned"))


def observe_lost(traps, targets):
    """A bystander (task 1), then one task per target joining it: what each joiner got, and the results."""
    kernel = traps.Kernel()
    log = []

    def bystander():
        for _ in range(4):
            yield
        return "fine"

    def lost(index, target):
        try:
            answer = yield from traps.join(target)
        except Exception as exc:  # noqa: BLE001 - whatever is thrown in is recorded, judged later
            log.append([index, {"raised": exception(exc)}])
        else:
            log.append([index, {"returned": value(answer)}])
        yield
        return "went on"

    ids = [kernel.spawn(bystander())]
    ids += [kernel.spawn(lost(index, target)) for index, target in enumerate(targets)]
    error = run_kernel(kernel)
    return {"run": error, "ids": [value(i) for i in ids], "log": log, "results": table(kernel, "results")}


def judge_lost(seen, labels, call):
    """Each joiner of an unknown id (``labels``: how the call names them) got a KeyError and went on."""
    def crash_cause(error):
        if error.get("type") == "TypeError":
            return "an id that is not a number was compared with numbers: any id never handed out gets KeyError thrown into the joiner"
        return TASK_ERROR_CAUSE

    judge(seen, call, crash_cause)
    outcomes = {}
    for entry in seen["log"]:
        if isinstance(entry, list) and len(entry) == 2:
            outcomes.setdefault(entry[0], []).append(entry[1])
    parts, cause = [], None
    for index, label in enumerate(labels):
        given = outcomes.get(index, [])
        if not given:
            parts.append(f"join({label}): no answer (still waiting)")
            cause = cause or "an id that was never handed out cannot finish: throw KeyError into the joiner instead of waiting forever"
            continue
        texts = []
        for outcome in given:
            if "raised" in outcome:
                texts.append(shown(outcome["raised"]) + " raised")
                if not is_kind(outcome["raised"], "KeyError"):
                    cause = cause or "throw KeyError (not another error) into the joiner of an unknown id"
            else:
                texts.append(f"returned {shown(outcome.get('returned'))}")
                cause = cause or "throw KeyError into the joiner with gen.throw; do not send it an answer"
        if len(given) > 1:
            cause = cause or "resume each joiner once"
        parts.append(f"join({label}): " + " then ".join(texts))
    if cause:
        fail(call=call, expected="KeyError raised in each joiner (KeyError(task_id), for instance)", got="; ".join(parts), cause=cause)
    results = entries(seen["results"], "results", "run()")
    bystander, *joiners = seen["ids"]
    if not same(lookup(results, bystander, None), "fine") or any(not same(lookup(results, task, None), "went on") for task in joiners):
        fail(call=call, expected="each joiner catches the KeyError and goes on to the end; the running task finishes too",
             got=f"results {shown(seen['results'])}",
             cause="throw the KeyError into the task that asked (on its next turn) and keep running every other task")


UNKNOWN_IDS = (0, 5, 999)  # task 1 runs and tasks 2-4 join: 5 is the next id, never handed out


@check("join")
def test_join_unknown_id_raises_key_error(impl):
    """Joining an id that was never handed out (0, the next id, 999) raises KeyError in the joiner; the kernel goes on."""
    return observe_lost(kernel_of(impl), UNKNOWN_IDS)


def verify_join_unknown_id_raises_key_error(seen):
    judge_lost(seen, [str(target) for target in UNKNOWN_IDS],
               "task 1 runs; tasks 2-4 yield from join(0), join(5) (never spawned), join(999)")


@check("join")
def test_join_an_id_that_is_not_a_number(impl):
    """Ids are the numbers spawn handed out: joining None or '1' raises KeyError in the joiner too."""
    return observe_lost(kernel_of(impl), (None, "1"))


def verify_join_an_id_that_is_not_a_number(seen):
    judge_lost(seen, ["None", "'1'"], "task 1 runs; tasks 2 and 3 yield from join(None) and join('1')")


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
        got.append(value((yield from traps.join(1))))

    kernel.spawn(slow())
    kernel.spawn(waiter())
    error = run_kernel(kernel)
    return {"run": error, "got": got}


def verify_join_the_first_task(seen):
    judge(seen, "task 2 joins task 1 while it runs")
    if not same(seen["got"], ["first"]):
        fail(call="task 2: yield from join(1), task 1 still running", expected="'first'", got=shown(seen["got"]),
             cause="valid ids run from 1 to the last one handed out")


def strange_traps():
    """Things that are not traps (fresh objects each time: a kernel could change a list)."""
    return [42, "sleep", ("nope",), ["get_id"], ()]


def strange_order(rng):
    """The order the strange tasks are spawned in: both halves draw it the same way."""
    order = list(range(len(strange_traps())))
    rng.shuffle(order)
    return order


@check("unknown_trap")
def test_unhandled_unknown_trap_fails_only_that_task(impl, rng):
    """A task that does not catch the error lands in exceptions; the others finish."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    strange = strange_traps()

    def bad(thing):
        yield thing

    def good(k):
        for _ in range(k):
            yield
        return k

    bad_ids = [kernel.spawn(bad(strange[index])) for index in strange_order(rng)]
    good_ids = [kernel.spawn(good(k)) for k in range(1, 4)]
    error = run_kernel(kernel)
    return {"run": error, "bad": [value(i) for i in bad_ids], "good": [value(i) for i in good_ids],
            "exceptions": exceptions_table(kernel), "results": table(kernel, "results")}


def verify_unhandled_unknown_trap_fails_only_that_task(seen, rng):
    strange = [strange_traps()[index] for index in strange_order(rng)]
    judge(seen, f"tasks yielding {', '.join(map(repr, strange))} and three good tasks")
    exceptions = entries(seen["exceptions"], "exceptions", "run()")
    results = entries(seen["results"], "results", "run()")
    for thing, bad_id in zip(strange, seen["bad"]):
        if not is_kind(lookup(exceptions, bad_id, None), "RuntimeError"):
            fail(call=f"a task yielding {thing!r}", expected="exceptions[its id] is a RuntimeError", got=shown(seen["exceptions"]),
                 cause="an unknown trap is thrown into the task as RuntimeError; uncaught, the task fails like any other")
    if not same([lookup(results, i, None) for i in seen["good"]], [1, 2, 3]):
        fail(call="three good tasks beside a bad one", expected="results 1, 2, 3", got=shown(seen["results"]), cause="one bad task must not stop the kernel")


@check("unknown_trap")
def test_task_goes_on_after_catching_an_unknown_trap(impl):
    """A task that catches the RuntimeError is still running: it yields again, makes another unknown trap, and finishes."""
    traps = kernel_of(impl)
    kernel = traps.Kernel()
    log = []

    def stubborn():
        for name, thing in (("teleport", ("teleport", 1)), ("fly", "fly")):
            try:
                yield thing
            except RuntimeError:
                log.append(f"caught {name}")
            yield
            log.append(f"after {name}")
        return "kept going"

    def bystander():
        for _ in range(6):
            yield
        return "fine"

    ids = [kernel.spawn(stubborn()), kernel.spawn(bystander())]
    error = run_kernel(kernel)
    return {"run": error, "ids": [value(i) for i in ids], "log": log, "results": table(kernel, "results")}


def verify_task_goes_on_after_catching_an_unknown_trap(seen):
    call = "a task catches the RuntimeError of ('teleport', 1), yields, then yields 'fly' and catches that too"
    judge(seen, call)
    results = entries(seen["results"], "results", "run()")
    stubborn, bystander = seen["ids"]
    want = ["caught teleport", "after teleport", "caught fly", "after fly"]
    if seen["log"] != want or not same(lookup(results, stubborn, None), "kept going") or not same(lookup(results, bystander, None), "fine"):
        cause = "for an unknown trap, resume the task with gen.throw(RuntimeError(...)) on its next turn"
        if seen["log"][-1:] in (["caught teleport"], ["caught fly"]):
            cause = ("a task that catches the RuntimeError is still running: what it yields after the throw is its next trap, "
                     "so put it back on the ready queue (resume it with gen.throw on its next turn) instead of dropping it")
        fail(call=call, expected=f"{describe(want)}, the task returns 'kept going' and the other task finishes",
             got=f"{describe(seen['log'])}, results {shown(seen['results'])}", cause=cause)
### END HIDDEN TESTS
