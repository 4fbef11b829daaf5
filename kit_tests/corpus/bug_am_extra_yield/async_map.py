def async_map(func, seq):
    results = []
    yield
    for item in seq:
        results.append(func(item))
        yield
    return results
