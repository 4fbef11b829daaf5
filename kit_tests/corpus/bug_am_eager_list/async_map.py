def async_map(func, seq):
    results = [func(item) for item in seq]
    for _ in results:
        yield
    return results
