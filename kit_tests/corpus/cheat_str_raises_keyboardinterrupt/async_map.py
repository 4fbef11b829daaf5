class Boom(Exception):
    def __str__(self):
        raise KeyboardInterrupt

    __repr__ = __str__


def async_map(*args, **kwargs):
    raise Boom()
