def runner(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
        except Exception:
            return None
