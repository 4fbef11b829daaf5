def async_map(func, seq):
    """Lecture style, with a trace line per step."""
    results = []
    for i, item in enumerate(seq):
        value = func(item)
        results.append(value)
        print(f"async_map step {i}: {item!r} -> {value!r}")
        yield i
    return results
