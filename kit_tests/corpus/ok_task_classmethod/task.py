class Task:
    next_id = 1

    @classmethod
    def _new_id(cls):
        value = cls.next_id
        cls.next_id += 1
        return value

    def __init__(self, gen):
        self.gen = gen
        self.id = self._new_id()
