def runner(gen):
    last = None
    for value in gen:
        last = value
    return last
