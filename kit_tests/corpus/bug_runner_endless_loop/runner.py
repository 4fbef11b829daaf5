def runner(gen):
    result = None
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            result = stop.value
    return result
