"""Tests for exercise 1, async_map: a map that pauses after every item.

Each test observes (``test_*``: drives async_map with ``next()`` and returns
plain data) and is judged by its verify half (``verify_*``: decides from that
data alone).
"""

import math

from coopkit.harness import Shown, check, describe, fail

RUN_LIMIT = 10_000  # resumes before a generator that never returns is given up on
LIST_LIMIT = 100  # items of a list sent back: more than any input has, and enough to fill a describe()
NOT_A_GENERATOR = "async_map has no `yield`, so Python runs it as an ordinary function that finishes at once"
WRONG_RESULTS = "results appended in the wrong order, a result missing or added twice, or new objects instead of func's results"


class Item:
    """A result object with an identity of its own: a copy or an impostor is caught."""

    __slots__ = ("source",)

    def __init__(self, source):
        self.source = source

    def __repr__(self):
        return f"Item({self.source!r})"


class Recorder:
    """A ``func`` for async_map that counts its calls and returns a fresh ``Item`` each time."""

    def __init__(self):
        self.calls = []
        self.returned = []

    def __call__(self, value):
        self.calls.append(value)
        result = Item(value)
        self.returned.append(result)
        return result

    def __repr__(self):
        return "func"


class OneShot:
    """An iterable that can be gone through only once and has no len()."""

    def __init__(self, values):
        self.values = list(values)
        self.used = False

    def __iter__(self):
        if self.used:
            raise AssertionError("this iterable was iterated a second time")
        self.used = True
        return iter(self.values)

    def __repr__(self):
        return f"one_shot({self.values!r})"


class Untouchable:
    """An input that logs (and refuses) any attempt to go through it."""

    def __init__(self):
        self.log = []

    def __iter__(self):
        self.log.append("iter")
        raise AssertionError("touched")


# -- observing (runs beside the code under test) --------------------------------


def data(value):
    """A value as data: ints, finite floats and short strs as themselves, anything else by type and repr."""
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)) or (kind is str and len(value) <= 100):
        return value
    return {"type": type_name(value), "repr": describe(value)}


def type_name(value):
    try:
        name = type(value).__name__
        return name if type(name) is str else "?"
    except Exception:  # noqa: BLE001 - a strange class has no name worth showing
        return "?"


def kind(value):
    """What sort of object came back: ``{"is": "list"}`` for a real list, else its type and its classes."""
    if type(value) is list:
        return {"is": "list"}
    try:
        bases = [cls.__name__ for cls in type(value).__mro__ if type(cls.__name__) is str]
    except Exception:  # noqa: BLE001
        bases = []
    return {"type": type_name(value), "bases": bases}


def listed(values):
    """A list of values as data, cut at ``LIST_LIMIT`` items."""
    return [data(value) for value in values[:LIST_LIMIT]]


def advance(gen):
    """One ``next()``: ``(True, None)`` after a yield, ``(False, value)`` when the generator returned."""
    try:
        next(gen)
    except StopIteration as stop:
        return False, stop.value
    return True, None


def drive(async_map, func, seq):
    """Call ``async_map(func, seq)`` and resume it until it returns: ``(what happened, its return value)``."""
    gen = async_map(func, seq)
    if not hasattr(gen, "__next__"):
        return {"returned": describe(gen)}, None
    for yields in range(RUN_LIMIT):
        paused, value = advance(gen)
        if not paused:
            return {"yields": yields}, value
    return {"yields": RUN_LIMIT}, None


def result_of(value, made=()):
    """The generator's return value as data; items that are one of ``made`` (func's results) by identity."""
    seen = {"kind": kind(value), "repr": describe(value)}
    if type(value) is list:
        items = list(list.__iter__(value))
        seen["length"] = len(items)
        seen["items"] = []
        for item in items[:LIST_LIMIT]:
            index = next((i for i, result in enumerate(made) if result is item), None)
            seen["items"].append(data(item) if index is None else {"is": f"result {index}"})
    return seen


def observe_result(async_map, seq):
    """Drive async_map over ``seq`` with a recording func: what it returned, and how many results func made."""
    func = Recorder()
    seen, value = drive(async_map, func, seq)
    seen.update(result_of(value, func.returned), made=len(func.returned))
    return seen


def observe_yields(async_map, seq, count):
    """Drive async_map over ``seq`` (``count`` items) one ``next()`` at a time: func's calls after each.

    Stops where the generator returned or went off track (func called a number of times other than the
    number of resumes): nothing after that point is judged, and driving on could only hide it.
    """
    func = Recorder()
    gen = async_map(func, seq)
    if not hasattr(gen, "__next__"):
        return {"returned": describe(gen)}
    seen = {"before": len(func.calls), "steps": []}
    if not func.calls:
        for step in range(1, count + 2):
            paused, _ = advance(gen)
            seen["steps"].append({"event": "yield" if paused else "return", "calls": len(func.calls)})
            if not paused or len(func.calls) != step:
                break
    seen["calls"] = listed(func.calls)
    return seen


