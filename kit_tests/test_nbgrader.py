"""The whole nbgrader round trip with the real nbgrader, its SQLite gradebook and real kernels.

build -> generate_assignment -> submissions (honest and hostile) -> coopkit nbgrader autograde -j 2
-> generate_feedback -> export, checked cell by cell against `coopkit grade` on the same code.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from coopkit import grading
from coopkit.course import build as nbbuild
from coopkit.course.autograde import autograde, fill_notebook
from coopkit.course.workers import in_fresh_worker, nbgrader, nbgrader_env
from coopkit.paths import find_kit

from .conftest import reference_source

pytest.importorskip("nbgrader", reason="the nbgrader extra is not installed")
pytestmark = pytest.mark.heavy(150)

COOP = find_kit().manifest.assignment("coop")
NOTEBOOK, NOTEBOOK_ID = COOP.notebook, COOP.notebook_id
RUNNER_BUG = "def runner(gen):\n    for _ in gen:\n        pass\n"
MARKER = "coopkit-detached-writer"
DETACHED = """
import subprocess as _sp, sys as _sys
_sp.Popen([_sys.executable, "-c", "import time, sys; time.sleep(4); open('{course}/gradebook.db', 'wb').write(b'gone'); open('{course}/{marker}', 'w')", "{marker}"], start_new_session=True)
""".replace("{marker}", MARKER)
# Given to plain `nbgrader autograde` too: the course's config sandboxes their kernels and sets their scores.
PLAIN_TAMPERING = ("ned", "zed")


def corpus_file(name, module):
    return (Path(__file__).parent / "corpus" / name / f"{module}.py").read_text()


def honest_students(reference):
    return {
        "ref": dict(reference),
        "bob": dict(reference, runner=RUNNER_BUG),
        "carol": dict(reference, scheduler=corpus_file("bug_sched_lifo", "scheduler")),
        "dave": dict(reference, task=corpus_file("bug_task_instance_counter", "task"), async_map=corpus_file("bug_am_yield_before_work", "async_map")),
    }


def edit_cells(nb, edit):
    for cell in list(nb["cells"]):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        edit(nb, cell, grade_id)
    return nb


@pytest.fixture(scope="module")
def course(kit, tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    nbbuild.build(kit, course)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("c.Execute.timeout = 8  # short for the test's endless-loop notebook\n")
        config.write("c.LateSubmissionPlugin.penalty_method = 'zero'  # a late notebook scores 0\n")
    nbgrader(course, "generate_assignment", "coop", "--force")
    release = json.loads((course / "release" / "coop" / NOTEBOOK).read_text())
    reference = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(1).exercises}
    code = honest_students(reference)
    notebooks = {name: fill_notebook(release, sources) for name, sources in code.items()}
    notebooks["stub"] = release
    # Hostile notebooks: each must still get a row, a message, and never more than its code earns.
    code["eve"] = dict(reference, runner=RUNNER_BUG)

    def delete_and_edit(nb, cell, grade_id):
        if grade_id == "runner-stop_value":
            nb["cells"].remove(cell)
        if grade_id == "runner-exception_propagation":
            cell["source"] = "print('all good')"

    notebooks["eve"] = edit_cells(fill_notebook(release, code["eve"]), delete_and_edit)
    code["fay"] = dict(reference, runner=RUNNER_BUG)

    def to_markdown(nb, cell, grade_id):
        if grade_id == "runner-stop_value":
            cell["cell_type"] = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)

    notebooks["fay"] = edit_cells(fill_notebook(release, code["fay"]), to_markdown)
    code["gus"] = dict(reference, runner="import os\nos._exit(0)\n" + reference["runner"])
    code["hal"] = dict(reference, task="while True:\n    pass\n" + reference["task"])
    code["ivy"] = dict(reference, async_map="print('x' * (100 * 1024 * 1024))\n" + reference["async_map"])
    code["lee"] = dict(reference)
    code["max"] = dict(reference, runner="import sys, warnings\nwarnings.warn('deprecated thing')\nprint('note', file=sys.stderr)\n" + reference["runner"])
    code["ned"] = dict(reference, runner=RUNNER_BUG, async_map="import coopkit.notebook as nb\nnb.grade_check = lambda exercise, check: 100.0\n" + reference["async_map"])
    code["ray"] = dict(reference, runner=RUNNER_BUG)

    def rename_check(nb, cell, grade_id):
        if grade_id == "runner-stop_value":
            cell["metadata"]["nbgrader"]["grade_id"] = "runner-stop_value_renamed"

    notebooks["ray"] = edit_cells(fill_notebook(release, code["ray"]), rename_check)
    # A detached process that outlives its cell and then writes the gradebook and the course folder.
    code["zed"] = dict(reference, runner=RUNNER_BUG + DETACHED.format(course=course))
    for name in ("gus", "hal", "ivy", "lee", "max", "ned", "zed"):
        notebooks[name] = fill_notebook(release, code[name])
    hostile_notebooks(release, reference, code, notebooks, str(course))
    for name, nb in notebooks.items():
        folder = course / "submitted" / name / "coop"
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(nb))
    (course / "submitted" / "jay" / "coop").mkdir(parents=True)
    (course / "submitted" / "jay" / "coop" / NOTEBOOK).write_text('{"cells": [ this is not json')
    (course / "submitted" / "kim" / "coop").mkdir(parents=True)
    (course / "submitted" / "ole" / "coop").mkdir(parents=True)  # JSON nested too deep for Python's parser
    (course / "submitted" / "ole" / "coop" / NOTEBOOK).write_text("[" * 100_000 + "]" * 100_000)
    (course / "submitted" / "lee" / "coop" / "conftest.py").write_text("import os\nos._exit(0)\n")
    (course / "submitted" / "lee" / "coop" / "notes.txt").write_text("extra file")
    honest = {name: course / "submitted" / name for name in ("ref", "bob", "carol", "dave", *PLAIN_TAMPERING)}
    plain = tmp_path_factory.mktemp("plain")
    shutil.copytree(course, plain, dirs_exist_ok=True)
    for student in (plain / "submitted").iterdir():
        if student.name not in honest:
            shutil.rmtree(student)
    late_for(course, ("ray", "bob"))
    outcomes = autograde(kit, course, "coop", jobs=2)
    nbgrader(plain, "autograde", "coop", "--create")
    nbgrader(course, "generate_feedback", "coop", "--force", check=False)
    nbgrader(course, "export")
    code["stub"] = None
    formgrader = in_fresh_worker(formgrader_submissions, str(course), "coop")
    return {"dir": course, "plain": plain, "code": code, "outcomes": outcomes, "release": release, "formgrader": formgrader}


def formgrader_submissions(course: str, assignment: str) -> list[dict]:
    """What formgrader's submission list shows (nbgrader's own API behind it)."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    api = NbGraderAPI(coursedir=CourseDirectory(root=course))
    return [{"student": row["student"], "autograded": row["autograded"], "score": row["score"]} for row in api.get_submissions(assignment)]


