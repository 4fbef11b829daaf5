class Task:
    next_id = 1

    def __init__(self, gen):
        self.gen = gen
        self.id = self.next_id
        self.next_id += 1
