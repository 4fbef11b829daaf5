"""Generated files: current, deterministic, and derived by one region-stripping function."""

from __future__ import annotations

import shutil

import pytest

from coopkit.authoring import generate, regions
from coopkit.paths import Kit


def test_generated_files_are_current(kit):
    assert generate.generate(kit, check=True) == [], "run `coopkit dev generate` and commit the result"


def test_check_mode_notices_a_stale_file(kit, tmp_path):
    copy = tmp_path / "kit"
    shutil.copytree(kit.root, copy, ignore=shutil.ignore_patterns(".venv", ".git", "kit_tests", "build"))
    other = Kit(copy)
    stub = other.stub_file("runner")
    stub.write_text(stub.read_text() + "\n# edited by hand\n")
    assert generate.generate(other, check=True) == [stub]
    assert generate.generate(other) == [stub]
    assert generate.generate(other, check=True) == []


def test_building_twice_gives_the_same_bytes(kit):
    first = {target.path: target.build() for target in generate.targets(kit)}
    second = {target.path: target.build() for target in generate.targets(kit)}
    assert first == second


def test_stubs_hold_no_solution_code(kit):
    for exercise in kit.manifest.exercises:
        stub = kit.stub_file(exercise.name).read_text()
        source = kit.solution_file(exercise.name).read_text()
        for region in regions.find_regions(source):
            body = [line.strip() for line in region.body if line.strip()]
            assert not any(line in stub.splitlines() and line not in ("", "return") for line in [l for l in region.body if l.strip()]), body
        assert "NotImplementedError" in stub and "BEGIN SOLUTION" not in stub


def test_public_suites_hold_no_hidden_test(kit):
    for exercise in kit.manifest.exercises:
        public = kit.public_test_file(exercise.name).read_text()
        hidden = kit.suite_file(exercise.name).read_text().split("### BEGIN HIDDEN TESTS", 1)[1]
        assert "HIDDEN" not in public
        for line in hidden.splitlines():
            if line.startswith("def test_"):
                assert line not in public


@pytest.mark.parametrize(
    "source, problem",
    [
        ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "cannot nest"),
        ("def f():\n    ### BEGIN SOLUTION\n    pass\n", "never closed"),
        ("def f():\n    ### END SOLUTION\n", "without a matching BEGIN"),
        ("### BEGIN HIDDEN TESTS\n### END SOLUTION\n", "without a matching BEGIN"),
    ],
)
def test_malformed_regions_are_rejected(source, problem):
    with pytest.raises(regions.RegionError, match=problem):
        regions.find_regions(source, "x.py")


def test_solution_region_outside_a_function_is_rejected():
    with pytest.raises(regions.RegionError, match="inside a function body"):
        regions.stub_out("class A:\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\n", "x.py")


def test_stub_keeps_indentation_and_names_the_function():
    stub = regions.stub_out("def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n")
    assert stub == "def f(x):\n    '''Doc.'''\n    # TODO: write f() here; the docstring above says what it must do.\n    raise NotImplementedError(\"f() is not written yet\")\n"
    compile(stub, "stub", "exec")
