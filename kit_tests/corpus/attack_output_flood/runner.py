import sys
def runner(gen):
    sys.stdout.write("x" * (3 * 1024 * 1024))
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
