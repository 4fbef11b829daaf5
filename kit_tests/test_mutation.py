"""Mutation testing as a kit test: the full suites kill at least 95% of mutmut's mutants of the reference."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import ROOT


def test_full_suites_kill_the_mutants():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "mutation.py")], capture_output=True, text=True, cwd=ROOT)
    summary = re.search(r"mutants: (\d+); killed: (\d+); equivalent: (\d+); kill rate over non-equivalent mutants: ([\d.]+)%", result.stdout)
    assert summary, result.stdout + result.stderr
    mutants, killed, _, rate = summary.groups()
    assert int(mutants) >= 15, "mutmut produced too few mutants to say anything"
    assert float(rate) >= 95.0, result.stdout
    assert "NOT EXPLAINED" not in result.stdout, result.stdout
    assert result.returncode == 0