# -- judging (runs in the grader, on the data alone) ------------------------------


def rebuilt(value):
    if isinstance(value, list):
        return [rebuilt(item) for item in value]
    if isinstance(value, dict):
        return Shown(value.get("repr"))
    return value


def shown(values):
    """Data as the old messages showed the objects behind it."""
    return describe(rebuilt(values))


def judge_drive(seen, started, label):
    """Fail unless async_map gave a generator (``started``: how it was called) that returned in the end."""
    if "returned" in seen:
        fail(call=started, expected="a generator, paused before its first step", got=seen["returned"], cause=NOT_A_GENERATOR)
    yields = seen.get("yields")
    if type(yields) is not int or yields >= RUN_LIMIT:
        fail(
            call=f"async_map(func, {label}) driven with next()",
            expected="StopIteration once every item is done",
            got=f"still yielding after {RUN_LIMIT} resumes",
            cause="a loop that never ends",
        )


def judge_yields(seen, values, label):
    """Fail unless async_map over ``values`` did one item per resume, then returned."""
    call = f"async_map(func, {label})"
    if "returned" in seen:
        fail(call=call, expected="a generator, paused before its first step", got=seen["returned"], cause=NOT_A_GENERATOR)
    if seen.get("before") != 0:
        fail(
            call=call,
            expected="no call to func before the first next(): a generator starts paused",
            got=f"func already called {seen.get('before')} time(s)",
            cause="the work happens outside the generator, or async_map builds the list before its first yield",
        )
    steps = seen.get("steps") if isinstance(seen.get("steps"), list) else []
    records = [record if isinstance(record, dict) else {} for record in steps] + [{}] * (len(values) + 1)
    for step in range(1, len(values) + 1):
        record = records[step - 1]
        calls = record.get("calls")
        if record.get("event") != "yield":
            fail(
                call=f"{call}, then next() #{step}",
                expected=f"a yield after item {step} of {len(values)}",
                got=f"the generator finished after {calls} call(s) of func",
                cause="one yield per item: put the yield inside the loop",
            )
        if calls != step:
            cause = (
                "the yield comes before the work: apply func, append, then yield"
                if type(calls) is int and calls < step
                else "more than one item is processed per resume: yield after each item"
            )
            fail(
                call=f"{call}, then next() {step} time(s)",
                expected=f"func called exactly {step} time(s) so far",
                got=f"func called {calls} time(s)",
                cause=cause,
            )
    if records[len(values)].get("event") != "return":
        fail(
            call=f"{call}, then next() {len(values) + 1} times",
            expected=f"StopIteration after {len(values)} yield(s): one yield per item"
            + (" and none at all for an empty input" if not values else ""),
            got="another yield",
            cause="an extra yield before or after the loop",
        )
    if seen.get("calls") != values:
        fail(
            call=call,
            expected=f"func called on each item once, in order: {describe(values)}",
            got=f"func called on {shown(seen.get('calls'))}",
            cause="items skipped, repeated or reordered",
        )


def judge_result(seen, values, label):
    """Fail unless async_map over ``values`` returned a real list of func's own results, in order."""
    judge_drive(seen, f"async_map(func, {label})", label)
    call = f"async_map(func, {label}) driven to the end"
    found = seen.get("kind")
    if found != {"is": "list"}:
        found = found if isinstance(found, dict) else {}
        cause = "a missing `return results` (a generator's return value ends up in StopIteration.value)"
        if isinstance(found.get("bases"), list) and "list" in found["bases"]:
            cause = "return a plain list, not a subclass of list"
        fail(call=call, expected="StopIteration.value to be a list", got=f"{found.get('type')}: {seen.get('repr')}", cause=cause)
    results = [{"is": f"result {index}"} for index in range(len(values))]
    if seen.get("made") != len(values) or seen.get("length") != len(values) or seen.get("items") != results:
        got = seen.get("repr")
        if seen.get("made") != len(values):
            got = f"{got} (func was called {seen.get('made')} time(s) for {len(values)} item(s))"
        fail(
            call=call,
            expected=f"the list of func's results, in order: {describe([Item(value) for value in values])}",
            got=got,
            cause=WRONG_RESULTS,
        )


