class Task:
    count = 0

    def __init__(self, gen):
        Task.count += 1
        self.gen = gen

    @property
    def id(self):
        return Task.count
