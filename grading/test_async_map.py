"""Tests for exercise 1, async_map: a map that pauses after every item."""


from coopkit.harness import check, describe, fail


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


def start(async_map, func, seq):
    """Call ``async_map(func, seq)`` and check it returned something ``next()`` can drive."""
    gen = async_map(func, seq)
    if not hasattr(gen, "__next__"):
        fail(
            call=f"async_map({func!r}, {describe(seq)})",
            expected="a generator, paused before its first step",
            got=describe(gen),
            cause="async_map has no `yield`, so Python runs it as an ordinary function that finishes at once",
        )
    return gen


def advance(gen):
    """One ``next()``: ``(True, None)`` after a yield, ``(False, value)`` when the generator returned."""
    try:
        next(gen)
    except StopIteration as stop:
        return False, stop.value
    return True, None


def check_yields(async_map, seq, label, values=None):
    """Drive async_map over ``seq`` (whose items are ``values``) and fail unless it does one item per resume."""
    values = list(seq) if values is None else values
    func = Recorder()
    call = f"async_map(func, {label})"
    gen = start(async_map, func, seq)
    if func.calls:
        fail(
            call=call,
            expected="no call to func before the first next(): a generator starts paused",
            got=f"func already called {len(func.calls)} time(s)",
            cause="the work happens outside the generator, or async_map builds the list before its first yield",
        )
    for step in range(1, len(values) + 1):
        paused, _ = advance(gen)
        if not paused:
            fail(
                call=f"{call}, then next() #{step}",
                expected=f"a yield after item {step} of {len(values)}",
                got=f"the generator finished after {len(func.calls)} call(s) of func",
                cause="one yield per item: put the yield inside the loop",
            )
        if len(func.calls) != step:
            cause = (
                "the yield comes before the work: apply func, append, then yield"
                if len(func.calls) < step
                else "more than one item is processed per resume: yield after each item"
            )
            fail(
                call=f"{call}, then next() {step} time(s)",
                expected=f"func called exactly {step} time(s) so far",
                got=f"func called {len(func.calls)} time(s)",
                cause=cause,
            )
    paused, _ = advance(gen)
    if paused:
        fail(
            call=f"{call}, then next() {len(values) + 1} times",
            expected=f"StopIteration after {len(values)} yield(s): one yield per item"
            + (" and none at all for an empty input" if not values else ""),
            got="another yield",
            cause="an extra yield before or after the loop",
        )
    if func.calls != values:
        fail(
            call=call,
            expected=f"func called on each item once, in order: {describe(values)}",
            got=f"func called on {describe(func.calls)}",
            cause="items skipped, repeated or reordered",
        )


def run_to_end(async_map, func, seq, label, limit=10_000):
    """Drive the generator until it returns; give back the return value."""
    gen = start(async_map, func, seq)
    for _ in range(limit):
        paused, value = advance(gen)
        if not paused:
            return value
    fail(
        call=f"async_map(func, {label}) driven with next()",
        expected="StopIteration once every item is done",
        got=f"still yielding after {limit} resumes",
        cause="a loop that never ends",
    )


def check_result(async_map, seq, label):
    """The return value must be a real list holding func's results, in order."""
    func = Recorder()
    value = run_to_end(async_map, func, seq, label)
    call = f"async_map(func, {label}) driven to the end"
    if type(value) is not list:
        cause = "a missing `return results` (a generator's return value ends up in StopIteration.value)"
        if isinstance(value, list):
            cause = "return a plain list, not a subclass of list"
        fail(call=call, expected="StopIteration.value to be a list", got=f"{type(value).__name__}: {describe(value)}", cause=cause)
    got = list.__iter__(value)
    got = list(got)
    if len(got) != len(func.returned) or any(a is not b for a, b in zip(got, func.returned)):
        fail(
            call=call,
            expected=f"the list of func's results, in order: {describe(func.returned)}",
            got=describe(got),
            cause="results appended in the wrong order, a result missing or added twice, or new objects instead of func's results",
        )


@check("yield_points")
def test_one_item_per_resume(impl):
    """async_map does exactly one item's work per next(), then yields."""
    async_map = impl.attr("async_map", "async_map")
    check_yields(async_map, ["a", "b", "c"], "['a', 'b', 'c']")


@check("yield_points")
def test_empty_input_never_yields(impl):
    """An empty input gives no yield at all."""
    async_map = impl.attr("async_map", "async_map")
    check_yields(async_map, [], "[]")


