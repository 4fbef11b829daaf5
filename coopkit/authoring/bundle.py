"""The student distribution: everything a student needs, nothing a grader keeps.

In: the stubs (also kept under ``stubs/`` for ``coopkit reset``), the public
tests, the lesson pages, a student notebook, the manifest (for hints and
progress), the student half of the package and a student pyproject and README.
Out: solutions, hidden suites, the grader, the sandbox, the nbgrader and
Gradescope tooling, the corpus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from ..course import build as nbbuild
from ..manifest import Part
from ..paths import Kit
from . import regions

# What the bundle ships of the package: its top-level modules (the core that suites, pytest plugins and notebook
# cells stand on) and the student package. Everything instructor-only lives in the other subpackages.
STUDENT_PACKAGE = "student"

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "coopkit-student"
version = "{version}"
description = "Cooperative multitasking from plain generators: the exercises."
requires-python = ">=3.10"
dependencies = [
    "pytest>=7.4",
    "pytest-timeout>=2.2",
    "rich>=13",
    "watchfiles>=0.21",
    "tomli>=2.0; python_version < '3.11'",
]

[project.optional-dependencies]
notebook = ["jupyterlab>=4", "matplotlib>=3.7"]

[project.scripts]
coopkit = "coopkit.student.cli:main"

[tool.setuptools]
packages = ["coopkit", "coopkit.{student}"]

[tool.pytest.ini_options]
testpaths = ["tests"]
# -q: one line of progress letters, the coopkit summary says the rest (`pytest -v`: one line per test).
# --tb=native and no anyio plugin (watchfiles brings anyio): a faster start and a faster failure report;
# coopkit writes the failure reports of the public tests itself.
addopts = "-q --tb=native -p no:cacheprovider -p no:anyio -rN -p coopkit.plugin -p coopkit.progress"
timeout = 10
"""

README = """# {title}

{parts}

Each exercise builds on the ones before it: do them in order. The lesson is in
`docs/` (and in `notebook/`, one notebook per part, if you prefer Jupyter).

## Set up (once)

```sh
python3 -m venv .venv && .venv/bin/pip install -e .
.venv/bin/pytest
```

The second command runs the public tests. They all fail at first: every
exercise starts as a stub. Activate the environment (`. .venv/bin/activate`)
to type `pytest` and `coopkit` directly.

## Work

1. Read {first_pages}.
2. Open `exercises/{first}.py`, replace the `TODO` and the
   `raise NotImplementedError(...)` with your code.
3. Run `pytest`. A failure says what was called, what was expected, what came
   back and the likely cause. The summary at the end says what to do next.

| command | what it does |
|---|---|
| `pytest` | the public tests, with a progress summary |
| `coopkit status` | a progress bar over every exercise and check |
| `coopkit watch` | reruns the current exercise's tests every time you save (`--poll` where file events do not work) |
| `coopkit hint async_map` | one more hint each time you ask |
| `coopkit reset async_map` | puts the stub back; your version is kept in `.coopkit/backups/` |
| `coopkit trace` | your Scheduler's run drawn as a timeline |
| `coopkit trace sleep` | your SleepKernel (chapter 6) on a fake clock, event by event |

Your teacher grades with hidden tests that check more cases than the public
ones: write code that works for any input, not just the examples.

## In Jupyter (optional)

The same lessons and exercises come as notebooks, one per part, in `notebook/`:

```sh
.venv/bin/pip install -e '.[notebook]'
.venv/bin/jupyter lab notebook/
```

The `notebook` extra installs JupyterLab and matplotlib, which draws the
scheduler's timeline (without it the notebook prints the timeline as text and
says so). Run the cells in order; the check cells under each exercise's code
cell run its public tests.
"""


def readme(kit: Kit) -> str:
    """The bundle's README: the parts and their exercises, from the manifest."""
    manifest = kit.manifest
    parts = "\n".join(
        f"* **{part.title}**: " + ", ".join(f"`{e.name}`" for e in manifest.part(part.number).exercises) + "."
        for part in manifest.assignments
    )
    first = manifest.exercises[0]
    pages = [page for page in (manifest.part_info(first.part).intro, first.lesson) if page]
    return README.format(title=manifest.title, parts=parts, first=first.name, first_pages=", then ".join(f"`{page}`" for page in pages))


def student_notebook(kit: Kit, assignment: Part) -> str:
    """A lesson notebook as a student gets it: solution regions stubbed, hidden lines removed."""
    nb = nbbuild.notebook(kit, assignment)
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            cell["source"] = regions.stub_out(cell["source"] + "\n").rstrip("\n")
        elif meta.get("grade"):
            cell["source"] = regions.remove_hidden(cell["source"] + "\n").rstrip("\n").replace(", grade_check", "")
        cell["metadata"].pop("nbgrader", None)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build_bundle(kit: Kit, out: Path) -> Path:
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "coopkit").mkdir(parents=True)
    for module in sorted((kit.root / "coopkit").glob("*.py")):
        shutil.copyfile(module, out / "coopkit" / module.name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(kit.root / "coopkit" / STUDENT_PACKAGE, out / "coopkit" / STUDENT_PACKAGE, ignore=ignore)
    shutil.copytree(kit.exercises, out / "exercises", ignore=ignore)
    shutil.copytree(kit.tests, out / "tests", ignore=ignore)
    shutil.copytree(kit.docs, out / "docs", ignore=ignore)
    shutil.copytree(kit.exercises, out / "stubs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py"))
    shutil.copyfile(kit.manifest_path, out / "manifest.toml")
    from .. import __version__

    (out / "pyproject.toml").write_text(PYPROJECT.format(version=__version__, student=STUDENT_PACKAGE), encoding="utf-8")
    (out / "README.md").write_text(readme(kit), encoding="utf-8")
    (out / ".gitignore").write_text(".venv/\n__pycache__/\n.coopkit/\n*.egg-info/\n", encoding="utf-8")
    (out / "notebook").mkdir()
    for assignment in kit.manifest.assignments:
        (out / "notebook" / assignment.notebook).write_text(student_notebook(kit, assignment), encoding="utf-8")
    return out


def install_venv(bundle: Path, extras: str = "") -> subprocess.CompletedProcess:
    """What the bundle's README tells a new student: ``python3 -m venv .venv && .venv/bin/pip install -e .``."""
    subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=bundle, check=True)
    return subprocess.run([".venv/bin/pip", "install", "--quiet", "--disable-pip-version-check", "-e", f".{extras}"],
                          cwd=bundle, capture_output=True, text=True)
