"""Tests for exercise 2, runner: drive a generator to the end.

Each test observes (``test_*``: runs runner, returns plain data) and is judged
by its verify half (``verify_*``: decides from that data alone).
"""


from coopkit.harness import check, describe, fail


class Marker:
    """A return value with an identity of its own."""

    def __repr__(self):
        return "<marker object>"


class Oops(Exception):
    """An exception raised inside the generator under test."""


class Abort(BaseException):
    """Not an Exception: runner must not swallow it either."""


def counting(steps, result, log):
    """Yield ``steps`` times (logging each step), then return ``result``."""
    for step in range(steps):
        log.append(step)
        yield step
    log.append("end")
    return result


def failing(steps, error, log):
    """Yield ``steps`` times, then raise ``error``."""
    for step in range(steps):
        log.append(step)
        yield
    log.append("raise")
    raise error


# -- observing (runs beside the code under test) --------------------------------


def same(value, expected):
    """What came back, as data: ``{"is": "expected"}`` for that very object, else its type and repr."""
    if value is expected:
        return {"is": "expected"}
    return {"type": type(value).__name__, "repr": describe(value)}


def observe_returns(runner, steps, result):
    """Run ``runner`` on a counting generator: how far the generator got and what came back.

    A wrong answer gets more data, to tell its likely causes apart: ``args``
    when it is ``StopIteration.args`` (a tuple holding the return value);
    for None, ``swallows`` when runner also returns instead of raising on a
    generator that raises an Exception (an ``except Exception`` ahead of
    ``except StopIteration`` does both).
    """
    log = []
    try:
        value = runner(counting(steps, result, log))
    except StopIteration:
        return {"steps": len(log), "ended": log[-1:] == ["end"], "escaped": "StopIteration"}
    seen = {"steps": len(log), "ended": log[-1:] == ["end"], "value": same(value, result)}
    if value is not result:
        seen["args"] = type(value) is tuple and value == (() if result is None else (result,)) and all(
            item is result for item in value
        )
        if value is None:
            seen["swallows"] = swallows_errors(runner)
    return seen


def swallows_errors(runner):
    """True when ``runner`` returns on a generator that raises an Exception instead of letting it out."""
    try:
        runner(failing(1, Oops("probe"), []))
    except NotImplementedError:
        raise
    except BaseException:  # noqa: BLE001 - it came out: not swallowed
        return False
    return True


def observe_raises(runner, steps, error):
    """Run ``runner`` on a failing generator: what came out of it."""
    log = []
    try:
        value = runner(failing(steps, error, log))
    except NotImplementedError:
        raise
    except BaseException as caught:  # noqa: BLE001 - we record what came out
        return {"steps": len(log), "raised": same(caught, error), "text": describe(str(caught))}
    return {"steps": len(log), "returned": describe(value)}


# -- judging (runs in the grader, on the data alone) ------------------------------

ARGS_CAUSE = (
    "`stop.args` is a tuple of the exception's arguments, with the return value inside it: "
    "the generator's return value itself is `stop.value`"
)
EXCEPT_ORDER_CAUSE = (
    "`except Exception` comes before `except StopIteration` and catches the StopIteration too: "
    "StopIteration is itself an Exception, and the first matching except wins. "
    "Put `except StopIteration` first, and let other exceptions out"
)


def judge_returns(seen, steps, label):
    call = f"runner(gen) on a generator that yields {steps} time(s) and returns {label}"
    if seen.get("escaped") == "StopIteration":
        fail(
            call=call,
            expected=f"{label} returned",
            got="StopIteration escaped from runner",
            cause=(
                "catch StopIteration around next(gen) and return its .value; if you do, check that no "
                "`except Exception` comes before `except StopIteration`: StopIteration is itself an Exception, "
                "so the first one catches it"
            ),
        )
    if not seen.get("ended") or seen.get("steps") != steps + 1:
        fail(call=call, expected="the generator run to its end", got=f"it stopped after {seen.get('steps')} step(s)", cause="runner stops calling next() too early")
    value = seen.get("value")
    if value != {"is": "expected"}:
        cause = "the return value is in StopIteration.value: a `for` loop over the generator throws it away"
        if seen.get("args") is True:
            cause = ARGS_CAUSE
        elif value == {"type": "NoneType", "repr": "None"} and seen.get("swallows") is True:
            cause = EXCEPT_ORDER_CAUSE
        elif value == {"type": "NoneType", "repr": "None"}:
            cause = (
                "runner returns nothing: the return value is in StopIteration.value (catch it with "
                "`except StopIteration as stop` and return stop.value); a `for` loop over the generator throws it away"
            )
        fail(call=call, expected=f"{label} (that very object)", got=value.get("repr") if isinstance(value, dict) else describe(value), cause=cause)


def judge_raises(seen, steps, error_name, label):
    call = f"runner(gen) on a generator that yields {steps} time(s), then raises {label}"
    raised = seen.get("raised")
    if raised is None:
        fail(
            call=call,
            expected=f"the {error_name} to come out of runner",
            got=f"runner returned {seen.get('returned')}",
            cause="an `except Exception` (or a bare except) swallows the error: catch only StopIteration",
        )
    if raised != {"is": "expected"} or seen.get("steps") != steps + 1:
        fail(
            call=call,
            expected=f"that same {error_name} to come out of runner",
            got=f"{raised.get('type')}: {seen.get('text')}",
            cause="the exception is caught and replaced by another: let it propagate untouched",
        )


