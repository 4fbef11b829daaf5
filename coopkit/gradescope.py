"""Gradescope: an autograder zip that runs the kit's grader, and results in Gradescope's format.

Gradescope runs ``setup.sh`` once to build the image and ``run_autograder``
for each submission, with the student's files in ``/autograder/submission``;
it reads ``/autograder/results/results.json``: a top-level score and one
test per rubric check (name, score, max_score, status, output, visibility).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from . import grading
from .paths import Kit

KIT_PARTS = ("pyproject.toml", "README.md", "manifest.toml", "coopkit", "solutions", "grading", "exercises", "tests", "docs")

SETUP = """#!/usr/bin/env bash
# Gradescope image set-up: a virtual environment with the kit installed.
set -euo pipefail
if ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet /autograder/source/kit
"""

RUN = """#!/usr/bin/env bash
# Gradescope entry point: grade /autograder/submission, write /autograder/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${COOPKIT_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
export COOPKIT_ROOT="$ROOT/source/kit"
"$PYTHON" -m coopkit.cli gradescope-results "$ROOT/submission" "$ROOT/results/results.json"
"""


def build_autograder(kit: Kit, out: Path) -> Path:
    """The zip to upload as a Gradescope autograder."""
    out = Path(out)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "samples", "*.egg-info")
    with tempfile.TemporaryDirectory() as scratch:
        stage = Path(scratch) / "kit"
        stage.mkdir()
        for part in KIT_PARTS:
            source = kit.root / part
            if source.is_dir():
                shutil.copytree(source, stage / part, ignore=ignore)
            elif source.is_file():
                shutil.copyfile(source, stage / part)
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o100755 << 16
                archive.writestr(info, text)
            for path in sorted(stage.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(str(path.relative_to(scratch)), date_time=(2026, 1, 1, 0, 0, 0))
                    info.external_attr = 0o100644 << 16
                    archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return out


def find_submission_folder(root: Path, modules: list[str]) -> Path:
    """The folder holding the student's files (students often upload a folder inside the zip)."""
    best, best_count = root, sum((root / f"{m}.py").is_file() for m in modules)
    for folder in sorted(p for p in root.rglob("*") if p.is_dir() and len(p.relative_to(root).parts) <= 2):
        count = sum((folder / f"{m}.py").is_file() for m in modules)
        if count > best_count:
            best, best_count = folder, count
    return best


def results_json(report: dict, seconds: float) -> dict:
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
    return {
        "score": report["score"],
        "execution_time": round(seconds, 2),
        "output": f"{report['score']}/{report['max_score']} points. Each test below is one rubric check."
        + ("" if report.get("isolation") == "bubblewrap" else f"\nWarning: the code ran without the sandbox ({report.get('isolation')})."),
        "extra_data": {"isolation": report.get("isolation", "")},
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def run_autograder(kit: Kit, submission: Path, results: Path) -> int:
    started = time.monotonic()
    modules = [exercise.name for exercise in kit.manifest.part(1).exercises]
    folder = find_submission_folder(Path(submission), modules)
    with grading.GradingRun.create(kit) as run:
        report = grading.grade_folders(run, {"submission": folder}, jobs=2)["submission"]
    Path(results).parent.mkdir(parents=True, exist_ok=True)
    Path(results).write_text(json.dumps(results_json(report, time.monotonic() - started), indent=2), encoding="utf-8")
    return 0
