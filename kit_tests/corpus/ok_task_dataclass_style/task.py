from dataclasses import dataclass, field
from typing import ClassVar, Generator

@dataclass
class Task:
    gen: Generator
    id: int = field(init=False)
    next_id: ClassVar[int] = 1

    def __post_init__(self):
        self.id = Task.next_id
        Task.next_id += 1
