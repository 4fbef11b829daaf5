from solutions.scheduler import Scheduler
