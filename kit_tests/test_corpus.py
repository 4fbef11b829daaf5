"""The grader against a corpus of submissions: correct styles, classic bugs, cheats, attacks, broken files.

Every case states what it must get: full marks, exactly the listed checks
lost, or nothing on the listed exercises. Everything else must stay at full
marks, so a bug is shown to cost only the check it breaks.
"""

from __future__ import annotations

import re

import pytest

from coopkit import grading
from coopkit.grading.report import to_json

from .conftest import build_submission, corpus_cases, CORPUS

pytestmark = pytest.mark.heavy(130)


@pytest.fixture(scope="session")
def graded(kit, tmp_path_factory):
    """Grade the whole corpus once, part by part, two sandboxes at a time, as grade-class does."""
    root = tmp_path_factory.mktemp("corpus")
    expects, reports = {}, {}
    for part in kit.manifest.parts:
        folders = {}
        for name in corpus_cases(part):
            expects[name] = build_submission(kit, CORPUS / name, root / name)
            folders[name] = root / name
        with grading.GradingRun.create(kit, part=part) as run:
            reports.update(grading.grade_folders(run, folders, jobs=2))
    return expects, reports


def check_scores(report):
    return {
        f"{exercise}.{name}": (check["score"], check["max_score"])
        for exercise, data in report["exercises"].items()
        for name, check in data["checks"].items()
    }


@pytest.mark.parametrize("case", corpus_cases())
def test_case_gets_exactly_what_it_earned(graded, kit, case):
    expects, reports = graded
    expect, report = expects[case], reports[case]
    scores = check_scores(report)
    lose = set(expect.get("lose", ()))
    zero = set(expect.get("zero", ()))
    assert not lose - scores.keys(), f"unknown checks in expect.toml: {lose - scores.keys()}"
    wrong = []
    for key, (score, maximum) in scores.items():
        exercise = key.split(".")[0]
        should_lose = key in lose or exercise in zero
        if should_lose and score != 0:
            wrong.append(f"{key}: got {score}/{maximum}, expected 0")
        if not should_lose and score != maximum:
            feedback = report["exercises"][exercise]["checks"][key.split(".")[1]]["feedback"]
            wrong.append(f"{key}: got {score}/{maximum}, expected full marks ({feedback!r})")
    assert not wrong, "\n".join(wrong)
    for key, texts in expect.get("say", {}).items():  # the feedback names the right likely cause
        exercise, name = key.split(".")
        feedback = report["exercises"][exercise]["checks"][name]["feedback"]
        missing = [text for text in texts if text not in feedback]
        assert not missing, f"{key}: feedback does not say {missing}:\n{feedback}"
    for exercise, status in expect.get("status", {}).items():
        assert report["exercises"][exercise]["status"] == status
        assert "\n" not in report["exercises"][exercise]["message"], "status messages are one line"
    if expect.get("kind") == "cheat":
        for exercise in zero:
            assert report["exercises"][exercise]["score"] == 0
    marker = expect.get("echo_marker")
    if marker:  # forged text reaches feedback on one got: line, cut to 200 bytes
        for data in report["exercises"].values():
            for check in data["checks"].values():
                lines = check["feedback"].splitlines()
                assert len(check["feedback"].encode()) <= 2000
                assert sum(line.count(marker) for line in lines) * len(marker) <= 220, check["feedback"]
                assert not [line for line in lines if line.startswith((marker, "expected: forged", "likely cause: forged"))]


def test_every_kind_is_represented(graded):
    expects, _ = graded
    kinds = {expect["kind"] for expect in expects.values()}
    assert kinds == {"correct", "bug", "cheat", "broken"}
    parts = {expect.get("part", 1) for expect in expects.values()}
    assert parts == {1, 2}


def test_feedback_never_leaks_hidden_tests(graded, kit):
    """No report quotes a hidden test's name or code, even when student code tries to read it."""
    _, reports = graded
    hidden_names = set()
    for exercise in kit.manifest.exercises:
        suite = kit.suite_file(exercise.name).read_text()
        hidden = suite.split("### BEGIN HIDDEN TESTS", 1)[1]
        hidden_names |= set(re.findall(r"def (test_\w+)", hidden))
    for name, report in reports.items():
        text = str(report)
        leaked = [test for test in hidden_names if test in text]
        assert not leaked, f"{name}: report names hidden tests {leaked}"
        assert "BEGIN HIDDEN" not in text and "def check_" not in text and "def verify_" not in text, f"{name}: report quotes test source"


def test_every_submission_has_a_report(graded):
    expects, reports = graded
    assert set(reports) == set(expects)
    for report in reports.values():
        assert report["max_score"] == sum(e["max_score"] for e in report["exercises"].values())
        encoded = to_json(report).encode()
        assert len(encoded) <= 200 * 1024, f"{report['submission']}: report is {len(encoded)} bytes"
        assert not [text for text in strings(report) if not all(ch.isprintable() or ch in "\n\t" for ch in text)], report["submission"]


def strings(value):
    """Every string in a JSON document, keys too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
