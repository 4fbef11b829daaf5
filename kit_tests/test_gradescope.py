"""The Gradescope autograder zip, run under a temporary root laid out like Gradescope's."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from coopkit import grading
from coopkit.gradescope import autograder as gradescope
from coopkit.grading import user_isolation
from coopkit.manifest import ManifestError
from coopkit.notebook import strip_relative_imports

from .conftest import CORPUS, build_submission, reference_source

STUDENT_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def autograder(kit, tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    gradescope.build_autograder(kit, out)
    return out


@pytest.fixture(scope="module")
def autograder_part2(kit, tmp_path_factory):
    out = tmp_path_factory.mktemp("zip2") / "autograder.zip"
    gradescope.build_autograder(kit, out, part=2)
    return out


def unpack(autograder, root):
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
    return root


def run_script(root, **env_extra):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), COOPKIT_PYTHON=sys.executable, **env_extra)
    return subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True, timeout=600)


def run(autograder, tmp_path, kit, case, nested=False, root=None, **env_extra):
    root = unpack(autograder, root or tmp_path / "autograder")
    submission = root / "submission"
    build_submission(kit, CORPUS / case, submission / "my-files" if nested else submission)
    result = run_script(root, **env_extra)
    assert result.returncode == 0, result.stderr
    return json.loads((root / "results" / "results.json").read_text())


def lost(results):
    return sorted(t["name"] for t in results["tests"] if t["status"] == "failed")


def test_zip_has_gradescope_layout_and_no_samples(autograder):
    names = zipfile.ZipFile(autograder).namelist()
    assert "setup.sh" in names and "run_autograder" in names
    assert "kit/solutions/scheduler.py" in names and "kit/grading/test_scheduler.py" in names
    assert not [n for n in names if "samples" in n or "__pycache__" in n]


def test_correct_submission_gets_full_marks(autograder, tmp_path, kit):
    results = run(autograder, tmp_path, kit, "ok_scheduler_lecture_trace", nested=True)
    assert results["score"] == 25
    assert results["extra_data"]["isolation"] == "bubblewrap" and "Warning" not in results["output"]
    assert len(results["tests"]) == len(kit.manifest.part(1).checks)
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] == "passed" and test["score"] == test["max_score"]


def test_buggy_submission_loses_its_check(autograder, tmp_path, kit):
    results = run(autograder, tmp_path, kit, "bug_runner_for_loop")
    failed = [t["name"] for t in results["tests"] if t["status"] == "failed"]
    assert failed == ["runner: stop_value"] and results["score"] == 22
    assert "likely cause" in next(t for t in results["tests"] if t["status"] == "failed")["output"]


def test_an_upload_that_reads_the_kit_gets_nothing_for_it(autograder, tmp_path, kit):
    """It execs the kit's reference found beside its file, under /autograder/source or from the grader's command line."""
    results = run(autograder, tmp_path, kit, "cheat_read_gradescope_kit")
    assert lost(results) == ["runner: exception_propagation", "runner: stop_value"] and results["score"] == 20


# ---- Part 2 ---------------------------------------------------------------------------------------------


def test_part_2_autograder_grades_part_2(autograder_part2, tmp_path, kit):
    script = zipfile.ZipFile(autograder_part2).read("run_autograder").decode()
    assert "--part 2" in script
    results = run(autograder_part2, tmp_path, kit, "p2_get_id_answers_zero")
    assert len(results["tests"]) == len(kit.manifest.part(2).checks)
    assert lost(results) == ["traps: send_answers"]
    assert results["score"] == kit.manifest.part(2).points - 2 and results["extra_data"]["part"] == 2


def test_export_refuses_a_part_that_does_not_exist(kit, tmp_path):
    with pytest.raises(ManifestError, match="the parts are: 1, 2"):
        gradescope.build_autograder(kit, tmp_path / "autograder.zip", part=3)
    assert not (tmp_path / "autograder.zip").exists()


# ---- Notebook uploads -----------------------------------------------------------------------------------


def coop_notebook(kit, sources: dict[str, str], grade_ids: dict[str, str] | None = None):
    """A notebook shaped like the course's: a solution cell per exercise (grade_id = exercise), check cells, examples."""
    grade_ids = grade_ids or {}
    cells = [nbformat.v4.new_markdown_cell("# Cooperative multitasking")]
    for exercise in kit.manifest.part(1).exercises:
        cell = nbformat.v4.new_code_cell(strip_relative_imports(sources[exercise.name]))
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_ids.get(exercise.name, exercise.name), "locked": False,
                                     "schema_version": 3, "solution": True, "task": False}
        cells.append(cell)
        for check in exercise.checks:
            check_cell = nbformat.v4.new_code_cell(f"from coopkit.notebook import grade_check\ngrade_check({exercise.name!r}, {check.name!r})")
            check_cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"{exercise.name}-{check.name}", "locked": True,
                                               "points": check.points, "schema_version": 3, "solution": False, "task": False}
            cells.append(check_cell)
    # an example cell after the exercises that defines a broken runner: not a solution cell, so never graded
    cells.append(nbformat.v4.new_code_cell("def runner(gen):\n    return None\n"))
    return nbformat.v4.new_notebook(cells=cells)


