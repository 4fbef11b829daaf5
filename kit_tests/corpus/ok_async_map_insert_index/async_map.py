def async_map(func, seq):
    results = list()
    for item in seq:
        results.insert(len(results), func(item))
        yield None
    else:
        return results
