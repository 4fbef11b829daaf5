from collections import deque
from task import Task

class Scheduler:
    def __init__(self):
        self.tasks = deque()
        self.results, self.exceptions = {}, {}

    def add(self, gen):
        self.tasks.append(Task(gen))
        return self.tasks[-1].id

    def _step(self, task):
        try:
            next(task.gen)
        except StopIteration as stop:
            self.results[task.id] = stop.value
            return False
        except Exception as exc:
            self.exceptions[task.id] = exc
            return False
        return True

    def run(self):
        while self.tasks:
            task = self.tasks.popleft()
            if self._step(task):
                self.tasks.append(task)