def is_list_of(seen, values):
    """The return value was a real list holding exactly ``values``, type for type."""
    items = seen.get("items")
    return (
        seen.get("kind") == {"is": "list"}
        and seen.get("length") == len(values)
        and isinstance(items, list)
        and len(items) == len(values)
        and all(type(item) is type(value) and item == value for item, value in zip(items, values))
    )


# -- the tests ----------------------------------------------------------------


@check("yield_points")
def test_one_item_per_resume(impl):
    """async_map does exactly one item's work per next(), then yields."""
    async_map = impl.attr("async_map", "async_map")
    return observe_yields(async_map, ["a", "b", "c"], 3)


def verify_one_item_per_resume(seen):
    judge_yields(seen, ["a", "b", "c"], "['a', 'b', 'c']")


@check("yield_points")
def test_empty_input_never_yields(impl):
    """An empty input gives no yield at all."""
    async_map = impl.attr("async_map", "async_map")
    return observe_yields(async_map, [], 0)


def verify_empty_input_never_yields(seen):
    judge_yields(seen, [], "[]")


@check("stop_value")
def test_returns_list_of_results(impl):
    """The generator returns the list of results: async_map(double, [1, 2, 3]) gives [2, 4, 6]."""
    async_map = impl.attr("async_map", "async_map")
    seen, value = drive(async_map, lambda x: 2 * x, [1, 2, 3])
    seen.update(result_of(value))
    return seen


def verify_returns_list_of_results(seen):
    judge_drive(seen, "async_map(double, [1, 2, 3])", "[1, 2, 3]")
    if not is_list_of(seen, [2, 4, 6]):
        fail(
            call="async_map(double, [1, 2, 3]) driven to the end",
            expected="StopIteration.value == [2, 4, 6]",
            got=seen.get("repr"),
            cause="the list is not returned, or holds something else than func's results",
        )


@check("stop_value")
def test_returns_the_results_themselves(impl):
    """The returned list holds func's own results, in order."""
    async_map = impl.attr("async_map", "async_map")
    return observe_result(async_map, ["x", "y"])


def verify_returns_the_results_themselves(seen):
    judge_result(seen, ["x", "y"], "['x', 'y']")


### BEGIN HIDDEN TESTS
def random_lists(rng, count, low, high, longest):
    """``count`` lists of ints in [low, high], 0 to ``longest`` items each: both halves draw them the same way."""
    return [[rng.randint(low, high) for _ in range(rng.randint(0, longest))] for _ in range(count)]


@check("yield_points")
def test_yields_random_inputs(impl, rng):
    """One yield per item over inputs of many lengths."""
    async_map = impl.attr("async_map", "async_map")
    return [observe_yields(async_map, values, len(values)) for values in random_lists(rng, 12, -99, 99, 15)]


def verify_yields_random_inputs(seen, rng):
    for index, values in enumerate(random_lists(rng, 12, -99, 99, 15)):
        judge_yields(seen[index], values, describe(values))


def one_shot_inputs(rng):
    """Floats for the one-shot inputs, a word, and a range's length: both halves draw them the same way."""
    values = [rng.random() for _ in range(rng.randint(3, 9))]
    word = "".join(rng.choice("abcdef") for _ in range(6))
    return values, word, rng.randint(1, 7)


@check("yield_points")
def test_yields_with_one_shot_iterators(impl, rng):
    """A one-shot iterator, a generator expression and a string all work."""
    async_map = impl.attr("async_map", "async_map")
    values, word, length = one_shot_inputs(rng)
    return [
        observe_yields(async_map, OneShot(values), len(values)),
        observe_yields(async_map, iter(values), len(values)),
        observe_yields(async_map, word, len(word)),
        observe_yields(async_map, range(length), length),
    ]


def verify_yields_with_one_shot_iterators(seen, rng):
    values, word, length = one_shot_inputs(rng)
    judge_yields(seen[0], values, f"one_shot({describe(values)})")
    judge_yields(seen[1], values, "iter([...])")
    judge_yields(seen[2], list(word), repr(word))
    judge_yields(seen[3], list(range(length)), "range(...)")


def after_each_inputs(rng):
    return [rng.randint(0, 9) for _ in range(5)]


@check("yield_points")
def test_yield_after_each_item_not_before(impl, rng):
    """The work for item k is done by the k-th resume, not the next one."""
    async_map = impl.attr("async_map", "async_map")
    values = after_each_inputs(rng)
    calls = []
    gen = async_map(calls.append, values)
    if not hasattr(gen, "__next__"):
        return {"returned": describe(gen)}
    steps = []
    for value in values:
        advance(gen)
        steps.append({"last": listed(calls[-1:]), "calls": listed(calls)})
        if steps[-1]["last"] != [value]:
            break  # off track: the next resumes are not judged
    return {"steps": steps}


