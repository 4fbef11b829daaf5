"""Student text reaches feedback only on a ``got:`` line, which the grader cuts to 200 bytes.

Every suite runs on the reference with each observed string tainted
(``kit_tests/plugins/taint.py``); no ``called``/``expected``/``likely cause``
line of any resulting message may carry the taint.
"""

import json
import subprocess
import sys


def test_student_text_only_reaches_the_got_line(kit, tmp_path):
    report = tmp_path / "taint.jsonl"
    report.touch()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "grading", "--impl", "solutions", "-q", "-p", "no:cacheprovider",
         "-p", "kit_tests.plugins.taint", "-o", "timeout=30"],
        cwd=kit.root, capture_output=True, text=True, timeout=600,
        env={**__import__("os").environ, "COOPKIT_TAINT_REPORT": str(report)},
    )
    assert " passed" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    failures = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(failures) > 50, "the taint should make the verify halves that read strings fail"
    assert sum(failure["shown"] for failure in failures) > 15, "and many of them show the tainted value"
    leaks = [failure for failure in failures if failure["lines"]]
    assert not leaks, "\n".join(f"{leak['test']}: {leak['lines']}" for leak in leaks)
