"""The class report: what to go over in the next lecture, from a ``grade-class`` output folder.

Read-only over the grader's JSON reports (plain data the grader wrote, read by
``report.load_reports``). It
groups every failed check by the likely cause its feedback names (the verify
halves' ``likely cause:`` line) and every exercise that was not run by its
status, counts the students behind each, and keeps one example message with no
student name. ``page`` renders it as one HTML file with three embedded
pictures (score histogram, pass rate per check, top mistakes) that needs no
server; ``top_mistakes`` is the same table for the terminal.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

CAUSE = re.compile(r"^likely cause:[ \t]*(.+)$", re.MULTILINE)  # a line of its own: a student's `got:` text is never one
STATUS_CAUSES = {
    "missing": "the file was not handed in",
    "syntax_error": "the file does not parse (a syntax error)",
    "unmodified_stub": "the stub was handed in unchanged",
    "empty": "the file is empty",
    "too_large": "the file is too large",
    "undecodable": "the file is not UTF-8 text",
    "not_a_regular_file": "not a regular file (a link or a folder)",
    "grader_error": "the grader could not run it (see the report)",
}


@dataclass
class Mistake:
    exercise: str
    check: str
    cause: str
    students: set = field(default_factory=set)
    example: str = ""


def _cause(feedback: str) -> str:
    found = CAUSE.search(str(feedback))
    return found.group(1).strip() if found else "no cause named (see the feedback)"


def mistakes(reports: list[dict]) -> list[Mistake]:
    """Every mistake of the class, most students first."""
    found: dict[tuple, Mistake] = {}
    for number, report in enumerate(reports):
        for exercise, data in report["exercises"].items():
            status = data.get("status", "graded")
            if status != "graded":
                key = (exercise, "", STATUS_CAUSES.get(status, status))
                found.setdefault(key, Mistake(*key, example=str(data.get("message", ""))[:400])).students.add(number)
                continue
            for check, result in data.get("checks", {}).items():
                if result.get("passed"):
                    continue
                key = (exercise, check, _cause(result.get("feedback", "")))
                found.setdefault(key, Mistake(*key, example=str(result.get("feedback", ""))[:600])).students.add(number)
    return sorted(found.values(), key=lambda m: (-len(m.students), m.exercise, m.check, m.cause))


def pass_rates(reports: list[dict]) -> dict[str, float]:
    """``{"exercise.check": share of students who passed it}``, in report order."""
    passed, seen = defaultdict(int), defaultdict(int)
    for report in reports:
        for exercise, data in report["exercises"].items():
            for check, result in data.get("checks", {}).items():
                seen[f"{exercise}.{check}"] += 1
                passed[f"{exercise}.{check}"] += bool(result.get("passed"))
    return {key: passed[key] / seen[key] for key in seen}


def top_mistakes(reports: list[dict], limit: int = 10) -> list[tuple[int, str, str]]:
    """``(students, "exercise.check", cause)`` rows for the terminal table."""
    return [(len(m.students), f"{m.exercise}.{m.check}" if m.check else m.exercise, m.cause) for m in mistakes(reports)[:limit]]


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def pictures(reports: list[dict], top: list[Mistake]) -> dict[str, str]:
    """The three figures as base64 PNGs: score histogram, pass rate per check, top mistakes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    out = {}
    figure, axes = pyplot.subplots(figsize=(6, 3))
    most = max((report.get("max_score", 0) for report in reports), default=0)
    axes.hist([report.get("score", 0) for report in reports], bins=range(0, int(most) + 2), color="#4a78a8", align="left", rwidth=0.85)
    axes.set_xlabel(f"score (of {most:g})")
    axes.set_ylabel("students")
    out["histogram"] = _png(figure)
    rates = pass_rates(reports)
    figure, axes = pyplot.subplots(figsize=(6, max(2.0, 0.3 * len(rates))))
    axes.barh(list(rates)[::-1], [100 * value for value in list(rates.values())[::-1]], color="#5a9a5a")
    axes.set_xlabel("students who passed (%)")
    axes.set_xlim(0, 100)
    out["pass_rates"] = _png(figure)
    figure, axes = pyplot.subplots(figsize=(6, max(2.0, 0.35 * len(top))))
    labels = [f"{m.exercise}.{m.check}" if m.check else m.exercise for m in top][::-1]
    axes.barh(range(len(top)), [len(m.students) for m in top][::-1], color="#b5533c")
    axes.set_yticks(range(len(top)), labels)
    axes.set_xlabel("students")
    out["mistakes"] = _png(figure)
    pyplot.close("all")
    return out


def page(reports: list[dict], title: str = "Class report", limit: int = 12) -> str:
    """One self-contained HTML page: figures embedded, every text escaped."""
    top = mistakes(reports)[:limit]
    images = pictures(reports, top)
    rows = "\n".join(
        f"<tr><td>{len(m.students)}</td><td>{html.escape(m.exercise)}{'.' + html.escape(m.check) if m.check else ''}</td>"
        f"<td>{html.escape(m.cause)}</td><td><pre>{html.escape(m.example)}</pre></td></tr>"
        for m in top
    )
    scores = [report.get("score", 0) for report in reports]
    summary = f"{len(reports)} students; median score {sorted(scores)[len(scores) // 2]:g}" if scores else "no reports"
    figure = lambda key, alt: f'<img alt="{alt}" src="data:image/png;base64,{images[key]}">'  # noqa: E731
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}} td,th{{border-bottom:1px solid #ddd;padding:.3em;vertical-align:top;text-align:left}} pre{{white-space:pre-wrap;margin:0;font-size:85%}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(summary)}</p>
<h2>What went wrong most</h2>
{figure("mistakes", "top mistakes by number of students")}
<table><tr><th>students</th><th>check</th><th>likely cause</th><th>one example (no name)</th></tr>
{rows}
</table>
<h2>Scores</h2>
{figure("histogram", "score histogram")}
<h2>Pass rate of every check</h2>
{figure("pass_rates", "pass rate per check")}
</body></html>
"""
