import itertools

class Task:
    _ids = itertools.count(1)

    def __init__(self, gen):
        self.id = next(Task._ids)
        self.gen = gen
