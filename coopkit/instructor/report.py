"""Grade reports as people read them: a terminal table, a CSV, JSON files.

Everything in a report may come from a student (folder names, feedback that
quotes their values), so terminal cells are rich ``Text`` (never markup) with
control characters removed, CSV cells cannot start a spreadsheet formula, and
file names are made from a safe label.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported where a table is drawn: `coopkit grade --json` never pays for it
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

from ..manifest import Manifest


def printable(text) -> str:
    """``text`` without control characters (new lines and tabs kept)."""
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in str(text))


def escape(text) -> Text:
    """Student-influenced text for the terminal: shown as it is, never read as markup."""
    from rich.text import Text

    return Text(printable(text))


def file_label(name: str) -> str:
    """A file name for a student folder name (any bytes): readable, safe, one name to one label.

    A name that had to change, or that looks like a changed one (ends in
    ``-`` and eight hex digits), gets a hash of the original added.
    """
    raw = name.encode("utf-8", "surrogateescape")
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in raw.decode("utf-8", "replace"))[:60].lstrip(".")
    looks_changed = len(cleaned) > 9 and cleaned[-9] == "-" and all(ch in "0123456789abcdef" for ch in cleaned[-8:])
    if cleaned.encode() != raw or not cleaned or looks_changed:
        cleaned = f"{cleaned or 'student'}-{hashlib.sha256(raw).hexdigest()[:8]}"
    return cleaned


def _cell(value):
    """A CSV cell that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def submission_table(report: dict) -> Table:
    """One row per rubric check, with its feedback."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=escape(f"{report['submission']}: {report['score']}/{report['max_score']} points"), title_justify="left")
    table.add_column("exercise")
    table.add_column("check")
    table.add_column("points", justify="right")
    table.add_column("feedback", overflow="fold")
    for exercise, data in report["exercises"].items():
        for name, check in data["checks"].items():
            style = "green" if check["passed"] else "red"
            table.add_row(exercise, name, Text(f"{check['score']}/{check['max_score']}", style=style), escape(check["feedback"]))
    return table


def print_submission(report: dict, console: Console | None = None) -> None:
    from rich.console import Console

    console = console or Console()
    if report.get("isolation") != "bubblewrap":
        console.print(escape(f"warning: isolation was {report.get('isolation')}"), style="bold red")
    console.print(submission_table(report))


MESSAGE_CHARS = 300


def one_line(text, limit: int = MESSAGE_CHARS) -> str:
    """Student-influenced text for a status, a log line, a CSV or table cell: one printable, encodable line at
    most ``limit`` long (control characters and lone surrogates escaped, letters of any script kept)."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    text = " ".join("".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text.replace("\n", " ").replace("\t", " ")).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def submission_status(report: dict, intake_status: str = "", intake_message: str = "") -> tuple[str, str]:
    """``(status, one line)`` of a student's row: why a 0 is a 0, or where the graded files came from.

    The intake's status wins when it found nothing to grade (``nothing_gradable``,
    ``archive_refused``, ...). Otherwise: ``graded`` when every exercise was,
    else the exercises' one status (``missing``, ``syntax_error``, ...) or
    ``partly_graded``, with their messages.
    """
    if intake_status not in ("", "found"):
        return intake_status, one_line(intake_message)
    exercises = report["exercises"]
    bad = {name: data for name, data in exercises.items() if data["status"] != "graded"}
    if not bad:
        return "graded", one_line(intake_message)
    if len(bad) == len(exercises) and all(data["status"] == "missing" for data in bad.values()):
        status, message = "nothing_gradable", f"none of {', '.join(f'{name}.py' for name in exercises)} was handed in, nor a notebook with their solution cells"
    else:
        statuses = {data["status"] for data in bad.values()}
        status = statuses.pop() if len(statuses) == 1 else "partly_graded"
        message = "; ".join(data["message"] or f"{name}: {data['status']}" for name, data in bad.items())
    return status, one_line("; ".join(part for part in (message, intake_message) if part))


def class_columns(manifest: Manifest) -> list[str]:
    return ["student"] + [f"{check.exercise}.{check.name}" for check in manifest.checks] + ["status", "message", "total", "max_score", "isolation"]


def class_rows(reports: dict[str, dict], manifest: Manifest) -> list[list]:
    rows = []
    for name in sorted(reports):
        report = reports[name]
        row = [_cell(printable(report["submission"]))]
        for check in manifest.checks:
            row.append(report["exercises"][check.exercise]["checks"][check.name]["score"])
        status, message = (report["status"], report["message"]) if "status" in report else submission_status(report)
        rows.append(row + [_cell(one_line(status)), _cell(one_line(message)), report["score"], report["max_score"], report.get("isolation", "")])
    return rows


def class_csv(reports: dict[str, dict], manifest: Manifest) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(class_columns(manifest))
    writer.writerows(class_rows(reports, manifest))
    return out.getvalue()


def class_table(reports: dict[str, dict], manifest: Manifest) -> Table:
    """One row per student, one column per exercise (the CSV has one per check)."""
    from rich.table import Table

    table = Table(title=f"{len(reports)} submissions (per-check scores in grades.csv)", title_justify="left")
    table.add_column("student")
    for exercise in manifest.exercises:
        table.add_column(exercise.name, justify="right")
    table.add_column("total", justify="right")
    table.add_column("status")
    for name in sorted(reports):
        report = reports[name]
        cells = []
        for exercise in manifest.exercises:
            data = report["exercises"][exercise.name]
            cell = f"{data['score']}/{data['max_score']}"
            if data["status"] != "graded":
                cell += f" ({data['status'].replace('_', ' ')})"
            cells.append(cell)
        status = report["status"] if "status" in report else submission_status(report)[0]
        table.add_row(escape(report["submission"]), *cells, f"{report['score']}/{report['max_score']}", escape(status))
    return table


def mistakes_table(rows: list[tuple[int, str, str]]) -> Table:
    """The class's most common mistakes: ``(students, check, likely cause)`` rows from ``classreport.top_mistakes``."""
    from rich.table import Table

    table = Table(title="most common mistakes (what to go over again)", title_justify="left")
    table.add_column("students", justify="right")
    table.add_column("check")
    table.add_column("likely cause")
    for students, check, cause in rows:
        table.add_row(str(students), escape(check), escape(one_line(cause)))
    return table


def load_reports(folder: Path) -> dict[str, dict]:
    """``{file stem: report}`` of a grade-class output folder; ``ValueError`` says what is wrong, in one line."""
    import json

    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise ValueError(f"no JSON reports in {folder}: run `coopkit grade-class ROOT --out {folder}` first")
    reports = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            data = None
        if not isinstance(data, dict) or not {"submission", "exercises", "score", "max_score"} <= set(data):
            raise ValueError(f"{path} is not a coopkit report: remove it or grade again")
        reports[path.stem] = data
    return reports


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that a reader never sees half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def to_json(report: dict) -> str:
    from ..grading.report import to_json as encode

    return encode(report)
