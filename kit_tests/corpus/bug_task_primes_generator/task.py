class Task:
    next_id = 1

    def __init__(self, gen):
        self.gen = gen
        next(self.gen, None)
        self.id = Task.next_id
        Task.next_id += 1
