class Task:
    next_id = 1

    def __init__(self, gen):
        self.gen = iter(list(gen))
        self.id = Task.next_id
        Task.next_id += 1