def notebook_upload(autograder, tmp_path, kit, notebook=None, text=None):
    root = unpack(autograder, tmp_path / "autograder")
    (root / "submission").mkdir()
    path = root / "submission" / "cooperative_multitasking.ipynb"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    else:
        nbformat.write(notebook, str(path))
    result = run_script(root)
    assert result.returncode == 0, result.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_notebook_upload_is_graded_by_its_solution_cells(autograder, tmp_path, kit):
    sources = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(1).exercises}
    sources["runner"] = sources["runner"].replace("return stop.value", "return None")
    assert sources["runner"] != reference_source(kit, "runner")
    results = notebook_upload(autograder, tmp_path, kit, coop_notebook(kit, sources))
    assert lost(results) == ["runner: stop_value"] and results["score"] == 22
    assert "Graded the notebook cooperative_multitasking.ipynb." in results["output"]


def test_notebook_without_a_solution_cell_loses_that_exercise_and_says_why(autograder, tmp_path, kit):
    sources = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(1).exercises}
    results = notebook_upload(autograder, tmp_path, kit, coop_notebook(kit, sources, grade_ids={"task": "my_task"}))
    assert lost(results) == ["task: id_assignment", "task: wraps_generator"] and results["score"] == 20
    assert "no solution cell for task" in results["output"]


def test_unreadable_notebook_gets_zero_and_one_line(autograder, tmp_path, kit):
    results = notebook_upload(autograder, tmp_path, kit, text='{"cells": [\n  {"cell_type": "code",\n')
    assert results["score"] == 0 and len(results["tests"]) == len(kit.manifest.part(1).checks)
    problem = next(line for line in results["output"].splitlines() if "cooperative_multitasking.ipynb" in line)
    assert "not valid JSON (line 3" in problem and "upload" in problem
    assert all(t["status"] == "failed" and t["output"] == problem for t in results["tests"])


# ---- The fallback isolation: a separate unprivileged user ------------------------------------------------


def free_uid() -> int:
    for uid in range(61000, 62000):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if not user_isolation.processes_of(uid):
                return uid
    pytest.skip("no free uid between 61000 and 62000 for the student account")


@pytest.fixture
def as_user():
    """Settings that force the user mode, and a root readable by everyone (so only the autograder's chmod protects it)."""
    if os.geteuid() != 0:
        pytest.skip("the user isolation runs student code as another account: only root can do that")
    if not os.access(STUDENT_PYTHON, os.X_OK) or os.stat(STUDENT_PYTHON).st_mode & stat.S_IXOTH == 0:
        pytest.skip(f"the student account needs a Python every user can run at {STUDENT_PYTHON}")
    base = Path(tempfile.mkdtemp(prefix="coopkit-gs-"))
    os.chmod(base, 0o755)
    uid = free_uid()
    yield {"root": base / "autograder", "uid": uid,
           "env": {"COOPKIT_ISOLATION": "user", "COOPKIT_STUDENT_USER": str(uid), "COOPKIT_STUDENT_PYTHON": STUDENT_PYTHON}}
    user_isolation.end_processes(uid)
    shutil.rmtree(base, ignore_errors=True)


def test_user_mode_grades_and_says_it_is_weaker(autograder, tmp_path, kit, as_user):
    results = run(autograder, tmp_path, kit, "bug_runner_for_loop", root=as_user["root"], **as_user["env"])
    assert lost(results) == ["runner: stop_value"] and results["score"] == 22
    assert results["extra_data"]["isolation"] == f"unprivileged user {as_user['uid']} (no namespaces)"
    assert "Warning: isolation was unprivileged user" in results["output"] and "weaker" in results["output"]
    assert stat.S_IMODE((as_user["root"] / "source").stat().st_mode) == 0o700