def verify_yield_after_each_item_not_before(seen, rng):
    values = after_each_inputs(rng)
    if "returned" in seen:
        fail(call=f"async_map(func, {describe(values)})", expected="a generator, paused before its first step", got=seen["returned"], cause=NOT_A_GENERATOR)
    steps = seen.get("steps") if isinstance(seen.get("steps"), list) else []
    records = [record if isinstance(record, dict) else {} for record in steps] + [{}] * len(values)
    for step, value in enumerate(values, 1):
        record = records[step - 1]
        if record.get("last") != [value]:
            fail(
                call=f"async_map(func, {describe(values)}), then next() {step} time(s)",
                expected=f"func's latest call on item {step} ({value!r})",
                got=f"calls so far: {shown(record.get('calls', []))}",
                cause="the yield comes before the work for its item",
            )


@check("yield_points")
def test_creating_the_generator_is_lazy(impl):
    """Calling async_map does no work and does not touch the input until the first next()."""
    async_map = impl.attr("async_map", "async_map")
    seq = Untouchable()
    try:
        async_map(Recorder(), seq)
    except AssertionError:
        return {"touched": seq.log, "raised": "AssertionError"}
    return {"touched": seq.log}


def verify_creating_the_generator_is_lazy(seen):
    if seen.get("touched") != [] or "raised" in seen:
        fail(
            call="async_map(func, seq) without any next()",
            expected="nothing to happen until the first next()",
            got="the input was iterated right away",
            cause="async_map is not a generator function, or a helper builds the list eagerly",
        )


@check("stop_value")
def test_result_lists_random(impl, rng):
    """The returned list holds func's results in order, over many inputs."""
    async_map = impl.attr("async_map", "async_map")
    return [observe_result(async_map, values) for values in random_lists(rng, 10, -9, 9, 12)]


def verify_result_lists_random(seen, rng):
    for index, values in enumerate(random_lists(rng, 10, -9, 9, 12)):
        judge_result(seen[index], values, describe(values))


def tuples_inputs(rng):
    """A tuple of ints and a range's length: both halves draw them the same way."""
    values = tuple(rng.randint(0, 50) for _ in range(rng.randint(2, 8)))
    return values, rng.randint(1, 9)


@check("stop_value")
def test_result_from_tuples_ranges_and_empty(impl, rng):
    """Tuples, ranges and empty inputs return the right list."""
    async_map = impl.attr("async_map", "async_map")
    values, length = tuples_inputs(rng)
    seen = [observe_result(async_map, values), observe_result(async_map, range(length)), observe_result(async_map, [])]
    run, value = drive(async_map, len, [])
    run.update(result_of(value))
    return seen + [run]


def verify_result_from_tuples_ranges_and_empty(seen, rng):
    values, length = tuples_inputs(rng)
    judge_result(seen[0], list(values), describe(values))
    judge_result(seen[1], list(range(length)), "range(...)")
    judge_result(seen[2], [], "[]")
    judge_drive(seen[3], "async_map(len, [])", "[]")
    if not is_list_of(seen[3], []):
        fail(call="async_map(len, []) driven to the end", expected="[]", got=seen[3].get("repr"), cause="nothing is returned for an empty input")


@check("stop_value")
def test_result_is_a_new_list_each_call(impl):
    """Two runs give two separate lists (no list shared between calls)."""
    async_map = impl.attr("async_map", "async_map")
    first_run, first = drive(async_map, str, [1])
    second_run, second = drive(async_map, str, [2])
    return {
        "first": first_run,
        "second": second_run,
        "result": {"is": "first"} if second is first else result_of(second),
        "texts": [describe(first), describe(second)],
    }


def verify_result_is_a_new_list_each_call(seen):
    judge_drive(seen.get("first", {}), "async_map(str, [1])", "[1]")
    judge_drive(seen.get("second", {}), "async_map(str, [2])", "[2]")
    result = seen.get("result") if isinstance(seen.get("result"), dict) else {}
    if result == {"is": "first"} or not is_list_of(result, ["2"]):
        texts = seen.get("texts") if isinstance(seen.get("texts"), list) else []
        first, second = (texts + ["?", "?"])[:2]
        fail(
            call="async_map(str, [1]) then async_map(str, [2])",
            expected="['1'] then ['2'], two separate lists",
            got=f"{first} then {second}",
            cause="a list shared between calls, such as a default argument `results=[]` or a global",
        )
### END HIDDEN TESTS
