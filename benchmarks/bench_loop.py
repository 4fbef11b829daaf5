"""The student's loop, timed as a student meets it: a fresh bundle with its own venv.

* ``pytest tests/test_X.py``: wall time of one exercise's public run (the stub, then a
  mistake), median over several runs, for every exercise (target: at most 0.6 s).
* ``coopkit watch``: from a save in exercises/ to the new result on the screen (target:
  at most 1 s). The watch runs on a pseudo-terminal, as in a terminal window; each save
  alternates between two mistakes in the current exercise, so every save gives a new screen.

Writes benchmarks/results/loop.json and the table between the ``loop`` markers of
README.md, when it has them. Usage: python benchmarks/bench_loop.py [--quick] [--bundle DIR]
(``--bundle`` reuses a bundle that already has its .venv).
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from markers import refresh_block  # noqa: E402 - benchmarks/markers.py
from coopkit.authoring import regions  # noqa: E402
from coopkit.authoring.bundle import build_bundle, install_venv  # noqa: E402
from coopkit.paths import Kit  # noqa: E402

# Two different wrong versions of async_map: each save swaps them, so each save changes the result.
WRONG = ("        yield\n        results.append(func(item))\n", "        results.append(func(item))\n        yield\n        yield\n")
RIGHT = "        results.append(func(item))\n        yield\n"


def reference(kit: Kit, name: str) -> str:
    return regions.drop_markers(kit.solution_file(name).read_text(encoding="utf-8"))


def time_pytest(bundle: Path, exercise: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([".venv/bin/pytest", f"tests/test_{exercise}.py"], cwd=bundle, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


class Screen:
    """``coopkit watch`` on a pseudo-terminal; ``wait_for`` reads its output until a text appears."""

    def __init__(self, bundle: Path):
        self.fd, child = pty.openpty()
        env = dict(os.environ, COLUMNS="100", LINES="50", TERM="xterm-256color")
        self.proc = subprocess.Popen([".venv/bin/coopkit", "watch"], cwd=bundle, stdin=child, stdout=child, stderr=child, env=env)
        os.close(child)
        self.text = ""

    def wait_for(self, needle: str, start: int, seconds: float = 30) -> float:
        """Seconds until ``needle`` shows up after position ``start`` of the output."""
        deadline = time.monotonic() + seconds
        while needle not in self.text[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"never saw {needle!r}; last output:\n{self.text[-2000:]}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                self.text += os.read(self.fd, 65536).decode(errors="replace")
        return time.monotonic()

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        os.close(self.fd)


def time_watch(kit: Kit, bundle: Path, saves: int) -> list[float]:
    path = bundle / "exercises" / "async_map.py"
    source = reference(kit, "async_map")
    versions = [source.replace(RIGHT, wrong) for wrong in WRONG]
    assert all(version != source for version in versions)
    path.write_text(versions[0])
    screen = Screen(bundle)
    latencies = []
    try:
        screen.wait_for("async_map: watching", 0, seconds=60)
        time.sleep(0.5)
        for n in range(1, saves + 1):
            mark = len(screen.text)
            time.sleep(0.3)  # a student types between two saves
            start = time.monotonic()
            path.write_text(versions[n % 2])
            shown = screen.wait_for("save to rerun", mark)  # the last line of a new screen
            latencies.append(shown - start)
    finally:
        screen.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs; README.md is left alone")
    parser.add_argument("--bundle", type=Path, default=None, help="a bundle that already has its .venv")
    args = parser.parse_args()
    kit = Kit(ROOT)
    runs, saves = (3, 5) if args.quick else (9, 15)
    with tempfile.TemporaryDirectory(prefix="coopkit-bench-loop-") as scratch:
        bundle = args.bundle
        if bundle is None:
            bundle = build_bundle(kit, Path(scratch) / "coop")
            install = install_venv(bundle)
            if install.returncode != 0:
                sys.exit(f"pip install failed:\n{install.stderr[-2000:]}")
        subprocess.run([".venv/bin/pytest"], cwd=bundle, capture_output=True)  # warm: byte code, saved results
        per_exercise = {e.name: statistics.median(time_pytest(bundle, e.name, runs)) for e in kit.manifest.exercises}
        watch = time_watch(kit, bundle, saves)
    results = {
        "pytest_one_exercise_median_s": per_exercise,
        "pytest_one_exercise_worst_median_s": max(per_exercise.values()),
        "watch_save_to_screen_s": {"median": statistics.median(watch), "max": max(watch), "saves": len(watch)},
        "cpus": os.cpu_count(), "python": sys.version.split()[0],
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "loop.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    table = render_table(results, runs)
    print(table)
    if not args.quick:
        refresh_block(ROOT / "README.md", "loop", table)


def render_table(results, runs: int) -> str:
    per = results["pytest_one_exercise_median_s"]
    watch = results["watch_save_to_screen_s"]
    fastest, slowest = min(per, key=per.get), max(per, key=per.get)
    return "\n".join([
        "| student's loop (fresh bundle venv) | measured | target |",
        "|---|---:|---:|",
        f"| `pytest tests/test_X.py`, median of {runs} runs (slowest exercise: {slowest}; fastest: {fastest}) | "
        f"{per[slowest]:.2f} s ({per[fastest]:.2f} s) | ≤ 0.6 s |",
        f"| `coopkit watch`, a save to the new screen (median of {watch['saves']} saves; worst) | "
        f"{watch['median']:.2f} s ({watch['max']:.2f} s) | ≤ 1 s |",
    ])


if __name__ == "__main__":
    main()
