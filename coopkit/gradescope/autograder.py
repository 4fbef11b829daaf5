"""Gradescope: an autograder zip that runs the kit's grader on one part, and results in Gradescope's format.

Gradescope runs ``setup.sh`` once to build the image (its Ubuntu 22.04 base
image) and ``run_autograder`` for each submission, with the student's files
in ``/autograder/submission``; it reads ``/autograder/results/results.json``:
a top-level score and one test per rubric check (name, score, max_score,
status, output, visibility).

Student code never reads the kit: it runs in the bubblewrap sandbox where the
container allows user namespaces, else (the grader being root) as the
separate unprivileged account ``setup.sh`` creates, with the kit readable by
root only (``grading/user_isolation.py``). Never silently: ``results.json``
names the isolation in ``extra_data.isolation`` and its output warns when it
is weaker than namespaces. With neither, nothing is graded and the reason is
one line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .. import grading
from ..grading import user_isolation
from ..grading.sandbox import SANDBOX
from ..paths import Kit
from .upload import UploadProblem, read_upload

SETUP = """#!/usr/bin/env bash
# Gradescope image set-up, for Gradescope's Ubuntu 22.04 base image: Python that can make a virtual
# environment, the kit installed in one, a separate unprivileged account for student code, and the kit
# and the environment readable by root only.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
STUDENT="${COOPKIT_STUDENT_USER:-coopkit-student}"
venv_works() {
    rm -rf "$ROOT/venv"
    python3 -c 'import ensurepip' >/dev/null 2>&1 && python3 -m venv "$ROOT/venv" && [ -x "$ROOT/venv/bin/pip" ]
}
if ! command -v python3 >/dev/null 2>&1 || ! venv_works; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y python3 python3-venv python3-pip
    if ! venv_works; then
        echo "setup.sh: python3 still cannot make a virtual environment (no ensurepip) after installing python3-venv: install the python3.X-venv package matching 'python3 --version'" >&2
        exit 1
    fi
fi
"$ROOT/venv/bin/pip" install --quiet "$ROOT/source/kit" "nbformat>=5.9"
id -u "$STUDENT" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$STUDENT"
chmod 700 "$ROOT/source" "$ROOT/venv"
"""

RUN = """#!/usr/bin/env bash
# Gradescope entry point: grade Part {part} in /autograder/submission, write /autograder/results/results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{COOPKIT_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
# student code may run as another user: nothing of the kit and no result is theirs to read or write
chmod 700 "$ROOT/source" "$ROOT/results"
export COOPKIT_ROOT="$ROOT/source/kit"
"$PYTHON" -m coopkit.instructor.cli gradescope-results "$ROOT/submission" "$ROOT/results/results.json" --part {part} \\
    --isolation "${{COOPKIT_ISOLATION:-auto}}" --student-user "${{COOPKIT_STUDENT_USER:-{account}}}" \\
    ${{COOPKIT_STUDENT_PYTHON:+--student-python "$COOPKIT_STUDENT_PYTHON"}}
