from collections import deque
from .task import Task

class Scheduler:
    def __init__(self):
        self.tasks = deque()
        self.results = {}
        self.exceptions = {}

    def add(self, gen):
        task = Task(gen)
        self.tasks.append(task)
        return task.id

    def run(self):
        while self.tasks:
            for task in list(self.tasks):
                try:
                    next(task.gen)
                except StopIteration as stop:
                    self.tasks.remove(task)
                    self.results[task.id] = stop.value
                except Exception as exc:
                    self.tasks.remove(task)
                    self.exceptions[task.id] = exc
