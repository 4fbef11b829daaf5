from solutions.task import Task
