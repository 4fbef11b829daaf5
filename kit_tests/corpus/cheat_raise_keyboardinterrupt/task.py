class Task:
    next_id = 1

    def __init__(self, gen):
        raise GeneratorExit
