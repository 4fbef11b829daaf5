class Task:
    counter = 0

    def __init__(self, gen):
        Task.counter += 1
        self.id = Task.counter
        self.gen = gen

    def __repr__(self):
        return "<Task %d>" % self.id
