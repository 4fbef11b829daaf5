"""What to grade in a Gradescope upload: the part's .py files, or the part's coopkit notebook.

The .py files win when the upload has any (in its top folder or one or two
folders down, as students zip them). Otherwise the notebook is read with
nbformat: the solution cell of each exercise is the code cell whose
``metadata.nbgrader.grade_id`` is the exercise's name (as in the nbgrader
course), and becomes a module by ``notebook.cell_to_module``, the rule of the
nbgrader path. A notebook that cannot be read is an ``UploadProblem``: one
line for the student, and 0, never a crash.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..grading.report import display_name
from ..notebook import NOTEBOOK_BYTES, solution_sources
from ..paths import Kit

SKIPPED = {".ipynb_checkpoints", "__MACOSX"}
DEPTH = 2


class UploadProblem(Exception):
    """The upload cannot be graded: the message is one line naming the problem and the fix."""


def _folders(root: Path):
    yield root
    for folder in sorted(p for p in root.rglob("*") if p.is_dir() and len(p.relative_to(root).parts) <= DEPTH):
        if not SKIPPED & set(folder.relative_to(root).parts):
            yield folder


def find_submission_folder(root: Path, modules: list[str]) -> Path:
    """The folder holding the most of the student's .py files (students often upload a folder inside the zip)."""
    return max(_folders(root), key=lambda folder: sum((folder / f"{m}.py").is_file() for m in modules))


def find_notebook(root: Path, name: str) -> Path | None:
    """The part's notebook in the upload: by its course name, else the first .ipynb found."""
    found = [path for folder in _folders(root) for path in sorted(folder.glob("*.ipynb")) if path.is_file()]
    return next((path for path in found if path.name == name), found[0] if found else None)


def _why(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, json.JSONDecodeError):
        return f"it is not valid JSON (line {cause.lineno}, column {cause.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"


def notebook_modules(path: Path, kit: Kit, part: int | None) -> dict[str, str]:
    """``{exercise: module source}`` from the notebook's solution cells (by grade_id), for ``part``'s exercises (every part's: None).

    Shared with ``coopkit grade-class`` (grading/intake.py), which reads notebooks before it knows the part.
    """
    import nbformat

    name = display_name(path.name)
    fix = "download it from Jupyter (File > Download) and upload that .ipynb file"
    if path.stat().st_size > NOTEBOOK_BYTES:
        raise UploadProblem(f"The notebook {name} is over {NOTEBOOK_BYTES // 2**20} MB, so it was not graded: clear its outputs, save, and upload it again.")
    try:
        modules = solution_sources(nbformat.read(str(path), as_version=4), kit, part)
    except Exception as exc:  # noqa: BLE001 - whatever the file holds, the student gets one line and 0
        raise UploadProblem(f"The notebook {name} cannot be read, so it was not graded ({_why(exc)}): {fix}.") from None
    return modules


def read_upload(kit: Kit, submission: Path, part: int, scratch: Path) -> tuple[Path, str]:
    """``(folder to grade, note for the output)``: the upload's .py files, or its notebook's cells written to ``scratch``."""
    modules = [exercise.name for exercise in kit.manifest.part(part).exercises]
    folder = find_submission_folder(submission, modules)
    notebook = None if any((folder / f"{m}.py").is_file() for m in modules) else find_notebook(submission, kit.manifest.part_info(part).notebook)
    if notebook is None:
        return folder, ""
    sources = notebook_modules(notebook, kit, part)
    scratch.mkdir(parents=True, exist_ok=True)
    for exercise, source in sources.items():
        (scratch / f"{exercise}.py").write_bytes(source.encode("utf-8", "replace"))
    note = f"Graded the notebook {display_name(notebook.name)}."
    missing = [m for m in modules if m not in sources]
    if missing:
        note += (f" It has no solution cell for {', '.join(missing)} (a code cell with nbgrader grade_id {missing[0]!r}), so that scores 0:"
                 " start again from the released notebook and keep its cells.")
    return scratch, note
