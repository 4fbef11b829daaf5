"""Step 5: the report. Scores per check from the judged tests, in a JSON document capped in bytes.

A check earns its points only when every one of its tests passed. Every
string in a report is printable text (names of student folders included,
whatever bytes they were), and the whole report stays under ``REPORT_BYTES``
of encoded JSON, whatever the student printed or raised.
"""

from __future__ import annotations

import hashlib
import json

from ..manifest import Exercise, Manifest
from .judge import TestResult
from .precheck import GRADED

REPORT_BYTES = 200 * 1024


NAME_CHARS = 200


def display_name(name: str) -> str:
    """A folder name (any bytes, as the OS gave them) as printable text, one name to one text.

    Undecodable bytes become ``\\xNN``, other unprintable characters ``\\uNNNN``,
    a backslash ``\\\\``; a name longer than ``NAME_CHARS`` keeps its start
    and a hash of the whole.
    """
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as surrogateescape keeps it
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif not ch.isprintable():
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    text = "".join(out)
    if len(text) > NAME_CHARS:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        text = f"{text[:NAME_CHARS - 20]}...#{digest}"
    return text


def exercise_report(exercise: Exercise, tests: list[TestResult] | None, status: str, message: str, titles: dict[str, str]) -> dict:
    checks = {}
    for check in exercise.checks:
        mine = [test for test in (tests or ()) if test.check == check.name] if status == GRADED else []
        passed = [test for test in mine if test.passed]
        earned = status == GRADED and bool(mine) and len(passed) == len(mine)
        if status != GRADED:
            feedback = message
        elif earned:
            feedback = f"passed ({len(mine)} of {len(mine)} tests)"
        elif not mine:
            feedback = "no test ran for this check"
        else:
            first = next(test for test in mine if not test.passed)
            feedback = f"{len(passed)} of {len(mine)} tests passed. Failed: {titles.get(first.name, first.name)}\n{first.message}"
        checks[check.name] = {
            "score": check.points if earned else 0,
            "max_score": check.points,
            "passed": earned,
            "feedback": feedback,
            "tests": {"passed": len(passed), "total": len(mine)},
        }
    return {
        "score": sum(c["score"] for c in checks.values()),
        "max_score": exercise.points,
        "status": status,
        "message": message,
        "checks": checks,
    }


def submission_report(name: str, manifest: Manifest, seed: int, isolation: str, exercises: dict[str, dict]) -> dict:
    report = {
        "submission": display_name(name),
        "score": sum(e["score"] for e in exercises.values()),
        "max_score": manifest.points,
        "part": manifest.exercises[0].part,
        "seed": seed,
        "isolation": isolation,
        "exercises": exercises,
    }
    return capped(report)


def to_json(report: dict) -> str:
    """A report as it is written and printed (the form ``REPORT_BYTES`` caps)."""
    return json.dumps(report, indent=2) + "\n"


def capped(report: dict) -> dict:
    """Shorten feedback texts, longest first, until the written report fits ``REPORT_BYTES``."""
    while len(to_json(report).encode()) > REPORT_BYTES:
        texts = [(len(check["feedback"]), check) for data in report["exercises"].values() for check in data["checks"].values()]
        longest, check = max(texts, key=lambda item: item[0])
        if longest <= 80:
            break
        check["feedback"] = check["feedback"][: longest // 2] + " [cut]"
    return report
