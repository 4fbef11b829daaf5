"""Exercise 2: runner, which drives a generator to the end.

A generator does nothing until somebody calls ``next()`` on it. ``runner`` is
the simplest possible somebody: it keeps calling ``next()`` until the
generator is finished, and hands back what the generator returned.
"""


def runner(gen):
    """Run ``gen`` to completion and return its return value.

    Call ``next(gen)`` over and over. When the generator finishes, ``next()``
    raises ``StopIteration``; the generator's ``return`` value is in that
    exception's ``.value``. Return that very object, whatever it is (``None``,
    ``0`` and tuples included).

    If the generator raises any other exception, let it propagate out of
    ``runner`` unchanged: the same exception object, not a new one.

    >>> def countdown(n):
    ...     while n:
    ...         n -= 1
    ...         yield
    ...     return "liftoff"
    >>> runner(countdown(3))
    'liftoff'
    """
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
