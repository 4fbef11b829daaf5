"""Tests for exercise 2, runner: drive a generator to the end."""


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


def check_returns(runner, steps, result, label):
    log = []
    call = f"runner(gen) on a generator that yields {steps} time(s) and returns {label}"
    try:
        value = runner(counting(steps, result, log))
    except StopIteration:
        fail(
            call=call,
            expected=f"{label} returned",
            got="StopIteration escaped from runner",
            cause="catch StopIteration around next(gen) and return its .value",
        )
    if log[-1:] != ["end"]:
        fail(call=call, expected="the generator run to its end", got=f"it stopped after {len(log)} step(s)", cause="runner stops calling next() too early")
    if value is not result:
        cause = "the return value is in StopIteration.value: a `for` loop over the generator throws it away"
        if value is None:
            cause = "runner returns nothing: " + cause
        fail(call=call, expected=f"{label} (that very object)", got=describe(value), cause=cause)


def check_raises(runner, steps, error, label):
    log = []
    call = f"runner(gen) on a generator that yields {steps} time(s), then raises {label}"
    try:
        value = runner(failing(steps, error, log))
    except NotImplementedError:
        raise
    except BaseException as caught:  # noqa: BLE001 - we compare what came out
        if caught is not error:
            fail(
                call=call,
                expected=f"that same {type(error).__name__} to come out of runner",
                got=f"{type(caught).__name__}: {describe(str(caught))}",
                cause="the exception is caught and replaced by another: let it propagate untouched",
            )
        return
    fail(
        call=call,
        expected=f"the {type(error).__name__} to come out of runner",
        got=f"runner returned {describe(value)}",
        cause="an `except Exception` (or a bare except) swallows the error: catch only StopIteration",
    )


@check("stop_value")
def test_returns_the_return_value(impl):
    """runner returns what the generator returns: 'liftoff' after a countdown."""
    runner = impl.attr("runner", "runner")
    check_returns(runner, 3, "liftoff", "'liftoff'")


@check("stop_value")
def test_returns_none_and_zero(impl):
    """runner hands back None and 0 too."""
    runner = impl.attr("runner", "runner")
    check_returns(runner, 2, None, "None")
    check_returns(runner, 1, 0, "0")


@check("exception_propagation")
def test_exception_comes_out(impl):
    """An exception raised inside the generator comes out of runner unchanged."""
    runner = impl.attr("runner", "runner")
    check_raises(runner, 2, ValueError("bad value"), "ValueError('bad value')")


### BEGIN HIDDEN TESTS
@check("stop_value")
def test_returns_the_very_object(impl, rng):
    """runner returns the very object the generator returned, after any number of steps."""
    runner = impl.attr("runner", "runner")
    for _ in range(8):
        check_returns(runner, rng.randint(0, 40), Marker(), "a marker object")
    check_returns(runner, rng.randint(1, 5), (), "()")
    check_returns(runner, rng.randint(1, 5), (1, 2), "(1, 2)")
    check_returns(runner, rng.randint(1, 5), False, "False")
    check_returns(runner, rng.randint(1, 5), "", "''")


@check("stop_value")
def test_long_generators(impl, rng):
    """Hundreds of steps."""
    runner = impl.attr("runner", "runner")
    check_returns(runner, rng.randint(300, 600), Marker(), "a marker object")


@check("stop_value")
def test_generator_that_never_yields(impl):
    """A generator that returns at once: runner still returns its value."""
    runner = impl.attr("runner", "runner")
    check_returns(runner, 0, "done", "'done'")


@check("stop_value")
def test_values_yielded_are_not_the_result(impl, rng):
    """What the generator yields along the way is not its return value."""
    runner = impl.attr("runner", "runner")
    marker = Marker()
    log = []
    steps = rng.randint(2, 9)
    value = runner(counting(steps, marker, log))
    if value is not marker:
        fail(
            call=f"runner(gen) on a generator that yields 0..{steps - 1} then returns a marker",
            expected="the marker",
            got=describe(value),
            cause="runner returns the last yielded value, not StopIteration.value",
        )


@check("exception_propagation")
def test_same_exception_object(impl, rng):
    """The very exception object comes out, after any number of steps."""
    runner = impl.attr("runner", "runner")
    for _ in range(5):
        error = Oops(rng.random())
        check_raises(runner, rng.randint(0, 20), error, "Oops(...)")
    check_raises(runner, 1, KeyError("k"), "KeyError('k')")
    check_raises(runner, 1, ZeroDivisionError("division by zero"), "ZeroDivisionError")


@check("exception_propagation")
def test_base_exceptions_propagate(impl):
    """Errors that are not Exceptions (like KeyboardInterrupt) come out too."""
    runner = impl.attr("runner", "runner")
    check_raises(runner, 3, Abort("stop"), "Abort('stop'), a BaseException")
    check_raises(runner, 1, KeyboardInterrupt(), "KeyboardInterrupt()")


@check("exception_propagation")
def test_exception_after_many_steps(impl, rng):
    """An exception after hundreds of steps still comes out unchanged."""
    runner = impl.attr("runner", "runner")
    check_raises(runner, rng.randint(300, 600), Oops("late"), "Oops('late')")


### END HIDDEN TESTS
