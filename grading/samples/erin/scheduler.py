class Scheduler:
    def run(self)
        pass
