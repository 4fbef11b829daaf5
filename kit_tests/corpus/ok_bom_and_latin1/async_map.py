# -*- coding: latin-1 -*-
# café: a comment in latin-1
def async_map(func, seq):
    results = []
    for item in seq:
        results.append(func(item))
        yield
    return results
