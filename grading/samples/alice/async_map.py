"""Exercise 1: async_map, a map that pauses after every item.

The built-in ``map(func, seq)`` does all its work without ever letting anyone
else run. ``async_map`` does the same work in small steps: it is a *generator
function*, so calling it only builds a paused generator, and each ``next()``
on that generator does exactly one more item's worth of work before pausing
again at a ``yield``.
"""


def async_map(func, seq):
    """Apply ``func`` to each item of ``seq``, pausing after every item.

    Each resume (each ``next()``) applies ``func`` to exactly one more item,
    appends the result to a list, then yields. The yielded value does not
    matter. An empty ``seq`` means no yield at all.

    ``seq`` may be any iterable, including a one-shot iterator: go through it
    once, with a ``for`` loop, and never call ``len()`` on it.

    When the items run out, the generator returns the list of results, in
    order: the caller finds it in ``StopIteration.value``.

    >>> gen = async_map(str.upper, ["a", "b"])
    >>> next(gen); next(gen)
    >>> try:
    ...     next(gen)
    ... except StopIteration as stop:
    ...     print(stop.value)
    ['A', 'B']
    """
    results = []
    for item in seq:
        results.append(func(item))
        yield
    return results
