def runner(gen):
    while True:
        try:
            gen.send(None)
        except StopIteration as e:
            return e.value
