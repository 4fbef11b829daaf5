"""Exercise 3: Task, a generator with an id.

A scheduler juggles many generators at once. To tell them apart (and to file
their results), each one is wrapped in a ``Task`` that carries a number.
"""


class Task:
    """Wrap the generator ``gen`` and give it a unique id.

    ``task.gen`` is the very generator that was passed in, untouched: creating
    a task must not advance it.

    ``task.id`` is an ``int``. Ids are handed out by a counter that lives on
    the class, shared by every instance: after a fresh import the first task
    gets id 1, the next 2, then 3, and so on.

    >>> t1 = Task(iter([])); t2 = Task(iter([]))
    >>> t2.id - t1.id
    1
    """

    next_id = 1  # the class-level counter: the id the next Task will get

    def __init__(self, gen):
        self.gen = gen
        self.id = Task.next_id
        Task.next_id += 1

    def __repr__(self):
        return f"Task(id={self.id!r})"
