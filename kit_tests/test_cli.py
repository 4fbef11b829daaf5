"""`coopkit grade` and `coopkit grade-class` as an instructor runs them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from .conftest import build_submission, CORPUS

pytestmark = pytest.mark.heavy(30)

COOPKIT = [sys.executable, "-m", "coopkit.instructor.cli"]


def coopkit(*args, cwd=None):
    return subprocess.run(COOPKIT + [str(a) for a in args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def klass(kit, tmp_path_factory):
    """A small class: a correct student, a buggy one, a hanging one, one with no files."""
    root = tmp_path_factory.mktemp("class")
    for student, case in [("ada", "ok_reference_style"), ("bob", "bug_runner_for_loop"), ("cy", "attack_infinite_generator")]:
        build_submission(kit, CORPUS / case, root / student)
    (root / "dee").mkdir()
    (root / "notes.txt").write_text("not a student")
    return root


def test_grade_json_has_the_documented_shape(kit, klass):
    result = coopkit("grade", klass / "bob", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["score"] == 22 and report["max_score"] == 25
    for exercise in kit.manifest.part(1).exercises:
        data = report["exercises"][exercise.name]
        assert data["max_score"] == exercise.points
        assert set(data["checks"]) == {check.name for check in exercise.checks}
        for check in data["checks"].values():
            assert {"score", "max_score", "feedback"} <= set(check)
    assert report["exercises"]["runner"]["checks"]["stop_value"]["score"] == 0
    assert "StopIteration.value" in report["exercises"]["runner"]["checks"]["stop_value"]["feedback"]


def test_grade_table(klass):
    result = coopkit("grade", klass / "ada")
    assert result.returncode == 0
    assert "25/25" in result.stdout and "yield_points" in result.stdout


def test_grade_class_writes_a_row_for_every_student(kit, klass, tmp_path):
    out = tmp_path / "out"
    result = coopkit("grade-class", klass, "--out", out, "-j", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [row["student"] for row in rows] == ["ada", "bob", "cy", "dee"]
    totals = {row["student"]: int(row["total"]) for row in rows}
    assert totals == {"ada": 25, "bob": 22, "cy": 20, "dee": 0}
    columns = ["student"] + [f"{c.exercise}.{c.name}" for c in kit.manifest.part(1).checks] + ["status", "message", "total", "max_score", "isolation"]
    assert list(rows[0]) == columns
    for student in totals:
        assert json.loads((out / f"{student}.json").read_text())["score"] == totals[student]
    assert "missing" in (out / "dee.json").read_text()
    # a 0 says why it is a 0
    statuses = {row["student"]: (row["status"], row["message"]) for row in rows}
    assert statuses["ada"] == ("graded", "") and statuses["dee"][0] == "nothing_gradable" and "empty" in statuses["dee"][1]
    table = subprocess.run(COOPKIT + ["report", str(out)], check=False, capture_output=True, text=True, env=dict(os.environ, COLUMNS="200"))
    assert table.returncode == 0 and "nothing_gradable" in table.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["grade", "/no/such/folder"], "no folder at /no/such/folder"),
        (["grade-class", "/no/such/folder", "--out", "/tmp/x"], "no folder at"),
        (["grade-class", "{empty}", "--out", "{out}"], "has no student subfolders"),
        (["grade-class", "{klass}", "--out", "{klass}/out"], "inside"),
        (["report", "{empty}"], "no JSON reports"),
    ],
)
def test_bad_input_gets_one_clear_line(args, words, klass, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(empty=empty, out=tmp_path / "out", klass=klass) for a in args]
    result = coopkit(*args)
    assert result.returncode == 2
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_demo_samples_get_the_scores_their_readme_promises(kit, tmp_path):
    """The samples live inside the kit (a folder nested in a hidden one): the demo as `make demo` runs it."""
    out = tmp_path / "demo"
    result = coopkit("grade-class", kit.grading / "samples", "--out", out, "-j", "2")
    assert result.returncode == 0, result.stderr
    promised = {}
    for line in (kit.grading / "samples" / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and "/25" in cells[2]:
            promised[cells[0]] = int(cells[2].split("/")[0])
    rows = {row["student"]: int(row["total"]) for row in csv.DictReader((out / "grades.csv").open())}
    assert rows == promised
    assert "alice" in result.stdout and "25/25" in result.stdout


def test_the_part_comes_from_the_files_when_not_given(kit, tmp_path):
    """A folder of Part 2 chapter files is graded as Part 2 without --part; --part still decides when given."""
    from .conftest import reference_source

    folder = tmp_path / "p2"
    folder.mkdir()
    for exercise in kit.manifest.part(2).exercises:
        (folder / f"{exercise.name}.py").write_text(reference_source(kit, exercise.name))
    graded = json.loads(coopkit("grade", folder, "--json").stdout)
    assert set(graded["exercises"]) == {e.name for e in kit.manifest.part(2).exercises}
    assert graded["score"] == graded["max_score"] == kit.manifest.part(2).points
    told = json.loads(coopkit("grade", folder, "--json", "--part", "1").stdout)
    assert set(told["exercises"]) == {e.name for e in kit.manifest.part(1).exercises} and told["score"] == 0
