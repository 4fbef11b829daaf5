"""Adding a chapter touches four authored files only: its manifest entry, solution, suite and lesson page.

In a temporary copy of the kit, a toy Part 2 chapter is added that way; `coopkit
dev generate`, `dev check` and the grader then take it in: it appears in the
stubs, the public tests, the notebook, the bundle and the rubric table, and the
reference scores full marks on it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

MANIFEST_ENTRY = '''
[[exercise]]
name = "toy"
title = "toy: double a number"
lesson = "docs/11-toy.md"
part = 2
hints = ["Multiply by two."]

  [[exercise.check]]
  name = "doubles"
  points = 2
  summary = "returns twice its argument"
'''

SOLUTION = '''"""A toy chapter."""


def double(x):
    """Return twice ``x``."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
'''

SUITE = '''"""Tests for the toy chapter."""

from coopkit.harness import check, fail


@check("doubles")
def test_doubles(impl):
    """double(21) is 42."""
    return impl.attr("toy", "double")(21)


def verify_doubles(seen):
    if seen != 42:
        fail(call="double(21)", expected="42", got=repr(seen), cause="multiply by two")


### BEGIN HIDDEN TESTS
@check("doubles")
def test_doubles_any(impl, rng):
    """double works for any whole number."""
    double = impl.attr("toy", "double")
    return [double(x) for x in [rng.randint(-1000, 1000) for _ in range(5)]]


def verify_doubles_any(seen, rng):
    expected = [2 * rng.randint(-1000, 1000) for _ in range(5)]
    if seen != expected:
        fail(call="double(x) on five numbers", expected=repr(expected), got=repr(seen), cause="multiply by two")
### END HIDDEN TESTS
'''

LESSON = "# A toy chapter\n\nDouble a number:\n\n```python\nprint(2 * 21)\n```\n"


def coopkit(root, *args):
    env = dict(os.environ, COOPKIT_ROOT=str(root))
    return subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", *map(str, args)], cwd=root, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def toy_kit(kit, tmp_path_factory):
    root = tmp_path_factory.mktemp("toykit") / "kit"
    ignore = shutil.ignore_patterns(".venv", "build", ".git", "__pycache__", "*.egg-info", "kit_tests", "mutants", ".coopkit")
    shutil.copytree(kit.root, root, ignore=ignore)
    with (root / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(MANIFEST_ENTRY)
    (root / "solutions" / "toy.py").write_text(SOLUTION)
    (root / "grading" / "test_toy.py").write_text(SUITE)
    (root / "docs" / "11-toy.md").write_text(LESSON)
    generated = coopkit(root, "dev", "generate")
    assert generated.returncode == 0, generated.stderr
    return root


def test_generate_and_dev_check_take_the_chapter_in(toy_kit):
    assert "raise NotImplementedError" in (toy_kit / "exercises" / "toy.py").read_text()
    public = (toy_kit / "tests" / "test_toy.py").read_text()
    assert "test_doubles" in public and "test_doubles_any" not in public
    assert "| toy | doubles |" in (toy_kit / "README.md").read_text().replace("`", "")
    checked = coopkit(toy_kit, "dev", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_notebook_has_the_chapter(toy_kit):
    notebook = json.loads((toy_kit / "course" / "source" / "event_loop" / "event_loop.ipynb").read_text())
    grade_ids = [cell["metadata"].get("nbgrader", {}).get("grade_id") for cell in notebook["cells"]]
    assert grade_ids[-3:-1] == ["toy", "toy-doubles"]


def test_the_grader_grades_it(toy_kit, tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "toy.py").write_text("def double(x):\n    return x + x\n")
    graded = json.loads(coopkit(toy_kit, "grade", folder, "--part", "2", "--json").stdout)
    assert graded["exercises"]["toy"]["score"] == 2


def test_the_bundle_has_it(toy_kit, tmp_path):
    out = tmp_path / "bundle"
    built = coopkit(toy_kit, "bundle", "--out", out)
    assert built.returncode == 0, built.stderr
    assert (out / "exercises" / "toy.py").is_file() and (out / "tests" / "test_toy.py").is_file()
    assert "`toy`" in (out / "README.md").read_text()
    assert "def double(x)" in (out / "notebook" / "event_loop.ipynb").read_text()