@check("stop_value")
def test_returns_list_of_results(impl):
    """The generator returns the list of results: async_map(double, [1, 2, 3]) gives [2, 4, 6]."""
    async_map = impl.attr("async_map", "async_map")
    value = run_to_end(async_map, lambda x: 2 * x, [1, 2, 3], "[1, 2, 3]")
    if type(value) is not list or list(list.__iter__(value)) != [2, 4, 6] or any(type(v) is not int for v in list.__iter__(value)):
        fail(
            call="async_map(double, [1, 2, 3]) driven to the end",
            expected="StopIteration.value == [2, 4, 6]",
            got=describe(value),
            cause="the list is not returned, or holds something else than func's results",
        )


@check("stop_value")
def test_returns_the_results_themselves(impl):
    """The returned list holds func's own results, in order."""
    async_map = impl.attr("async_map", "async_map")
    check_result(async_map, ["x", "y"], "['x', 'y']")


### BEGIN HIDDEN TESTS
@check("yield_points")
def test_yields_random_inputs(impl, rng):
    """One yield per item over inputs of many lengths."""
    async_map = impl.attr("async_map", "async_map")
    for _ in range(12):
        values = [rng.randint(-99, 99) for _ in range(rng.randint(0, 15))]
        check_yields(async_map, values, describe(values))


@check("yield_points")
def test_yields_with_one_shot_iterators(impl, rng):
    """A one-shot iterator, a generator expression and a string all work."""
    async_map = impl.attr("async_map", "async_map")
    values = [rng.random() for _ in range(rng.randint(3, 9))]
    check_yields(async_map, OneShot(values), f"one_shot({describe(values)})", values)
    check_yields(async_map, iter(values), "iter([...])", values)
    word = "".join(rng.choice("abcdef") for _ in range(6))
    check_yields(async_map, word, repr(word))
    check_yields(async_map, range(rng.randint(1, 7)), "range(...)")


@check("yield_points")
def test_yield_after_each_item_not_before(impl, rng):
    """The work for item k is done by the k-th resume, not the next one."""
    async_map = impl.attr("async_map", "async_map")
    seen = []
    values = [rng.randint(0, 9) for _ in range(5)]
    gen = start(async_map, seen.append, values)
    for step, value in enumerate(values, 1):
        advance(gen)
        if seen[-1:] != [value]:
            fail(
                call=f"async_map(func, {describe(values)}), then next() {step} time(s)",
                expected=f"func's latest call on item {step} ({value!r})",
                got=f"calls so far: {describe(seen)}",
                cause="the yield comes before the work for its item",
            )


@check("yield_points")
def test_creating_the_generator_is_lazy(impl):
    """Calling async_map does no work and does not touch the input until the first next()."""
    async_map = impl.attr("async_map", "async_map")

    class Untouchable:
        def __iter__(self):
            raise AssertionError("touched")

    func = Recorder()
    try:
        async_map(func, Untouchable())
    except AssertionError:
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
    for _ in range(10):
        values = [rng.randint(-9, 9) for _ in range(rng.randint(0, 12))]
        check_result(async_map, values, describe(values))


@check("stop_value")
def test_result_from_tuples_ranges_and_empty(impl, rng):
    """Tuples, ranges and empty inputs return the right list."""
    async_map = impl.attr("async_map", "async_map")
    values = tuple(rng.randint(0, 50) for _ in range(rng.randint(2, 8)))
    check_result(async_map, values, describe(values))
    check_result(async_map, range(rng.randint(1, 9)), "range(...)")
    check_result(async_map, [], "[]")
    value = run_to_end(async_map, len, [], "[]")
    if type(value) is not list or len(list(list.__iter__(value))) != 0:
        fail(call="async_map(len, []) driven to the end", expected="[]", got=describe(value), cause="nothing is returned for an empty input")


@check("stop_value")
def test_result_is_a_new_list_each_call(impl):
    """Two runs give two separate lists (no list shared between calls)."""
    async_map = impl.attr("async_map", "async_map")
    first = run_to_end(async_map, str, [1], "[1]")
    second = run_to_end(async_map, str, [2], "[2]")
    if first is second or type(second) is not list or list(list.__iter__(second)) != ["2"]:
        fail(
            call="async_map(str, [1]) then async_map(str, [2])",
            expected="['1'] then ['2'], two separate lists",
            got=f"{describe(first)} then {describe(second)}",
            cause="a list shared between calls, such as a default argument `results=[]` or a global",
        )
### END HIDDEN TESTS
