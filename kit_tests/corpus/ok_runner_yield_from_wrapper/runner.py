def runner(gen):
    box = []
    def wrapper():
        box.append((yield from gen))
    for _ in wrapper():
        pass
    return box[0]
