"""Check cells' outputs, written from the sandboxed grader's report (never from what a kernel printed).

``kernel_outputs_checked`` makes what the kernel sent safe to keep: plain
text and PNG only, every output at most ``OUTPUT_BYTES``, and a notebook that
validates.

A check cell's output is its feedback and then its score as the cell's value,
which nbgrader's ``SaveAutoGrades`` reads as partial credit; a cell whose
check has no report gets an error output, which nbgrader scores 0.
"""

from __future__ import annotations

import json

import nbformat

OUTPUT_BYTES = 64 * 1024


def exercise_slice(report: dict, exercise: str) -> dict:
    """The part of a report about one exercise: all a check cell (or a kernel) may see of it."""
    return {"exercises": {exercise: report["exercises"][exercise]}}


def check_outputs(exercise: str, check: str, report: dict) -> list:
    result = report["exercises"][exercise]["checks"][check]
    text = f"{exercise} / {check}: {result['score']}/{result['max_score']} points\n{result['feedback']}\n"
    return [
        nbformat.v4.new_output("stream", name="stdout", text=text),
        nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(result["score"]))}, execution_count=None),
    ]


def no_points(grade_id: str, why: str) -> list:
    return [nbformat.v4.new_output("error", ename="NotGraded", evalue=f"{grade_id}: {why}", traceback=[f"coopkit: {grade_id}: {why}, so this cell earns nothing"])]


def set_check_cells(nb, reports: dict[str, dict], missing: str = "no check of this assignment has that grade_id") -> None:
    """Every autograded (non-solution) code cell of ``nb`` gets its check's outputs from ``reports`` (by exercise)."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        grade_id = str(meta.get("grade_id", ""))
        exercise, _, check = grade_id.partition("-")
        report = reports.get(exercise)
        known = report is not None and check in report["exercises"].get(exercise, {}).get("checks", {})
        cell.outputs = check_outputs(exercise, check, report) if known else no_points(grade_id, missing)


def _too_big(output) -> bool:
    return len(json.dumps(output, ensure_ascii=False)) > OUTPUT_BYTES


SAFE_DATA = ("text/plain", "image/png")


def kernel_outputs_checked(nb) -> list[str]:
    """Keep only plain text and PNG pictures of what the kernel displayed (no HTML, JavaScript or SVG can reach
    the instructor's browser through formgrader), with no output metadata; replace each output that is too big
    or not valid notebook output by a short note. Returns what was replaced, as one line each."""
    replaced = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for n, output in enumerate(cell.get("outputs", [])):
            if isinstance(output.get("data"), dict):
                dropped = sorted(set(output["data"]) - set(SAFE_DATA))
                output["data"] = {kind: value for kind, value in output["data"].items() if kind in SAFE_DATA}
                output["metadata"] = {}
                if dropped:
                    replaced.append(f"cell {index}: dropped {', '.join(dropped)[:80]}")
            if _too_big(output):
                replaced.append(f"cell {index}: an output over {OUTPUT_BYTES // 1024} KB")
                cell.outputs[n] = nbformat.v4.new_output("stream", name="stdout", text=f"[coopkit: an output over {OUTPUT_BYTES // 1024} KB was removed]\n")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.get("outputs"):
                replaced.append(f"cell {index}: outputs that are not valid notebook output")
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="[coopkit: this cell's outputs were not valid notebook output]\n")]
    return replaced
