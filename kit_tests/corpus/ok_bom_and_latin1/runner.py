# runner, saved by an editor that writes a BOM
def runner(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
