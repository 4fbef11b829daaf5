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
            task = self.tasks.popleft()
            try:
                next(task.gen)
            except StopIteration as stop:
                self.results[task.id] = stop.value
            except Exception as exc:
                self.exceptions[task.id] = exc
            else:
                self.tasks.appendleft(task)