"""


def build_autograder(kit: Kit, out: Path, part: int = 1) -> Path:
    """The zip to upload as the Gradescope autograder of ``part``."""
    kit.manifest.part(part)  # ManifestError names the parts there are
    out = Path(out)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "samples", "*.egg-info")
    with tempfile.TemporaryDirectory() as scratch:
        stage = Path(scratch) / "kit"
        stage.mkdir()
        for source in kit.contents:
            name = source.name
            if source.is_dir():
                shutil.copytree(source, stage / name, ignore=ignore)
            elif source.is_file():
                shutil.copyfile(source, stage / name)
        out.parent.mkdir(parents=True, exist_ok=True)
        run = RUN.format(part=part, account=user_isolation.DEFAULT_ACCOUNT)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in (("setup.sh", SETUP), ("run_autograder", run)):
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o100755 << 16
                archive.writestr(info, text)
            for path in sorted(stage.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(str(path.relative_to(scratch)), date_time=(2026, 1, 1, 0, 0, 0))
                    info.external_attr = 0o100644 << 16
                    archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return out


def isolation_warning(isolation: str) -> str:
    """One line when the code ran with less than namespaces ('' under bubblewrap)."""
    if isolation == SANDBOX:
        return ""
    return (f"Warning: isolation was {isolation}, weaker than the bubblewrap sandbox (namespaces): student code could see "
            "the machine as that user; grade where unprivileged user namespaces are allowed to get the sandbox.")


def results_json(report: dict, seconds: float, note: str = "") -> dict:
    tests = []
    for exercise, data in report["exercises"].items():
        for name, check in data["checks"].items():
            tests.append({
                "name": f"{exercise}: {name}",
                "score": check["score"],
                "max_score": check["max_score"],
                "status": "passed" if check["passed"] else "failed",
                "output": check["feedback"],
                "visibility": "visible",
                "tags": [exercise, name],
            })
    isolation = report.get("isolation", "")
    lines = [f"{report['score']}/{report['max_score']} points. Each test below is one rubric check.", note, isolation_warning(isolation) if isolation else ""]
    return {
        "score": report["score"],
        "execution_time": round(seconds, 2),
        "output": "\n".join(line for line in lines if line),
        "extra_data": {"isolation": isolation, "part": report.get("part")},
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def unread_report(kit: Kit, part: int, problem: str) -> dict:
    """A report in the grader's shape when nothing could be graded: every check 0, the problem as feedback."""
    exercises = {
        exercise.name: {"checks": {check.name: {"score": 0, "max_score": check.points, "passed": False, "feedback": problem}
                                   for check in exercise.checks}}
        for exercise in kit.manifest.part(part).exercises
    }
    maximum = sum(check.points for exercise in kit.manifest.part(part).exercises for check in exercise.checks)
    return {"score": 0, "max_score": maximum, "exercises": exercises, "isolation": "", "part": part}


def open_run(kit: Kit, part: int, isolation: str = "auto", account: str = user_isolation.DEFAULT_ACCOUNT,
             python: str | None = None, private: tuple[Path, ...] = ()) -> grading.GradingRun:
    """A grading run under bubblewrap if it works here (``auto``, ``bubblewrap``), else as the student account."""
    refusal = None
    if isolation != "user":
        try:
            return grading.GradingRun.create(kit, part=part)
        except grading.SandboxUnavailable as exc:
            if isolation == "bubblewrap" or os.geteuid() != 0:
                raise
            refusal = exc
    try:
        return user_isolation.user_run(kit, part, user_isolation.Account.named(account),
                                       python or os.path.realpath(sys.executable), [kit.root, *private])
    except grading.SandboxUnavailable as exc:
        if refusal is None:
            raise
        raise grading.SandboxUnavailable(f"{exc} (and bubblewrap: {refusal})") from None


def run_autograder(kit: Kit, submission: Path, results: Path, part: int = 1, isolation: str = "auto",
                   account: str = user_isolation.DEFAULT_ACCOUNT, python: str | None = None) -> dict:
    """Grade ``submission`` (the part's .py files or its notebook), write ``results``, return what was written."""
    started = time.monotonic()
    results = Path(results)
    results.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coopkit-upload-") as scratch:
        try:
            folder, note = read_upload(kit, Path(submission), part, Path(scratch))
        except UploadProblem as problem:
            report, note = unread_report(kit, part, str(problem)), str(problem)
        else:
            with open_run(kit, part, isolation, account, python, (results.parent, Path(scratch))) as run:
                report = grading.grade_folders(run, {"submission": folder}, jobs=1 if run.isolation != SANDBOX else 2)["submission"]
    written = results_json({**report, "part": part}, time.monotonic() - started, note)
    results.write_text(json.dumps(written, indent=2), encoding="utf-8")
    return written
