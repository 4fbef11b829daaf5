class Id(int):
    def __eq__(self, other):
        raise KeyboardInterrupt

    def __hash__(self):
        raise SystemExit(0)

    def __repr__(self):
        raise GeneratorExit


class Task:
    next_id = 1

    def __init__(self, gen):
        self.gen = gen
        self.id = Id(1)