@check("stop_value")
def test_returns_the_return_value(impl):
    """runner returns what the generator returns: 'liftoff' after a countdown."""
    runner = impl.attr("runner", "runner")
    return observe_returns(runner, 3, "liftoff")


def verify_returns_the_return_value(seen):
    judge_returns(seen, 3, "'liftoff'")


@check("stop_value")
def test_returns_none_and_zero(impl):
    """runner hands back None and 0 too."""
    runner = impl.attr("runner", "runner")
    return [observe_returns(runner, 2, None), observe_returns(runner, 1, 0)]


def verify_returns_none_and_zero(seen):
    judge_returns(seen[0], 2, "None")
    judge_returns(seen[1], 1, "0")


@check("exception_propagation")
def test_exception_comes_out(impl):
    """An exception raised inside the generator comes out of runner unchanged."""
    runner = impl.attr("runner", "runner")
    return observe_raises(runner, 2, ValueError("bad value"))


def verify_exception_comes_out(seen):
    judge_raises(seen, 2, "ValueError", "ValueError('bad value')")


### BEGIN HIDDEN TESTS
VERY_OBJECT_EXTRAS = [((), "()"), ((1, 2), "(1, 2)"), (False, "False"), ("", "''")]


@check("stop_value")
def test_returns_the_very_object(impl, rng):
    """runner returns the very object the generator returned, after any number of steps."""
    runner = impl.attr("runner", "runner")
    seen = [observe_returns(runner, rng.randint(0, 40), Marker()) for _ in range(8)]
    seen += [observe_returns(runner, rng.randint(1, 5), value) for value, _ in VERY_OBJECT_EXTRAS]
    return seen


def verify_returns_the_very_object(seen, rng):
    for index in range(8):
        judge_returns(seen[index], rng.randint(0, 40), "a marker object")
    for index, (_, label) in enumerate(VERY_OBJECT_EXTRAS, start=8):
        judge_returns(seen[index], rng.randint(1, 5), label)


@check("stop_value")
def test_long_generators(impl, rng):
    """Hundreds of steps."""
    runner = impl.attr("runner", "runner")
    return observe_returns(runner, rng.randint(300, 600), Marker())


def verify_long_generators(seen, rng):
    judge_returns(seen, rng.randint(300, 600), "a marker object")


@check("stop_value")
def test_generator_that_never_yields(impl):
    """A generator that returns at once: runner still returns its value."""
    runner = impl.attr("runner", "runner")
    return observe_returns(runner, 0, "done")


def verify_generator_that_never_yields(seen):
    judge_returns(seen, 0, "'done'")


@check("stop_value")
def test_values_yielded_are_not_the_result(impl, rng):
    """What the generator yields along the way is not its return value."""
    runner = impl.attr("runner", "runner")
    return observe_returns(runner, rng.randint(2, 9), Marker())


def verify_values_yielded_are_not_the_result(seen, rng):
    steps = rng.randint(2, 9)
    if seen.get("value") not in ({"is": "expected"}, {"type": "int", "repr": str(steps - 1)}):
        judge_returns(seen, steps, "a marker")  # wrong, but not the last yielded value: its own cause
    if seen.get("value") != {"is": "expected"}:
        value = seen.get("value") or {}
        fail(
            call=f"runner(gen) on a generator that yields 0..{steps - 1} then returns a marker",
            expected="the marker",
            got=value.get("repr", "StopIteration escaped from runner"),
            cause="runner returns the last yielded value, not StopIteration.value",
        )
    judge_returns(seen, steps, "a marker")


def same_exception_inputs(rng):
    """Five (steps, message) pairs: both halves draw them the same way."""
    return [(rng.randint(0, 20), rng.random()) for _ in range(5)]


@check("exception_propagation")
def test_same_exception_object(impl, rng):
    """The very exception object comes out, after any number of steps."""
    runner = impl.attr("runner", "runner")
    seen = []
    for steps, text in same_exception_inputs(rng):
        seen.append(observe_raises(runner, steps, Oops(text)))
    seen.append(observe_raises(runner, 1, KeyError("k")))
    seen.append(observe_raises(runner, 1, ZeroDivisionError("division by zero")))
    return seen


def verify_same_exception_object(seen, rng):
    for index, (steps, _) in enumerate(same_exception_inputs(rng)):
        judge_raises(seen[index], steps, "Oops", "Oops(...)")
    judge_raises(seen[5], 1, "KeyError", "KeyError('k')")
    judge_raises(seen[6], 1, "ZeroDivisionError", "ZeroDivisionError")


@check("exception_propagation")
def test_base_exceptions_propagate(impl):
    """Errors that are not Exceptions (like KeyboardInterrupt) come out too."""
    runner = impl.attr("runner", "runner")
    return [observe_raises(runner, 3, Abort("stop")), observe_raises(runner, 1, KeyboardInterrupt())]


def verify_base_exceptions_propagate(seen):
    judge_raises(seen[0], 3, "Abort", "Abort('stop'), a BaseException")
    judge_raises(seen[1], 1, "KeyboardInterrupt", "KeyboardInterrupt()")


@check("exception_propagation")
def test_exception_after_many_steps(impl, rng):
    """An exception after hundreds of steps still comes out unchanged."""
    runner = impl.attr("runner", "runner")
    return observe_raises(runner, rng.randint(300, 600), Oops("late"))


def verify_exception_after_many_steps(seen, rng):
    judge_raises(seen, rng.randint(300, 600), "Oops", "Oops('late')")


### END HIDDEN TESTS
