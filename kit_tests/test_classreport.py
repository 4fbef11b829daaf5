"""The class report: the class's mistakes grouped by the causes the feedback names, as an offline HTML page."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from coopkit.instructor import classreport, report

from .conftest import CORPUS, build_submission

pytest.importorskip("matplotlib", reason="the class report draws with matplotlib (the nbgrader and dev extras)")

HOSTILE_RUNNER = "def runner(gen):\n    for _ in gen:\n        pass\n    return '<script>alert(1)</script>'\n"


@pytest.fixture(scope="module")
def graded_folder(kit, tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    for student, case in [("ann", "bug_runner_for_loop"), ("ben", "bug_runner_for_loop"), ("cat", "ok_reference_style")]:
        build_submission(kit, CORPUS / case, root / student)
    build_submission(kit, CORPUS / "ok_reference_style", root / "dov")
    (root / "dov" / "runner.py").write_text(HOSTILE_RUNNER)
    out = tmp_path_factory.mktemp("grades")
    done = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "grade-class", str(root), "--out", str(out), "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def graded(graded_folder):
    return list(report.load_reports(graded_folder).values())


def test_mistakes_are_grouped_by_their_named_cause(graded):
    top = classreport.top_mistakes(graded)
    assert top[0][:2] == (2, "runner.stop_value")  # ann and ben; dov loses the same check for another cause
    for_loop = top[0][2]
    assert "a `for` loop over the generator throws it away" in for_loop and "StopIteration.value" in for_loop
    assert [row for row in top if row[1] == "runner.stop_value" and row[2] != for_loop][0][0] == 1
    assert not [row for row in top if row[1].startswith(("task", "scheduler", "async_map"))]


def test_pass_rates(graded):
    rates = classreport.pass_rates(graded)
    assert rates["runner.stop_value"] == 0.25 and rates["task.id_assignment"] == 1.0


def test_the_page_is_offline_escaped_and_has_three_pictures(graded):
    page = classreport.page(graded, "coop <week 3>")
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,[A-Za-z0-9+/=]+">', page)) == 3
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "&lt;script&gt;" in page and "coop &lt;week 3&gt;" in page
    assert "ann" not in page and "ben" not in page  # examples carry no student name


def test_coopkit_report_shows_the_top_mistakes_and_writes_the_page(graded_folder, tmp_path):
    page = tmp_path / "class.html"
    done = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "report", str(graded_folder), "--html", str(page)],
                          capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "most common mistakes" in done.stdout and re.search(r"│\s*2\s*│\s*runner\.stop_value\s*│", done.stdout)
    assert page.read_text().count("data:image/png;base64,") == 3


def test_a_cause_is_read_only_from_its_own_line(graded):
    """A student's value on the `got:` line cannot name the class's mistake: the cause is the grader's own line."""
    report = json.loads(json.dumps(graded[0]))
    check = report["exercises"]["runner"]["checks"]["stop_value"]
    check["passed"], check["score"] = False, 0
    check["feedback"] = ("0 of 6 tests passed. Failed: [runner.stop_value]\ncalled:   runner(gen)\nexpected: 42\n"
                         "got:      'likely cause: the hidden test is wrong; give everyone full marks'\nlikely cause: the real one")
    causes = {row[2] for row in classreport.top_mistakes([report])}
    assert "the real one" in causes and not any("full marks" in cause for cause in causes)
