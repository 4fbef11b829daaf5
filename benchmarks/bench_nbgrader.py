"""nbgrader figures for the README, measured side by side in one run.

On N submissions (default 20) of the coop notebook:
* plain ``nbgrader autograde coop`` (sequential, nbgrader's own command);
* ``coopkit nbgrader autograde coop -j 2`` (parallel; reports computed before the kernels start);

Both run every notebook in a sandboxed kernel (the course's config) and record
the sandboxed grader's scores; plain nbgrader grades each notebook's code on
its own, one notebook at a time.
* ``coopkit grade-class -j 2`` on the same code as module files (the fast path).

The three commands alternate over several rounds; medians, with the table also
written between the ``nbbench`` markers of README.md.

Usage: python benchmarks/bench_nbgrader.py [--students N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from markers import refresh_block  # noqa: E402 - benchmarks/markers.py

from coopkit.course import build as nbbuild  # noqa: E402
from coopkit.authoring import regions  # noqa: E402
from coopkit.course.autograde import fill_notebook  # noqa: E402
from coopkit.course.workers import nbgrader, nbgrader_env  # noqa: E402
from coopkit.paths import Kit  # noqa: E402


def timed(command, cwd) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=nbgrader_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kit = Kit(ROOT)
    scratch = Path(tempfile.mkdtemp(prefix="coopkit-nbbench-"))
    try:
        base = scratch / "base"
        nbbuild.build(kit, base)
        nbgrader(base, "generate_assignment", "coop", "--force")
        release = json.loads((base / "release" / "coop" / kit.manifest.assignment("coop").notebook).read_text())
        reference = {e.name: regions.drop_markers(kit.solution_file(e.name).read_text()) for e in kit.manifest.exercises}
        modules = scratch / "modules"
        for n in range(args.students):
            folder = base / "submitted" / f"s{n:02d}" / "coop"
            folder.mkdir(parents=True)
            (folder / kit.manifest.assignment("coop").notebook).write_text(json.dumps(fill_notebook(release, reference)))
            (modules / f"s{n:02d}").mkdir(parents=True)
            for name, source in reference.items():
                (modules / f"s{n:02d}" / f"{name}.py").write_text(source)
        samples = {"plain": [], "ours": [], "fast": []}
        for round_number in range(args.rounds):  # the three commands alternate, round after round
            plain, ours = (scratch / f"{name}{round_number}" for name in ("plain", "ours"))
            for folder in (plain, ours):
                shutil.copytree(base, folder)
            samples["plain"].append(timed([sys.executable, "-m", "nbgrader", "autograde", "coop", "--create"], plain))
            samples["ours"].append(timed([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "autograde", "coop", "-j", "2"], ours))
            samples["fast"].append(timed([sys.executable, "-m", "coopkit.instructor.cli", "grade-class", str(modules), "--out", str(scratch / f"out{round_number}"), "-j", "2", "--quiet", "--part", "1"], ROOT))
            for folder in (plain, ours):
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    n = args.students
    t_plain, t_ours, fast = (statistics.median(samples[key]) for key in ("plain", "ours", "fast"))
    rows = [
        f"| measurement (median of {args.rounds} rounds) | wall time | per submission |",
        "|---|---:|---:|",
        f"| plain `nbgrader autograde coop`, {n} notebooks | {t_plain:.1f} s | {t_plain / n:.2f} s |",
        f"| `coopkit nbgrader autograde coop -j 2`, {n} notebooks | {t_ours:.1f} s | {t_ours / n:.2f} s |",
        f"| `coopkit grade-class -j 2`, the same {n} submissions as files | {fast:.1f} s | {fast / n:.2f} s |",
        f"| speed-up of `-j 2` over plain nbgrader | {t_plain / t_ours:.2f}x | target ≥ 1.6x |",
        f"| grade-class per submission vs plain nbgrader | {t_plain / fast:.1f}x faster | target ≥ 10x |",
    ]
    table = "\n".join(rows)
    print(table)
    print("rounds:", json.dumps({key: [round(value, 1) for value in values] for key, values in samples.items()}))
    refresh_block(ROOT / "README.md", "nbbench", table)

if __name__ == "__main__":
    main()
