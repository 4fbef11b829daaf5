def async_map(func, seq):
    results = []
    for item in seq:
        yield
        results.append(func(item))
    return results
