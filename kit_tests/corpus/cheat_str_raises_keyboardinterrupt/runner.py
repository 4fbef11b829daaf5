class Boom(Exception):
    def __str__(self):
        raise KeyboardInterrupt

    __repr__ = __str__


def runner(*args, **kwargs):
    raise Boom()
