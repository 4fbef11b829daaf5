"""Where the kit's files are: one root, found once."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from . import manifest as manifest_module


class Kit:
    """A coopkit folder: the full kit (with solutions and grading) or a student bundle."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    manifest_path = property(lambda self: self.root / "manifest.toml")
    exercises = property(lambda self: self.root / "exercises")
    solutions = property(lambda self: self.root / "solutions")
    tests = property(lambda self: self.root / "tests")
    grading = property(lambda self: self.root / "grading")
    docs = property(lambda self: self.root / "docs")
    state = property(lambda self: self.root / ".coopkit")

    @property
    def contents(self) -> list[Path]:
        """What the kit is made of, as the grader needs it: copied whole into the Gradescope zip, never overwritten."""
        return [self.root / "pyproject.toml", self.root / "README.md", self.manifest_path, self.root / "coopkit",
                self.solutions, self.grading, self.exercises, self.tests, self.docs]

    @property
    def is_full(self) -> bool:
        """True for the instructor's kit; False for a student bundle (no solutions, no hidden suites)."""
        return self.solutions.is_dir() and self.grading.is_dir()

    @property
    def manifest(self) -> manifest_module.Manifest:
        return _load_manifest(self.manifest_path)

    def solution_file(self, exercise: str) -> Path:
        return self.solutions / f"{exercise}.py"

    def stub_file(self, exercise: str) -> Path:
        return self.exercises / f"{exercise}.py"

    def suite_file(self, exercise: str) -> Path:
        return self.grading / f"test_{exercise}.py"

    def public_test_file(self, exercise: str) -> Path:
        return self.tests / f"test_{exercise}.py"


@lru_cache(maxsize=8)
def _load_manifest(path: Path) -> manifest_module.Manifest:
    return manifest_module.load(path)


def find_kit() -> Kit:
    """The kit this coopkit belongs to: $COOPKIT_ROOT, else the folder above the package."""
    override = os.environ.get("COOPKIT_ROOT")
    if override:
        return Kit(Path(override))
    return Kit(Path(__file__).resolve().parent.parent)
