class Task:
    next_id = 0

    def __init__(self, gen):
        self.gen = gen
        self.id = Task.next_id
        Task.next_id += 1
