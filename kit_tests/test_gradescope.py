"""The Gradescope autograder zip, run under a temporary root laid out like Gradescope's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from coopkit import gradescope

from .conftest import CORPUS, build_submission


@pytest.fixture(scope="module")
def autograder(kit, tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    gradescope.build_autograder(kit, out)
    return out


def run(autograder, tmp_path, kit, case, nested=False):
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
    submission = root / "submission"
    build_submission(kit, CORPUS / case, submission / "my-files" if nested else submission)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), COOPKIT_PYTHON=sys.executable)
    result = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads((root / "results" / "results.json").read_text())


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
