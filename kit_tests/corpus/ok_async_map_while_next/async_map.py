def async_map(func, seq):
    it = iter(seq)
    out = []
    while True:
        try:
            item = next(it)
        except StopIteration:
            return out
        out.append(func(item))
        yield out[-1]
