def runner(gen):
    for _ in gen:
        pass
