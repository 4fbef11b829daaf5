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
        while len(self.tasks) > 0:
            task = self.tasks.popleft()
            print("running task", task.id)
            try:
                next(task.gen)
                self.tasks.append(task)
            except StopIteration as e:
                print("task", task.id, "finished with", e.value)
                self.results[task.id] = e.value
            except Exception as e:
                print("task", task.id, "failed:", e)
                self.exceptions[task.id] = e
