"""Speed figures for the README, measured side by side in one run.

* ``coopkit grade`` on one complete submission (wall time, CLI included);
* ``coopkit grade-class`` on 40 submissions with ``-j 1`` and ``-j 2``, alternating;
* the public ``pytest`` run a student makes (on the reference, so every test runs to the end).

Writes the table between the ``bench`` markers of README.md.
Usage: python benchmarks/bench_grader.py [--rounds N] [--class-size N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from coopkit.authoring import regions  # noqa: E402
from coopkit.paths import Kit  # noqa: E402
from markers import refresh_block  # noqa: E402 - benchmarks/markers.py

COOPKIT = [sys.executable, "-m", "coopkit.instructor.cli"]


# Python as installed: byte-code caching on (a machine that sets PYTHONDONTWRITEBYTECODE recompiles the
# kit on every command, which is not what an instructor's machine does).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def wall(command, cwd=ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def reference_folder(kit: Kit, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for exercise in kit.manifest.exercises:
        source = regions.drop_markers(kit.solution_file(exercise.name).read_text())
        (folder / f"{exercise.name}.py").write_text(source)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--class-rounds", type=int, default=3)
    parser.add_argument("--class-size", type=int, default=40)
    args = parser.parse_args()
    kit = Kit(ROOT)
    scratch = Path(tempfile.mkdtemp(prefix="coopkit-bench-"))
    try:
        one = reference_folder(kit, scratch / "one")
        klass = scratch / "class"
        for n in range(args.class_size):
            reference_folder(kit, klass / f"student{n:02d}")
        wall(COOPKIT + ["grade", str(one), "--json"])  # warm the file cache
        grade = [wall(COOPKIT + ["grade", str(one), "--json"]) for _ in range(args.rounds)]
        public = [wall([sys.executable, "-m", "pytest", "-q", "--impl", "solutions"]) for _ in range(args.rounds)]
        j1, j2 = [], []
        for _ in range(args.class_rounds):
            j1.append(wall(COOPKIT + ["grade-class", str(klass), "--out", str(scratch / "out1"), "-j", "1", "--quiet"]))
            j2.append(wall(COOPKIT + ["grade-class", str(klass), "--out", str(scratch / "out2"), "-j", "2", "--quiet"]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    m1, m2 = statistics.median(j1), statistics.median(j2)
    lines = [
        "| measurement | median | target |",
        "|---|---:|---|",
        f"| `coopkit grade` one complete Part 1 submission ({args.rounds} runs) | {statistics.median(grade):.2f} s | ≤ 0.5 s |",
        f"| public `pytest` run on the reference, Parts 1 and 2 ({args.rounds} runs) | {statistics.median(public):.2f} s | ≤ 1.5 s |",
        f"| `grade-class -j 1`, {args.class_size} submissions ({args.class_rounds} runs) | {m1:.1f} s ({args.class_size / m1:.2f} subs/s, {m1 / args.class_size:.3f} s each) | |",
        f"| `grade-class -j 2`, {args.class_size} submissions ({args.class_rounds} runs) | {m2:.1f} s ({args.class_size / m2:.2f} subs/s, {m2 / args.class_size:.3f} s each) | |",
        f"| throughput ratio `-j 2` / `-j 1` | {m1 / m2:.2f}x | ≥ 1.7x |",
    ]
    print("\n".join(lines))
    if refresh_block(ROOT / "README.md", "bench", "\n".join(lines)):
        print("README.md updated")


if __name__ == "__main__":
    main()
