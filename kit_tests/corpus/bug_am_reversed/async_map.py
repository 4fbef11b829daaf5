def async_map(func, seq):
    results = []
    for item in seq:
        results.insert(0, func(item))
        yield
    return results
