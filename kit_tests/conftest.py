"""Shared fixtures for the kit's own tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from coopkit.authoring import regions
from coopkit.paths import Kit

from . import system_tools

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Never collect the corpus: it holds hostile files (conftest.py, __init__.py) meant for the grader's sandbox.
collect_ignore = ["corpus"]

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
APT_INSTALL = pytest.StashKey()


def pytest_configure(config):
    config.addinivalue_line("markers", "heavy(seconds): a file's rough run time on two idle cores; the heaviest files start first")
    config.addinivalue_line("markers", "late: a file that needs what installs in the background as the run starts: it starts last")
    if not hasattr(config, "workerinput"):  # the controller (or a run without workers): once per run
        config.stash[APT_INSTALL] = system_tools.start_installing()


def pytest_unconfigure(config):
    install = config.stash.get(APT_INSTALL, None)
    if install is not None:
        install.wait()


def pytest_collection_modifyitems(items):
    """The heaviest files first, so that the workers, which take a file at a time, finish together; ``late`` ones last."""
    def order(item):
        heavy = item.get_closest_marker("heavy")
        return (item.get_closest_marker("late") is not None, -(heavy.args[0] if heavy else 0))

    items.sort(key=order)


@pytest.fixture(scope="session")
def kit() -> Kit:
    return Kit(ROOT)


def reference_source(kit: Kit, module: str) -> str:
    return regions.drop_markers(kit.solution_file(module).read_text(encoding="utf-8"))


def build_submission(kit: Kit, case: Path, dest: Path) -> dict:
    """Lay out a corpus case as a submission folder: the reference, overridden by the case's files."""
    expect = tomllib.loads((case / "expect.toml").read_text())
    dest.mkdir(parents=True)
    modules = [exercise.name for exercise in kit.manifest.part(expect.get("part", 1)).exercises]
    edits = tomllib.loads((case / "edits.toml").read_text())["edit"] if (case / "edits.toml").exists() else []
    if not expect.get("empty"):
        for module in modules:
            if expect.get("stubs"):
                text = (kit.exercises / f"{module}.py").read_text(encoding="utf-8")
            else:
                text = reference_source(kit, module)
            for edit in edits:
                if edit["module"] == module:
                    assert edit["old"] in text, f"{case.name}: edit not found in {module}: {edit['old']!r}"
                    text = text.replace(edit["old"], edit["new"])
            (dest / f"{module}.py").write_text(text, encoding="utf-8")
    for item in case.iterdir():
        if item.name in ("expect.toml", "edits.toml"):
            continue
        if item.name.endswith(".delete"):
            (dest / item.name[: -len(".delete")]).unlink()
        elif item.is_dir():
            target = dest / item.name
            if target.exists():
                target.unlink()
            shutil.copytree(item, target)
        else:
            shutil.copyfile(item, dest / item.name)
    if expect.get("crlf"):
        for module in modules:
            path = dest / f"{module}.py"
            path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return expect


def corpus_cases(part: int | None = None) -> list[str]:
    """The corpus's case names (of one part, when given: ``part`` in expect.toml, 1 by default)."""
    names = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    if part is None:
        return names
    return [name for name in names if tomllib.loads((CORPUS / name / "expect.toml").read_text()).get("part", 1) == part]
