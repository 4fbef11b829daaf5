class Boom(Exception):
    def __str__(self):
        raise KeyboardInterrupt

    __repr__ = __str__


class Task:
    next_id = 1

    def __init__(self, gen):
        raise Boom()
