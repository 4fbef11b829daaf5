def async_map(func, seq):
    results = []
    for item in seq:
        results.append(func(item))
        yield
