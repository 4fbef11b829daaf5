def runner(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.args
