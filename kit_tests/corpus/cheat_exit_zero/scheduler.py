import os
class Scheduler:
    def __init__(self):
        os.kill(os.getpid(), 9)
