"""The kit's manifest (``manifest.toml``): exercises, rubric checks, points and hints."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ManifestError(ValueError):
    """The manifest is missing or malformed; the message says where."""


@dataclass(frozen=True)
class Check:
    exercise: str
    name: str
    points: int
    summary: str

    @property
    def key(self) -> str:
        """``exercise-check``: the grade id nbgrader and reports use."""
        return f"{self.exercise}-{self.name}"


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    lesson: str
    hints: tuple[str, ...]
    checks: tuple[Check, ...]
    part: int = 1
    requires: tuple[str, ...] = ()
    notebook_extras: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        return sum(check.points for check in self.checks)


@dataclass(frozen=True)
class Part:
    """One part of the kit, taught and graded as one nbgrader assignment with one notebook."""

    number: int
    title: str
    assignment: str
    notebook: str
    intro: str = ""
    heading: str = ""
    closing: str = ""

    @property
    def notebook_id(self) -> str:
        return self.notebook.removesuffix(".ipynb")


@dataclass(frozen=True)
class Manifest:
    path: Path
    seed: int
    test_timeout: float
    exercise_budget: float
    memory_mb: int
    submission_budget: float = 120.0
    exercises: tuple[Exercise, ...] = field(default_factory=tuple)
    title: str = ""
    assignments: tuple[Part, ...] = field(default_factory=tuple)

    @property
    def points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)

    def exercise(self, name: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.name == name:
                return exercise
        names = ", ".join(e.name for e in self.exercises)
        raise ManifestError(f"no exercise named {name!r}; the exercises are: {names}")

    @property
    def parts(self) -> list[int]:
        return sorted({exercise.part for exercise in self.exercises})

    def assignment(self, name: str) -> Part:
        """The part taught as nbgrader assignment ``name``; ``ManifestError`` names the ones there are."""
        for part in self.assignments:
            if part.assignment == name:
                return part
        raise ManifestError(f"no assignment {name!r} in this kit (there are: {', '.join(p.assignment for p in self.assignments)})")

    def part_info(self, number: int) -> Part:
        for part in self.assignments:
            if part.number == number:
                return part
        raise ManifestError(f"no part {number}; the parts are: {', '.join(map(str, self.parts))}")

    def part_of(self, file_names) -> int:
        """The part whose exercise files are most among ``file_names`` (the first part when none is)."""
        names = set(file_names)
        counts = {number: sum(f"{e.name}.py" in names for e in self.exercises if e.part == number) for number in self.parts}
        return max(self.parts, key=lambda number: (counts[number], -number))

    def parts_help(self) -> str:
        """``1 (title), 2 (title)``, for help texts."""
        return ", ".join(f"{part.number} ({part.title})" for part in self.assignments)

    def part(self, number: int) -> "Manifest":
        """The manifest of one part: its exercises only."""
        chosen = tuple(exercise for exercise in self.exercises if exercise.part == number)
        if not chosen:
            raise ManifestError(f"no exercises in part {number}; the parts are: {', '.join(map(str, self.parts))}")
        return replace(self, exercises=chosen)

    @property
    def checks(self) -> list[Check]:
        return [check for exercise in self.exercises for check in exercise.checks]


def load(path: Path) -> Manifest:
    """Read and validate ``manifest.toml``."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no manifest here; run coopkit from the kit's folder (the one with manifest.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})") from None
    kit = data.get("kit", {})
    exercises, seen = [], set()
    for raw in data.get("exercise", []):
        name = raw.get("name", "")
        if not _NAME.match(name) or name in seen:
            raise ManifestError(f"{path}: exercise name {name!r} is missing, repeated or not a lowercase identifier")
        seen.add(name)
        checks, check_names = [], set()
        for raw_check in raw.get("check", []):
            check_name, points = raw_check.get("name", ""), raw_check.get("points")
            if not _NAME.match(check_name) or check_name in check_names:
                raise ManifestError(f"{path}: exercise {name}: check name {check_name!r} is missing, repeated or not a lowercase identifier")
            if type(points) is not int or points <= 0:
                raise ManifestError(f"{path}: {name}.{check_name}: points must be a positive whole number, not {points!r}")
            check_names.add(check_name)
            checks.append(Check(name, check_name, points, raw_check.get("summary", "")))
        if not checks:
            raise ManifestError(f"{path}: exercise {name} has no [[exercise.check]]")
        exercises.append(Exercise(
            name, raw.get("title", name), raw.get("lesson", ""), tuple(raw.get("hints", ())), tuple(checks),
            int(raw.get("part", 1)), tuple(raw.get("requires", ())), tuple(raw.get("notebook_extras", ())),
        ))
    if not exercises:
        raise ManifestError(f"{path}: no [[exercise]] listed")
    for exercise in exercises:
        for needed in exercise.requires:
            if needed not in seen:
                raise ManifestError(f"{path}: exercise {exercise.name} requires {needed!r}, which is not an exercise")
    parts = _parts(path, data.get("part", []), {exercise.part for exercise in exercises})
    return Manifest(
        path=Path(path),
        seed=int(kit.get("seed", 0)),
        test_timeout=float(kit.get("test_timeout", 3.0)),
        exercise_budget=float(kit.get("exercise_budget", 30.0)),
        memory_mb=int(kit.get("memory_mb", 1024)),
        submission_budget=float(kit.get("submission_budget", 120.0)),
        exercises=tuple(exercises),
        title=kit.get("title", ""),
        assignments=parts,
    )


def _parts(path: Path, raw_parts: list, numbers: set[int]) -> tuple[Part, ...]:
    """The ``[[part]]`` tables: one for every part an exercise is in, each with its own assignment and notebook."""
    parts = []
    for raw in raw_parts:
        number, assignment, notebook = raw.get("number"), raw.get("assignment", ""), raw.get("notebook", "")
        if type(number) is not int or not _NAME.match(assignment) or not notebook.endswith(".ipynb"):
            raise ManifestError(f"{path}: each [[part]] needs a whole `number`, an `assignment` name (lowercase identifier) and a `notebook` ending in .ipynb; got {number!r}, {assignment!r}, {notebook!r}")
        parts.append(Part(number, raw.get("title", f"Part {number}"), assignment, notebook, raw.get("intro", ""), raw.get("heading", ""), raw.get("closing", "")))
    listed = [part.number for part in parts]
    if sorted(listed) != sorted(numbers) or len({p.assignment for p in parts}) != len(parts) or len({p.notebook for p in parts}) != len(parts):
        raise ManifestError(f"{path}: the [[part]] tables ({listed}) must list each part the exercises are in ({sorted(numbers)}) once, with their own assignment and notebook")
    return tuple(sorted(parts, key=lambda part: part.number))
