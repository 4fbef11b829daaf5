def asyncmap(func, seq):
    yield