def late_for(course: Path, students) -> None:
    """A due date in the gradebook, and ``students`` handing in a day after it (everyone else on time)."""
    in_fresh_worker(_set_due_date, str(course))
    for folder in (course / "submitted").iterdir():
        stamp = "2026-01-02 12:00:00.000000 UTC" if folder.name in students else "2025-12-31 12:00:00.000000 UTC"
        (folder / "coop" / "timestamp.txt").write_text(stamp)


def _set_due_date(course: str) -> None:
    import datetime

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        gb.update_or_create_assignment("coop", duedate=datetime.datetime(2026, 1, 1, 12, 0))


def code_cell(source: str, nbgrader=None) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


PROBE_KIT = """
import glob, os, socket
from coopkit.paths import Kit
import coopkit
seen = []
for pattern in [os.path.dirname(os.path.dirname(coopkit.__file__)) + "/solutions/*.py",
                os.path.dirname(os.path.dirname(coopkit.__file__)) + "/grading/test_*.py",
                "COURSE/gradebook.db", "COURSE/submitted/*", "/tmp/*/solutions/runner.py"]:
    seen += glob.glob(pattern, recursive=True)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    seen.append("network")
except OSError:
    pass
print("PROBE", sorted(seen))
"""


def hostile_notebooks(release, reference, code, notebooks, course_dir):
    """Notebooks from the attack review of the nbgrader path; each must get a row and exactly its code's score."""
    # pia: a cell too deep for Python's parser, and a cell whose nbgrader metadata is a string
    code["pia"] = dict(reference)
    notebooks["pia"] = fill_notebook(release, reference)
    notebooks["pia"]["cells"] += [code_cell("x = " + "+".join(["1"] * 100_000)), code_cell("y = 1", nbgrader="x")]
    # quin: a check cell's grade_id renamed to a lone surrogate and an escape sequence, so nbgrader cannot grade it
    code["quin"] = dict(reference)
    notebooks["quin"] = fill_notebook(release, reference)
    for cell in notebooks["quin"]["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "task-id_assignment":
            cell["metadata"]["nbgrader"]["grade_id"] = "\ud800\x1b[31m"
    # rex: script for the instructor's browser in a kernel output
    code["rex"] = dict(reference)
    notebooks["rex"] = fill_notebook(release, reference)
    notebooks["rex"]["cells"].append(code_cell(
        "from IPython.display import HTML, Javascript, display\n"
        "display(HTML('<script>alert(1)</script>'))\ndisplay(Javascript('alert(2)'))"
    ))
    # sam: stub solution cells; the real code hidden in locked check cells (nbgrader restores those)
    code["sam"] = None
    notebooks["sam"] = fill_notebook(release, {})
    for cell in notebooks["sam"]["cells"]:
        exercise, _, check = cell["metadata"].get("nbgrader", {}).get("grade_id", "").partition("-")
        if check and exercise in reference:
            cell["source"] = reference[exercise] + "\n_ = " + repr("".join(cell["source"]))
    # uma: reads the kit, the course and the network from her kernel
    code["uma"] = dict(reference)
    notebooks["uma"] = fill_notebook(release, reference)
    notebooks["uma"]["cells"].append(code_cell(PROBE_KIT.replace("COURSE", course_dir)))
    # tom: the stub scheduler, like the stub notebook; his kernel must not see anyone else's report
    code["tom"] = dict(reference, scheduler=None)
    notebooks["tom"] = fill_notebook(release, {k: v for k, v in reference.items() if k != "scheduler"})
    notebooks["tom"]["cells"].append(code_cell(
        "import glob, json\nprint('REPORT KEYS', sorted({k for f in glob.glob('/reports/*.json') for k in json.load(open(f))}))"
    ))


def gradebook_scores(course: Path, assignment: str = "coop") -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook, MissingEntry

    notebook_id = find_kit().manifest.assignment(assignment).notebook_id
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in gb.students:
            try:
                nb = gb.find_submission_notebook(notebook_id, assignment, student.id)
            except MissingEntry:
                continue
            scores[student.id] = {grade.name: grade.score for grade in nb.grades if "-" in grade.name}
    return scores


def sandbox_scores(kit, code: dict | None, tmp_path: Path, part: int = 1) -> dict[str, float]:
    keys = [check.key for check in kit.manifest.part(part).checks]
    if code is None:
        return {key: 0.0 for key in keys}
    folder = tmp_path / "code"
    folder.mkdir(parents=True, exist_ok=True)
    for exercise, source in code.items():
        (folder / f"{exercise}.py").write_text(source)
    with grading.GradingRun.create(kit, part=part) as run:
        report = grading.grade_folders(run, {"x": folder}, jobs=2)["x"]
    return {f"{e}-{c}": float(v["score"]) for e, d in report["exercises"].items() for c, v in d["checks"].items()}


def test_every_student_has_a_full_row(course, kit):
    scores = gradebook_scores(course["dir"])
    students = {p.name for p in (course["dir"] / "submitted").iterdir()}
    assert set(scores) == students
    for student, cells in scores.items():
        assert set(cells) == {check.key for check in kit.manifest.part(1).checks}, student


@pytest.mark.parametrize("student", ["ref", "bob", "carol", "dave", "stub", "eve", "fay", "gus", "hal", "ivy", "lee", "max", "ned", "ray", "zed",
                                     "pia", "quin", "rex", "sam", "tom", "uma"])
def test_gradebook_matches_coopkit_grade_cell_by_cell(course, kit, student, tmp_path):
    stubs = {e.name: (kit.exercises / f"{e.name}.py").read_text() for e in kit.manifest.part(1).exercises}
    code = course["code"][student] if student not in ("stub", "sam") else stubs
    code = {name: stubs[name] if source is None else source for name, source in code.items()}
    assert gradebook_scores(course["dir"])[student] == sandbox_scores(kit, code, tmp_path)


def test_unreadable_and_missing_notebooks_score_zero_with_a_message(course, kit):
    scores = gradebook_scores(course["dir"])
    for student in ("jay", "kim", "ole"):
        assert all(score == 0 for score in scores[student].values())
        assert not course["outcomes"][student].nbgrader_ok and course["outcomes"][student].message


def test_what_a_kernel_displays_reaches_no_browser_as_script(course):
    """rex displayed HTML and JavaScript: the autograded notebook keeps plain text only, and the feedback page has no script."""
    nb = json.loads((course["dir"] / "autograded" / "rex" / "coop" / NOTEBOOK).read_text())
    kinds = {kind for cell in nb["cells"] for out in cell.get("outputs", []) for kind in out.get("data", {})}
    assert kinds and kinds <= {"text/plain", "image/png"}
    assert "<script>alert" not in (course["dir"] / "feedback" / "rex" / "coop" / f"{NOTEBOOK_ID}.html").read_text()


def test_a_kernel_reaches_no_solution_suite_gradebook_submission_or_network(course):
    """uma's cell looked for the solutions, the hidden suites, any gradebook, other submissions and the internet."""
    nb = json.loads((course["dir"] / "autograded" / "uma" / "coop" / NOTEBOOK).read_text())
    printed = ["".join(out.get("text", "")) for cell in nb["cells"] for out in cell.get("outputs", []) if "PROBE" in "".join(out.get("text", ""))]
    assert printed == ["PROBE []\n"], printed


def test_a_kernel_sees_only_its_own_exercise_reports(course):
    """tom left the same stub as the stub notebook: his kernel's reports are slices of one exercise, no names, no scores of others."""
    nb = json.loads((course["dir"] / "autograded" / "tom" / "coop" / NOTEBOOK).read_text())
    printed = [out["text"] for cell in nb["cells"] for out in cell.get("outputs", []) if "REPORT KEYS" in "".join(out.get("text", ""))]
    assert printed and "".join(printed[0]).strip() == "REPORT KEYS ['exercises']"


def test_odd_notebooks_are_explained_on_one_printable_line(course):
    """quin's renamed grade_id holds a lone surrogate and an escape sequence: the status is one escaped line."""
    message = course["outcomes"]["quin"].message
    assert "\x1b" not in message and "\n" not in message and "\\ud800" in message and "task-id_assignment was deleted" in message
    assert course["outcomes"]["quin"].not_recorded == "" and course["outcomes"]["ole"].message


@pytest.mark.parametrize(("student", "cause"), [
    ("jay", "cooperative_multitasking.ipynb is not valid JSON (line 1, column 13: Expecting value)"),
    ("kim", "no cooperative_multitasking.ipynb in the submission (nothing by that name was submitted)"),
    ("ray", "check cell runner-stop_value was deleted or its grade_id renamed; a cell has grade_id 'runner-stop_value_renamed'"),
])
def test_ungradable_notebooks_are_explained_and_still_shown(course, student, cause):
    """The real cause in one line (output and course log); formgrader and the feedback page show the grader's scores."""
    outcome = course["outcomes"][student]
    assert not outcome.nbgrader_ok and outcome.message.startswith(cause)
    log = (course["dir"] / "coopkit-autograde.log").read_text()
    assert f"coop {student!r}: {outcome.score} nbgrader could not grade it: {cause}" in log
    assert outcome.score == ("0/25" if student != "ray" else "22/25")
    stand_in = json.loads((course["dir"] / "autograded" / student / "coop" / NOTEBOOK).read_text())
    assert cause in "".join(stand_in["cells"][0]["source"]).replace("\\", "")  # shown as text: markdown escapes
    feedback = (course["dir"] / "feedback" / student / "coop" / f"{NOTEBOOK_ID}.html").read_text()
    assert "nbgrader could not grade the submitted notebook" in feedback and "points" in feedback
    listed = {row["student"]: row for row in course["formgrader"]}
    assert listed[student]["autograded"] and listed[student]["score"] == sum(gradebook_scores(course["dir"])[student].values())


def test_a_late_notebook_is_penalised_whether_or_not_nbgrader_could_grade_it(course):
    """ray (ungradable, a stand-in) and bob (graded by nbgrader) handed in late, under the course's 'zero' rule."""
    penalties = in_fresh_worker(_penalties, str(course["dir"]))
    assert penalties["ray"] == sum(gradebook_scores(course["dir"])["ray"].values()) > 0
    assert penalties["bob"] == 22 and not penalties["ref"]


def _penalties(course: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {s.student.id: s.late_submission_penalty for s in gb.find_assignment("coop").submissions}


def test_honest_scores_are_nbgraders_own(course):
    """For honest notebooks the sandbox check changes nothing, and plain sequential nbgrader agrees."""
    ours, plain = gradebook_scores(course["dir"]), gradebook_scores(course["plain"])
    for student in ("ref", "bob", "carol", "dave"):
        assert course["outcomes"][student].nbgrader_ok
        assert course["outcomes"][student].corrected == []
        assert ours[student] == plain[student]
    assert plain["ref"] and all(v > 0 for v in plain["ref"].values())
    assert plain["bob"]["runner-stop_value"] == 0


def test_kernel_tricks_never_raise_a_score(course):
    """The notebook that patched grade_check in its kernel: its check cells show the grader's verdict."""
    nb = json.loads((course["dir"] / "autograded" / "ned" / "coop" / NOTEBOOK).read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "runner-stop_value")
    assert "".join(cell["outputs"][0]["text"]).startswith("runner / stop_value: 0/3 points")
    assert gradebook_scores(course["dir"])["ned"]["runner-stop_value"] == 0


def test_edited_check_cells_are_named(course):
    """eve deleted one check cell and rewrote another: nbgrader restored both, and the status says which."""
    outcome = course["outcomes"]["eve"]
    assert outcome.nbgrader_ok and outcome.restored == ["runner-stop_value", "runner-exception_propagation"]
    assert course["outcomes"]["ref"].restored == [] and "restored by nbgrader: runner-stop_value" in outcome.status_line()


@pytest.mark.parametrize("student", PLAIN_TAMPERING)
def test_plain_nbgrader_autograde_ends_with_the_sandbox_scores(course, kit, student, tmp_path):
    """`nbgrader autograde` without coopkit (formgrader's button, habit) uses the course config: same scores."""
    assert gradebook_scores(course["plain"])[student] == sandbox_scores(kit, course["code"][student], tmp_path)


def test_nothing_a_notebook_started_outlives_it(course):
    """zed's cell started a detached process that would overwrite gradebook.db seconds later: it died with its sandbox."""
    import subprocess
    import time

    time.sleep(5)
    for folder in (course["dir"], course["plain"]):
        assert not (folder / MARKER).exists()
        assert gradebook_scores(folder)["zed"]["runner-stop_value"] == 0
    assert MARKER not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_exported_csv_has_the_totals(course):
    rows = {row["student_id"]: row for row in csv.DictReader((course["dir"] / "grades.csv").open())}
    scores = gradebook_scores(course["dir"])
    for student, cells in scores.items():
        assert float(rows[student]["raw_score"]) == pytest.approx(sum(cells.values()))
    assert float(rows["ref"]["raw_score"]) == 25 and float(rows["bob"]["raw_score"]) == 22


def test_release_holds_no_solution_and_no_hidden_test(course, kit):
    """Solution cells keep only nbgrader's stub; no solution block and no hidden line appears anywhere."""
    from coopkit.authoring import regions

    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"]) for c in course["release"]["cells"]}
    everything = "\n".join("".join(c["source"]) for c in course["release"]["cells"])
    for exercise in kit.manifest.part(1).exercises:
        for region in regions.find_regions(kit.solution_file(exercise.name).read_text()):
            body = [line.strip() for line in region.body if line.strip()]
            assert "\n".join(region.body) not in everything
            for line in body:
                assert line not in [text.strip() for text in cells[exercise.name].splitlines()], line
        assert "raise NotImplementedError()" in cells[exercise.name]
    assert "grade_check(" not in everything and "BEGIN HIDDEN" not in everything and "BEGIN SOLUTION" not in everything


def test_feedback_shows_messages_not_test_source(course, kit):
    feedback = (course["dir"] / "feedback" / "bob" / "coop" / f"{NOTEBOOK_ID}.html").read_text()
    assert "StopIteration.value" in feedback and "likely cause" in feedback
    hidden = set()
    for exercise in kit.manifest.part(1).exercises:
        hidden |= set(re.findall(r"def (test_\w+)", kit.suite_file(exercise.name).read_text()))
    assert not [name for name in hidden if name in feedback]
    assert "def check_" not in feedback and "fail(" not in feedback


def test_validate_fails_for_stubs_and_passes_when_solved(course, kit, tmp_path):
    stub = tmp_path / "stub.ipynb"
    stub.write_text(json.dumps(course["release"]))
    failed = nbgrader(course["dir"], "validate", str(stub), check=False)
    assert "VALIDATION FAILED" in failed.stdout + failed.stderr
    reference = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(1).exercises}
    solved = tmp_path / "solved.ipynb"
    solved.write_text(json.dumps(fill_notebook(course["release"], reference)))
    passed = nbgrader(course["dir"], "validate", str(solved), check=False)
    assert "Success!" in passed.stdout + passed.stderr, passed.stdout + passed.stderr


def test_one_late_submission_is_autograded_alone(course):
    """`--student ID` regrades one student: a table row for that student only, the others' rows untouched."""
    import subprocess
    import sys

    before = gradebook_scores(course["dir"])
    lines_before = (course["dir"] / "coopkit-autograde.log").read_text().count("\n")
    command = [sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "autograde", "coop", "--course", str(course["dir"]), "-j", "1"]
    done = subprocess.run([*command, "--student", "bob"], capture_output=True, text=True, env=dict(nbgrader_env(), COLUMNS="200"))
    assert done.returncode == 0, done.stderr
    assert re.search(r"│\s*bob\s*│\s*22/25\s*│\s*graded", done.stdout) and "carol" not in done.stdout
    log = (course["dir"] / "coopkit-autograde.log").read_text()
    assert log.count("\n") == lines_before + 1 and log.rstrip().endswith("coop 'bob': 22/25 graded")
    assert gradebook_scores(course["dir"]) == before
    unknown = subprocess.run([*command, "--student", "nobody"], capture_output=True, text=True, env=nbgrader_env())
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1 and "'nobody'" in unknown.stderr


def test_course_builds_to_the_same_bytes_and_is_committed(kit, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    nbbuild.build(kit, first)
    nbbuild.build(kit, second)
    for relative in nbbuild.course_files(kit):
        assert (first / relative).read_bytes() == (second / relative).read_bytes()
        assert (first / relative).read_bytes() == (kit.root / "course" / relative).read_bytes(), "run `coopkit dev generate`"


def test_zip_collect_files_an_lms_download_with_the_course_config(course, tmp_path):
    """`nbgrader zip_collect` with the named_regexp the course config ships: LMS-style names land in submitted/."""
    import zipfile

    copy = tmp_path / "course"
    copy.mkdir()
    for name in ("nbgrader_config.py", "gradebook.db", "release", "source"):
        source = course["dir"] / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    archive = copy / "downloaded" / "coop" / "archive"
    archive.mkdir(parents=True)
    notebook = json.dumps(course["release"])
    (archive / f"una_12345_67890_{NOTEBOOK}").write_text(notebook)
    with zipfile.ZipFile(archive / "moodle.zip", "w") as bundle:
        bundle.writestr(f"Vic Vega_4242_assignsubmission_file_{NOTEBOOK}", notebook)
    (archive / "Wes Ward_77_assignsubmission_file_").mkdir()
    (archive / "Wes Ward_77_assignsubmission_file_" / NOTEBOOK).write_text(notebook)
    # mallory's own zip tries to file notebooks under a classmate's name and under a student who never submitted
    with zipfile.ZipFile(archive / "mallory_5_6_upload.zip", "w") as upload:
        upload.writestr(f"una_9_9_{NOTEBOOK}", notebook)
        upload.writestr(f"xan_9_9_{NOTEBOOK}", notebook)
    nbgrader(copy, "zip_collect", "coop")
    assert sorted(p.name for p in (copy / "submitted").iterdir()) == ["Vic Vega", "Wes Ward", "una"]
    for student in ("una", "Vic Vega", "Wes Ward"):
        assert (copy / "submitted" / student / "coop" / NOTEBOOK).is_file()


@pytest.mark.parametrize("where", ["course", ".", "docs/course"])
def test_build_keeps_student_data_out_of_the_kit(kit, where):
    """`coopkit nbgrader build` inside the repository (the committed course/ too) is one clear line, nothing written."""
    import subprocess
    import sys

    before = {path: path.stat().st_mtime_ns for path in (kit.root / "course").rglob("*")}
    done = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "build", where], cwd=kit.root, capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "outside" in done.stderr
    assert {path: path.stat().st_mtime_ns for path in (kit.root / "course").rglob("*")} == before
    assert not (kit.root / "docs" / "course").exists()
