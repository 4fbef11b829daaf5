class Task(
