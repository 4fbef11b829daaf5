"""Property tests: whatever bytes or values a submission produces, the grader's handling of them holds.

These functions sit on the trust boundary (what the sandbox sends, what a
student names a folder, what their objects print), so they are tested on
generated input rather than on a few examples.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coopkit import harness
from coopkit.grading import execute, judge, report
from coopkit.instructor.report import escape, file_label

printable_or_newline = lambda text: all(ch.isprintable() or ch in "\n\t" for ch in text)  # noqa: E731

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.text(), st.integers(min_value=8, max_value=400))
def test_short_is_printable_one_line_and_capped_in_bytes(text, limit):
    out = harness.short(text, limit)
    assert len(out.encode()) <= limit
    assert "\n" not in out and all(ch.isprintable() for ch in out)


@given(st.text(max_size=3000))
def test_clean_message_is_printable_and_capped(text):
    out = judge.clean_message(text)
    assert len(out.encode()) <= judge.MESSAGE_BYTES + 4
    assert printable_or_newline(out)
    for line in out.splitlines():
        if line.startswith("got:"):
            assert len(line.encode()) <= harness.DETAIL_BYTES + 20


@given(st.binary(max_size=300))
def test_any_folder_name_displays_as_printable_text(raw):
    name = raw.decode("utf-8", "surrogateescape")
    shown = report.display_name(name)
    assert printable_or_newline(shown) and "\n" not in shown
    label = file_label(name)
    assert label and "/" not in label and not label.startswith(".") and label.isprintable()


@given(st.binary(max_size=100), st.binary(max_size=100))
def test_different_folder_names_get_different_files(a, b):
    name_a, name_b = a.decode("utf-8", "surrogateescape"), b.decode("utf-8", "surrogateescape")
    if name_a != name_b:
        assert file_label(name_a) != file_label(name_b)


@given(st.text())
def test_terminal_text_is_never_markup(text):
    shown = escape(text)
    assert shown.plain == "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text)
    assert not shown.spans


@given(st.binary(max_size=400), st.integers(min_value=0, max_value=5))
def test_any_channel_line_is_a_record_or_refused(line, current):
    record = execute._parse(line, current)
    assert record is None or isinstance(record, dict)


@given(json_values, st.integers(min_value=0, max_value=5))
def test_only_the_current_tests_record_is_accepted(seen, current):
    line = json.dumps({"test": current + 1, "seen": seen}).encode()
    assert execute._parse(line, current) is None
    line = json.dumps({"test": current, "seen": seen}).encode()
    assert execute._parse(line, current) == {"test": current, "seen": seen}


@given(st.text(max_size=40), st.dictionaries(st.sampled_from(["module", "attr", "type", "file", "line", "seconds", "detail", "where"]), json_values, max_size=6))
def test_any_error_record_renders_a_safe_message(kind, fields):
    message = harness.render(kind, harness.clean_fields(kind, fields))
    assert isinstance(message, str) and printable_or_newline(message) and len(message.encode()) < 2000


@settings(max_examples=30)
@given(st.lists(st.text(min_size=1, max_size=5000), min_size=1, max_size=40))
def test_reports_stay_under_the_cap(feedbacks):
    checks = {f"c{i}": {"score": 0, "max_score": 1, "passed": False, "feedback": text, "tests": {"passed": 0, "total": 1}} for i, text in enumerate(feedbacks)}
    capped = report.capped({"submission": "s", "exercises": {"e": {"checks": checks}}})
    assert len(report.to_json(capped).encode()) <= report.REPORT_BYTES


@pytest.mark.parametrize("codec", sorted({name for name in __import__("encodings").aliases.aliases.values()} | {"undefined", "punycode"}))
def test_a_coding_line_naming_any_codec_costs_only_that_file(codec):
    """A source file may declare any codec (`# coding: undefined` raises a bare UnicodeError): a status, never a crash."""
    from coopkit.grading import precheck

    checked = precheck.check_source("runner.py", f"# coding: {codec}\nx = 1\n".encode("ascii"), None)
    assert checked.status in (precheck.GRADED, precheck.UNDECODABLE, precheck.SYNTAX_ERROR, precheck.EMPTY)
