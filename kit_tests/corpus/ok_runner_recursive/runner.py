def runner(gen):
    try:
        next(gen)
    except StopIteration as stop:
        return stop.value
    return runner(gen)
