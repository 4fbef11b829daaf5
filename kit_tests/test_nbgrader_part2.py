"""Part 2 as its own nbgrader assignment (`event_loop`): the same round trip as Part 1's notebook.

build -> generate_assignment event_loop -> submissions -> coopkit nbgrader autograde event_loop -j 2
-> generate_feedback -> export, checked cell by cell against `coopkit grade --part 2`.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from coopkit.authoring import regions
from coopkit.course import build as nbbuild
from coopkit.course.autograde import autograde, fill_notebook
from coopkit.course.workers import nbgrader
from coopkit.paths import find_kit

from .conftest import reference_source
from .test_nbgrader import edit_cells, gradebook_scores, sandbox_scores

pytestmark = pytest.mark.heavy(60)

pytest.importorskip("nbgrader", reason="the nbgrader extra is not installed")

EVENT_LOOP = find_kit().manifest.assignment("event_loop")


def edited(source, old, new):
    assert old in source, old
    return source.replace(old, new)


@pytest.fixture(scope="module")
def course(kit, tmp_path_factory):
    course = tmp_path_factory.mktemp("course2")
    nbbuild.build(kit, course)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("c.Execute.timeout = 30  # short for the test's endless-loop notebook\n")
    nbgrader(course, "generate_assignment", EVENT_LOOP.assignment, "--force")
    release = json.loads((course / "release" / EVENT_LOOP.assignment / EVENT_LOOP.notebook).read_text())
    reference = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(2).exercises}
    code = {
        "ref": dict(reference),
        "ann": dict(reference, io=edited(reference["io"], "    conn.setblocking(False)\n", "")),
        "ben": dict(reference, cancel=edited(reference["cancel"], "                self.sleeping.remove(entry)\n                heapq.heapify(self.sleeping)\n", ""),
                    awaiting=edited(reference["awaiting"], "        results.append(func(item))\n        await switch()\n", "        results.append(func(item))\n")),
        "cat": dict(reference, sleep=edited(reference["sleep"], "deadline, self.sequence, task_id, gen", "deadline, task_id, self.sequence, gen")),
        # hostile: a deleted check cell and a kernel patch of the checker; an os._exit in a cell
        "dan": dict(reference, io=edited(reference["io"], "    conn.setblocking(False)\n", ""),
                    traps="import coopkit.notebook as nb\nnb.grade_check = lambda exercise, check: 100.0\n" + reference["traps"]),
        "eli": dict(reference, cancel="import os\nos._exit(0)\n" + reference["cancel"]),
    }
    notebooks = {name: fill_notebook(release, sources) for name, sources in code.items()}

    def delete_io_check(nb, cell, grade_id):
        if grade_id == "io-helpers":
            nb["cells"].remove(cell)

    notebooks["dan"] = edit_cells(notebooks["dan"], delete_io_check)
    notebooks["stub"] = release
    for name, nb in notebooks.items():
        folder = course / "submitted" / name / EVENT_LOOP.assignment
        folder.mkdir(parents=True)
        (folder / EVENT_LOOP.notebook).write_text(json.dumps(nb))
    outcomes = autograde(kit, course, EVENT_LOOP.assignment, jobs=2)
    nbgrader(course, "generate_feedback", EVENT_LOOP.assignment, "--force", check=False)
    nbgrader(course, "export")
    code["stub"] = {e.name: (kit.exercises / f"{e.name}.py").read_text() for e in kit.manifest.part(2).exercises}
    return {"dir": course, "code": code, "outcomes": outcomes, "release": release}


@pytest.mark.parametrize("student", ["ref", "ann", "ben", "cat", "dan", "eli", "stub"])
def test_gradebook_matches_coopkit_grade_part2_cell_by_cell(course, kit, student, tmp_path):
    scores = gradebook_scores(course["dir"], EVENT_LOOP.assignment)
    assert set(scores[student]) == {check.key for check in kit.manifest.part(2).checks}
    assert scores[student] == sandbox_scores(kit, course["code"][student], tmp_path, part=2)


def test_part2_scores_are_nbgraders_own_for_honest_notebooks(course, kit):
    scores = gradebook_scores(course["dir"], EVENT_LOOP.assignment)
    for student in ("ref", "ann", "ben", "cat"):
        assert course["outcomes"][student].nbgrader_ok and course["outcomes"][student].corrected == [], student
    assert sum(scores["ref"].values()) == sum(check.points for check in kit.manifest.part(2).checks)
    assert scores["ann"]["io-helpers"] == 0 and scores["ann"]["io-wait_traps"] > 0
    assert scores["ben"]["cancel-cleanup"] == 0 and scores["ben"]["awaiting-async_map"] == 0 and scores["ben"]["cancel-delivery"] > 0
    assert scores["cat"]["sleep-wake_order"] == 0
    # dan patched the checker in the kernel, eli's kernel died: nbgrader recorded the grader's scores for both
    for student in ("dan", "eli"):
        assert course["outcomes"][student].nbgrader_ok and course["outcomes"][student].corrected == [], student
    rows = {row["student_id"]: row for row in csv.DictReader((course["dir"] / "grades.csv").open()) if row["assignment"] == EVENT_LOOP.assignment}
    assert float(rows["ref"]["raw_score"]) == sum(check.points for check in kit.manifest.part(2).checks) and float(rows["stub"]["raw_score"]) == 0


def test_part2_release_holds_no_solution_and_no_hidden_test(course, kit):
    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"]) for c in course["release"]["cells"]}
    everything = "\n".join("".join(c["source"]) for c in course["release"]["cells"])
    for exercise in kit.manifest.part(2).exercises:
        for region in regions.find_regions(kit.solution_file(exercise.name).read_text()):
            assert "\n".join(region.body) not in cells[exercise.name]
        assert "raise NotImplementedError()" in cells[exercise.name]
    assert "grade_check(" not in everything and "BEGIN HIDDEN" not in everything and "BEGIN SOLUTION" not in everything
    assert "from ." not in everything, "relative imports cannot run in a notebook"


def test_part2_feedback_shows_messages_not_test_source(course, kit):
    feedback = (course["dir"] / "feedback" / "ann" / EVENT_LOOP.assignment / f"{EVENT_LOOP.notebook_id}.html").read_text()
    assert "setblocking(False)" in feedback and "likely cause" in feedback
    hidden = set()
    for exercise in kit.manifest.part(2).exercises:
        hidden |= set(re.findall(r"def (test_\w+)", kit.suite_file(exercise.name).read_text()))
    assert not [name for name in hidden if name in feedback]


def test_part2_validate_fails_for_stubs_and_passes_when_solved(course, kit, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    reference = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(2).exercises}
    stub, solved = tmp_path / "stub.ipynb", tmp_path / "solved.ipynb"
    stub.write_text(json.dumps(course["release"]))
    solved.write_text(json.dumps(fill_notebook(course["release"], reference)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed, passed = pool.map(lambda path: nbgrader(course["dir"], "validate", str(path), check=False), (stub, solved))
    assert "VALIDATION FAILED" in failed.stdout + failed.stderr
    assert "Success!" in passed.stdout + passed.stderr, passed.stdout + passed.stderr
