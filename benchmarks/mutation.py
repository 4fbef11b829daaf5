"""Mutation testing: mutmut over the reference solutions, killed by the full (public + hidden) suites.

Builds a scratch project where the reference lives in ``exercises/`` (so
mutmut's module names match what the harness imports) and the suites in
``tests/``, runs ``mutmut run`` there, and prints the kill rate with every
survivor. Equivalent mutants (no observable change) are listed in
``benchmarks/equivalent_mutants.toml`` with the reason.

Usage: python benchmarks/mutation.py [--keep] [--exercises NAME,NAME]

``--exercises`` mutates only those exercises (with their suites): the kit test's fast guard
runs the Part 1 chapters that need no other chapter; ``make mutation`` runs them all.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coopkit.authoring import regions  # noqa: E402
from coopkit.manifest import ManifestError  # noqa: E402
from coopkit.paths import Kit  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = """
[tool.mutmut]
source_paths = ["exercises/"]
pytest_add_cli_args = ["-p", "coopkit.plugin", "--impl", "exercises", "-o", "timeout=3", "-q"]
pytest_add_cli_args_test_selection = ["tests/"]
"""


def build(kit: Kit, scratch: Path, names: list[str] | None = None) -> None:
    (scratch / "exercises").mkdir(parents=True)
    (scratch / "tests").mkdir()
    (scratch / "exercises" / "__init__.py").write_text("")
    for exercise in kit.manifest.exercises:
        if names and exercise.name not in names:
            continue
        source = regions.drop_markers(kit.solution_file(exercise.name).read_text())
        (scratch / "exercises" / f"{exercise.name}.py").write_text(source)
        shutil.copyfile(kit.suite_file(exercise.name), scratch / "tests" / f"test_{exercise.name}.py")
    (scratch / "pyproject.toml").write_text(PYPROJECT)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="keep the scratch project")
    parser.add_argument("--exercises", help="comma-separated exercise names to mutate (default: all)")
    args = parser.parse_args()
    kit = Kit(ROOT)
    names = args.exercises.split(",") if args.exercises else None
    for name in names or ():
        try:
            kit.manifest.exercise(name)
        except ManifestError as exc:
            parser.error(str(exc))
    scratch = Path(tempfile.mkdtemp(prefix="coopkit-mutation-"))
    try:
        build(kit, scratch, names)
        mutmut = [sys.executable, "-m", "mutmut"]
        subprocess.run(mutmut + ["run"], cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listing = subprocess.run(mutmut + ["results", "--all", "true"], cwd=scratch, capture_output=True, text=True).stdout
        statuses = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", listing, re.MULTILINE))
        equivalent = tomllib.loads((ROOT / "benchmarks" / "equivalent_mutants.toml").read_text()).get("mutant", {})
        survivors = [name for name, status in statuses.items() if status.strip() != "killed"]
        for name in survivors:
            diff = subprocess.run(mutmut + ["show", name], cwd=scratch, capture_output=True, text=True).stdout
            reason = equivalent.get(name, "NOT EXPLAINED")
            print(f"survivor {name} ({statuses[name].strip()}): {reason}")
            print("    " + "\n    ".join(line for line in diff.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))))
        considered = len(statuses) - sum(1 for name in survivors if name in equivalent)
        killed = len(statuses) - len(survivors)
        rate = 100.0 * killed / considered if considered else 0.0
        print(f"mutants: {len(statuses)}; killed: {killed}; equivalent: {sum(1 for n in survivors if n in equivalent)}; "
              f"kill rate over non-equivalent mutants: {rate:.1f}%")
        return 1 if rate < 95.0 or not statuses else 0
    finally:
        if args.keep:
            print(f"scratch project kept at {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
