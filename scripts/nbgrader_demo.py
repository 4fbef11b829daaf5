"""The instructor's nbgrader sequence on the sample submissions (run by `make demo`).

coopkit nbgrader build -> nbgrader generate_assignment -> notebooks filled with
each sample's code -> coopkit nbgrader autograde -j 2 -> nbgrader
generate_feedback -> nbgrader export, then the exported grades as a table.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coopkit.course import build as nbbuild  # noqa: E402
from coopkit.course.autograde import fill_notebook  # noqa: E402
from coopkit.course.workers import nbgrader, nbgrader_env  # noqa: E402
from coopkit.paths import Kit  # noqa: E402


def main() -> None:
    course = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "nbgrader-demo")
    shutil.rmtree(course, ignore_errors=True)
    kit = Kit(ROOT)
    print(f"$ coopkit nbgrader build {course}")
    try:
        nbbuild.build(kit, course)
    except nbbuild.CourseError as exc:
        sys.exit(f"nbgrader demo: {exc}")
    print("$ nbgrader generate_assignment coop")
    nbgrader(course, "generate_assignment", "coop", "--force")
    release = json.loads((course / "release" / "coop" / kit.manifest.assignment("coop").notebook).read_text())
    for sample in sorted((ROOT / "grading" / "samples").iterdir()):
        if not sample.is_dir():
            continue
        sources = {p.stem: p.read_text() for p in sample.glob("*.py")}
        folder = course / "submitted" / sample.name / "coop"
        folder.mkdir(parents=True)
        (folder / kit.manifest.assignment("coop").notebook).write_text(json.dumps(fill_notebook(release, sources)))
    print("$ coopkit nbgrader autograde coop -j 2")
    subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "autograde", "coop", "-j", "2"], cwd=course, env=nbgrader_env(), check=True)
    print("$ nbgrader generate_feedback coop && nbgrader export")
    nbgrader(course, "generate_feedback", "coop", "--force", check=False)
    nbgrader(course, "export")
    rows = list(csv.DictReader((course / "grades.csv").open()))
    print(f"\n{'student':<10} {'score':>6} / max")
    for row in sorted(rows, key=lambda r: r["student_id"]):
        print(f"{row['student_id']:<10} {float(row['score']):>6g} / {float(row['max_score']):g}")
    print(f"\nfeedback: {course / 'feedback'}   grades: {course / 'grades.csv'}")


if __name__ == "__main__":
    main()
