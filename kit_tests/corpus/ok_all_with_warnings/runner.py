import warnings

def runner(gen):
    warnings.warn("runner is starting", UserWarning)
    import sys
    print("a note on stderr", file=sys.stderr)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
