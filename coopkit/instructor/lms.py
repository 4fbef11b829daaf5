"""Grades in an LMS's own import file: Canvas's gradebook CSV, Moodle's grading worksheet.

The roster is the file the LMS itself exports, so its id columns are the ones
its import matches on:

* Canvas: Grades > Export > "Export Current Gradebook View" (CSV). The import
  file keeps the identity columns in the one order Canvas's gradebook importer
  accepts (``Student``, ``ID``, then ``SIS User ID`` + ``SIS Login ID`` with an
  optional ``Integration ID`` and ``Root Account``, or ``SIS Login ID`` alone,
  then ``Section`` last), the ``Points Possible`` row (its first cell says so),
  and one assignment column: an existing one by its full header
  (``Name (assignment id)``) or a new one by name, which Canvas creates on import.
* Moodle: the assignment's "Download grading worksheet". Every column and row
  is kept; only ``Grade`` is filled (scaled to ``Maximum Grade``), for the
  upload under "Upload grading worksheet", which reads ``Identifier``
  (``Participant <number>``), ``Grade``, ``Last modified (grade)`` (a grade
  changed in Moodle after the download is not overwritten) and the feedback
  columns, so those stay exactly as downloaded.

A grade-class row matches a roster row when its name, or its last ``_`` part,
is one of the row's identifiers: Canvas bulk downloads name students
``<name>_<user ID>``, Moodle's ``<Full Name>_<participant number>``, and a
folder named by login, SIS id, username or email matches too. Every student
left unmatched, on either side, is one line on stderr.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .report import _cell as _formula_safe

CANVAS_KEYS = ("ID", "SIS User ID", "SIS Login ID", "Integration ID")
CANVAS_POINTS = "Points Possible"
MOODLE_COLUMNS = ("Identifier", "Grade", "Last modified (grade)")  # what Moodle's worksheet upload reads
MOODLE_KEYS = ("Identifier", "Email address", "ID number", "Username")
MOODLE_VERBATIM = MOODLE_KEYS + ("Last modified (grade)",)  # plus every "Feedback ..." column
MOODLE_PARTICIPANT = "Participant "
# a grade-class name in the LMS's own bulk-download naming: only then is its last "_" part the LMS's id
CANVAS_NAME = re.compile(r"^[^_/]+_(\d+)$")
MOODLE_NAME = re.compile(r"^(?!.*_\d+_).+_(\d+)$", re.DOTALL)


class RosterProblem(Exception):
    """The roster cannot be used: one line naming the problem and the fix."""


@dataclass
class Export:
    text: str                # the CSV to upload
    matched: int
    warnings: list[str]      # one line per student left out, on either side


def read_roster(path: Path, needed: tuple[str, ...], how: str) -> tuple[list[str], list[dict]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterProblem(f"cannot read the roster {path} ({type(exc).__name__}): {how}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [column for column in needed if column not in header]
    if missing:
        raise RosterProblem(f"the roster {path} has no {', '.join(missing)} column: {how}")
    return list(header), list(reader)


def _number(text) -> float | None:
    try:
        return float(str(text).strip().replace(",", "."))
    except ValueError:
        return None


def _scaled(report: dict, out_of: float | None) -> float:
    score = report["score"]
    if out_of and report["max_score"] and out_of != report["max_score"]:
        return round(score * out_of / report["max_score"], 2)
    return score


def _match(reports: dict[str, dict], rows: list[dict], keys_of, lms_name: re.Pattern) -> tuple[dict[int, dict], list[str]]:
    """``({roster row index: report}, warnings)``: each report to the one roster row it names.

    A name matches by itself, or by its id when it is in the LMS's naming (``lms_name``); two reports naming
    one roster row are a ``RosterProblem``: which of them is the student's is not for the export to guess.
    """
    index: dict[str, list[int]] = {}
    for number, row in enumerate(rows):
        for key in keys_of(row):
            index.setdefault(key.strip().lower(), []).append(number)
    matched: dict[int, dict] = {}
    warnings = []
    for report in sorted(reports.values(), key=lambda r: r["submission"]):
        name = report["submission"]
        hits = []
        parsed = lms_name.match(name)
        for key in (name, parsed[1]) if parsed else (name,):
            hits = sorted(set(index.get(key.strip().lower(), [])))
            if hits:
                break
        got = f"{report['score']}/{report['max_score']}"
        if len(hits) != 1:
            why = "matches no roster row" if not hits else f"matches {len(hits)} roster rows"
            warnings.append(f"{name} ({got}) {why}: left out of the export; name the folder by the student's LMS id, or enter it by hand")
        elif hits[0] in matched:
            other = matched[hits[0]]
            raise RosterProblem(f"{name} ({got}) names the same roster row as {other['submission']} ({other['score']}/{other['max_score']}), "
                                "so nothing was exported: remove the wrong one's report from the grades folder (or rename it) and export again")
        else:
            matched[hits[0]] = report
    return matched, warnings


def _write(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _safe(column: str, value, keys: tuple[str, ...]):
    """A roster cell as the export writes it: identifiers as they are (the LMS matches on them), others formula-safe.

    A number or a lone ``-`` (Moodle's "no date") is no formula and stays as it is.
    """
    if column in keys or not isinstance(value, str) or re.fullmatch(r"\s*(-|[-+]?\d+([.,]\d+)?)?\s*", value):
        return value
    return _formula_safe(value)


def _cell(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def canvas_identity_columns(header: list[str]) -> list[str]:
    """The roster's identity columns in the order Canvas's importer reads them (``Section`` must close them)."""
    columns = ["Student", "ID"]
    if "SIS User ID" in header and "SIS Login ID" in header:
        columns += ["SIS User ID", "SIS Login ID"] + [key for key in ("Integration ID", "Root Account") if key in header]
    elif "SIS Login ID" in header:
        columns.append("SIS Login ID")
    return columns + ["Section"]


def canvas(reports: dict[str, dict], roster: Path, assignment: str) -> Export:
    """Canvas's gradebook import: the identity columns, the Points Possible row, one assignment column."""
    how = "give the CSV of Canvas's Grades > Export (it has Student, ID and Section columns)"
    header, rows = read_roster(roster, ("Student", "ID", "Section"), how)
    column = next((h for h in header if h == assignment or (h.startswith(f"{assignment} (") and h.endswith(")"))), assignment)
    points_row = next((row for row in rows if (row.get("Student") or "").strip() == CANVAS_POINTS), None)
    students = [row for row in rows if (row.get("ID") or "").strip()]
    out_of = _number(points_row.get(column, "")) if points_row else None
    matched, warnings = _match(reports, students, lambda row: [row.get(key) or "" for key in CANVAS_KEYS if (row.get(key) or "").strip()], CANVAS_NAME)
    written = []
    max_score = next(iter(reports.values()))["max_score"] if reports else 0
    identity = canvas_identity_columns(header)
    points = {key: "" for key in identity} | {"Student": f"    {CANVAS_POINTS}", column: _cell(out_of or max_score)}
    for number, row in enumerate(students):
        grade = _cell(_scaled(matched[number], out_of)) if number in matched else ""
        if number not in matched:
            warnings.append(f"{row.get('Student', '')} (Canvas ID {row['ID']}) has no grade-class row: left blank")
        written.append({key: _safe(key, row.get(key, ""), CANVAS_KEYS) for key in identity} | {column: grade})
    return Export(_write(identity + [column], [points] + written), len(matched), warnings)


def moodle(reports: dict[str, dict], roster: Path) -> Export:
    """Moodle's grading worksheet, as downloaded, with Grade filled in for every matched student."""
    how = "give the assignment's grading worksheet (View all submissions > Grading action > Download grading worksheet)"
    header, rows = read_roster(roster, MOODLE_COLUMNS + ("Maximum Grade",), how)

    def keys(row):
        found = [row.get(key) or "" for key in MOODLE_KEYS if (row.get(key) or "").strip()]
        identifier = (row.get("Identifier") or "").strip()
        if identifier.startswith(MOODLE_PARTICIPANT):
            found.append(identifier[len(MOODLE_PARTICIPANT):])
        email = (row.get("Email address") or "").strip()
        return found + ([email.split("@", 1)[0]] if "@" in email else [])

    scale = next((row for row in rows if _number(row["Maximum Grade"]) is None), None)
    if scale is not None:
        raise RosterProblem(f"the worksheet {roster} gives no number for Maximum Grade ({scale['Maximum Grade']!r} for {scale['Identifier']}): "
                            "grade the Moodle assignment by points (Grade type: Point), then download the worksheet again")
    matched, warnings = _match(reports, rows, keys, MOODLE_NAME)
    written = []
    for number, row in enumerate(rows):
        if number in matched:
            row = dict(row, Grade=f"{_scaled(matched[number], _number(row['Maximum Grade'])):.2f}")
        else:
            warnings.append(f"{row.get('Full name', '')} ({row['Identifier']}) has no grade-class row: Grade left as it was")
        written.append({key: value if key == "Grade" or key.startswith("Feedback") else _safe(key, value, MOODLE_VERBATIM) for key, value in row.items()})
    return Export(_write(header, written), len(matched), warnings)
