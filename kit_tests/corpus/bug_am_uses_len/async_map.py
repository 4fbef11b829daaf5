def async_map(func, seq):
    results = []
    for i in range(len(seq)):
        results.append(func(seq[i]))
        yield
    return results
