def runner(gen):
    while True:
        try:
            next(gen)
        except Exception:
            return None
        except StopIteration as stop:
            return stop.value
