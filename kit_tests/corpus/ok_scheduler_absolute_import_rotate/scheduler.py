import collections
from exercises.task import Task

class Scheduler:
    def __init__(self):
        self.tasks = collections.deque()
        self.results = dict()
        self.exceptions = dict()

    def add(self, gen):
        t = Task(gen)
        self.tasks.append(t)
        return t.id

    def run(self):
        while self.tasks:
            current = self.tasks[0]
            try:
                next(current.gen)
            except StopIteration as done:
                self.tasks.popleft()
                self.results[current.id] = done.value
                continue
            except Exception as error:
                self.tasks.popleft()
                self.exceptions[current.id] = error
                continue
            self.tasks.rotate(-1)
