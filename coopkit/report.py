"""Grade reports as people read them: a terminal table, a CSV, JSON files."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .manifest import Manifest


def submission_table(report: dict) -> Table:
    """One row per rubric check, with its feedback."""
    table = Table(title=f"{report['submission']}: {report['score']}/{report['max_score']} points", title_justify="left")
    table.add_column("exercise")
    table.add_column("check")
    table.add_column("points", justify="right")
    table.add_column("feedback", overflow="fold")
    for exercise, data in report["exercises"].items():
        for name, check in data["checks"].items():
            style = "green" if check["passed"] else "red"
            table.add_row(exercise, name, f"[{style}]{check['score']}/{check['max_score']}[/{style}]", check["feedback"])
    return table


def print_submission(report: dict, console: Console | None = None) -> None:
    (console or Console()).print(submission_table(report))


def class_columns(manifest: Manifest) -> list[str]:
    return ["student"] + [f"{check.exercise}.{check.name}" for check in manifest.checks] + ["total", "max_score"]


def class_rows(reports: dict[str, dict], manifest: Manifest) -> list[list]:
    rows = []
    for name in sorted(reports):
        report = reports[name]
        row = [name]
        for check in manifest.checks:
            row.append(report["exercises"][check.exercise]["checks"][check.name]["score"])
        rows.append(row + [report["score"], report["max_score"]])
    return rows


def class_csv(reports: dict[str, dict], manifest: Manifest) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(class_columns(manifest))
    writer.writerows(class_rows(reports, manifest))
    return out.getvalue()


def class_table(reports: dict[str, dict], manifest: Manifest) -> Table:
    """One row per student, one column per exercise (the CSV has one per check)."""
    table = Table(title=f"{len(reports)} submissions (per-check scores in grades.csv)", title_justify="left")
    table.add_column("student")
    for exercise in manifest.exercises:
        table.add_column(exercise.name, justify="right")
    table.add_column("total", justify="right")
    for name in sorted(reports):
        report = reports[name]
        cells = []
        for exercise in manifest.exercises:
            data = report["exercises"][exercise.name]
            cell = f"{data['score']}/{data['max_score']}"
            if data["status"] != "graded":
                cell += f" ({data['status'].replace('_', ' ')})"
            cells.append(cell)
        table.add_row(name, *cells, f"{report['score']}/{report['max_score']}")
    return table


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that a reader never sees half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"
