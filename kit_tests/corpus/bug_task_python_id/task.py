class Task:
    def __init__(self, gen):
        self.gen = gen
        self.id = id(self)
