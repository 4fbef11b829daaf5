"""Mutation testing's fast guard: the full suites kill every mutmut mutant of Part 1's reference.

The whole run (both parts, about three minutes) is `make mutation`; this guard keeps its
machinery (scratch project, mutmut's config, the equivalent-mutant list) and Part 1's
suites honest in every `make test`.
"""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import ROOT


def test_full_suites_kill_part_1s_mutants(kit):
    names = ",".join(exercise.name for exercise in kit.manifest.part(1).exercises)
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "mutation.py"), "--exercises", names], capture_output=True, text=True, cwd=ROOT)
    summary = re.search(r"mutants: (\d+); killed: (\d+); equivalent: (\d+); kill rate over non-equivalent mutants: ([\d.]+)%", result.stdout)
    assert summary, result.stdout + result.stderr
    mutants, killed, _, rate = summary.groups()
    assert int(mutants) >= 15, "mutmut produced too few mutants to say anything"
    assert float(rate) >= 95.0, result.stdout
    assert "NOT EXPLAINED" not in result.stdout, result.stdout
    assert result.returncode == 0