def test_user_mode_keeps_the_kit_from_student_code(autograder, tmp_path, kit, as_user):
    results = run(autograder, tmp_path, kit, "cheat_read_gradescope_kit", root=as_user["root"], **as_user["env"])
    assert lost(results) == ["runner: exception_propagation", "runner: stop_value"] and results["score"] == 20


def test_user_mode_ends_every_process_of_the_account(autograder, tmp_path, kit, as_user):
    """A detached process (its own session, its parent gone) would outlive a process-group kill."""
    root = unpack(autograder, as_user["root"])
    build_submission(kit, CORPUS / "ok_reference_style", root / "submission")
    detach = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(120)\n    os._exit(0)\n"
    runner = root / "submission" / "runner.py"
    runner.write_text(detach + runner.read_text())
    result = run_script(root, **as_user["env"])
    assert result.returncode == 0, result.stderr
    assert json.loads((root / "results" / "results.json").read_text())["score"] == 25
    assert user_isolation.processes_of(as_user["uid"]) == []


def test_user_mode_refuses_when_the_account_could_read_the_kit(kit, as_user):
    """Here the kit is this repository, which every user can read: no submission may run as that account."""
    assert os.access(kit.root, os.R_OK | os.X_OK) and stat.S_IMODE(kit.root.stat().st_mode) & 0o005
    with pytest.raises(grading.SandboxUnavailable, match=f"can reach {kit.root}: make it root-only"):
        gradescope.open_run(kit, 1, "user", str(as_user["uid"]), STUDENT_PYTHON)


def test_no_account_means_one_line_and_no_results(autograder, tmp_path, kit, as_user):
    root = unpack(autograder, as_user["root"])
    build_submission(kit, CORPUS / "ok_reference_style", root / "submission")
    result = run_script(root, **{**as_user["env"], "COOPKIT_STUDENT_USER": "coopkit-nobody-here"})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "no user account 'coopkit-nobody-here'" in result.stderr and "setup.sh" in result.stderr
    assert not (root / "results" / "results.json").exists()


# ---- setup.sh --------------------------------------------------------------------------------------------

STUBS = {
    # Ubuntu's python3 without python3-venv: `-m venv --help` works, ensurepip and venv creation fail
    "python3": """#!/usr/bin/env bash
if [ "$1" = "-c" ]; then [ -e "$STATE/venv-installed" ]; exit; fi
if [ "$1 $2" = "-m venv" ]; then
    [ "$3" = "--help" ] && exit 0
    mkdir -p "$3/bin"
    if [ -e "$STATE/venv-installed" ]; then
        printf '#!/usr/bin/env bash\\necho "$@" >> "%s/pip.log"\\n' "$STATE" > "$3/bin/pip"; chmod +x "$3/bin/pip"; exit 0
    fi
    echo "The virtual environment was not created successfully because ensurepip is not available." >&2; exit 1
fi
exit 3
""",
    "apt-get": """#!/usr/bin/env bash
echo "$@" >> "$STATE/apt.log"
case " $* " in *" python3-venv "*) touch "$STATE/venv-installed";; esac
""",
    "useradd": '#!/usr/bin/env bash\necho "$@" >> "$STATE/useradd.log"\n',
    "id": "#!/usr/bin/env bash\nexit 1\n",
}


@pytest.mark.parametrize("venv_installed", [False, True])
def test_setup_installs_python3_venv_only_when_a_venv_cannot_be_made(autograder, tmp_path, venv_installed):
    root = unpack(autograder, tmp_path / "autograder")
    stubs, state = tmp_path / "bin", tmp_path / "state"
    stubs.mkdir(), state.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    if venv_installed:
        (state / "venv-installed").touch()
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), STATE=str(state), PATH=f"{stubs}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (state / "apt.log").exists() != venv_installed
    if not venv_installed:
        assert "install -y python3 python3-venv" in (state / "apt.log").read_text()
    assert f"install --quiet {root}/source/kit" in (state / "pip.log").read_text()
    assert "coopkit-student" in (state / "useradd.log").read_text()
    assert stat.S_IMODE((root / "source").stat().st_mode) == 0o700 and stat.S_IMODE((root / "venv").stat().st_mode) == 0o700
