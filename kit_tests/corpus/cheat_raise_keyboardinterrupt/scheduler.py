class Scheduler:
    def __init__(self):
        raise KeyboardInterrupt
