"""The student's loop, walked as a new student in a fresh bundle venv: stubs, one mistake per exercise, fixes, done.

Also the watch mode in a real terminal (tmux): save a fix, read the screen.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from coopkit import notebook
from coopkit.authoring import regions
from coopkit.authoring.bundle import build_bundle, install_venv
from coopkit.course import build as nbbuild
from coopkit.harness import Implementation
from coopkit.student import trace

from .conftest import reference_source
from .system_tools import tool_or_skip

pytestmark = pytest.mark.heavy(40)

MAX_LINES = 40  # the target: fresh stubs, and a one-file run with one mistake, summary included

# One classic mistake per exercise, as (old, new) in the reference; each fails a public test.
MISTAKES = {
    "async_map": ("        results.append(func(item))\n        yield\n", "        yield\n        results.append(func(item))\n"),
    "runner": ("return stop.value", "return stop.args"),
    "task": ("Task.next_id += 1", "self.next_id += 1"),
    "scheduler": ("            else:\n                append(task)", "            else:\n                tasks.appendleft(task)"),
    "traps": ("self.ready.append((task_id, gen, gen.send, child_id))", "self.ready.append((task_id, gen, gen.send, None))"),
    "sleep": ("self.clock.sleep(max(0, self.sleeping[0][0] - self.clock.time()))",
              "self.clock.sleep(min(0.1, max(0, self.sleeping[0][0] - self.clock.time())))"),
    "io": ("                self.ready.append((task_id, gen, gen.send, None))\n            self.update(sock)\n",
           "                self.ready.append((task_id, gen, gen.send, None))\n"),
    "cancel": ("                self.sleeping.remove(entry)\n                heapq.heapify(self.sleeping)\n", ""),
    "awaiting": ("        results.append(func(item))\n        await switch()\n", "        results.append(func(item))\n"),
}

# The likely cause each mistake must be blamed on (a fragment of the feedback's "likely cause:" line).
CAUSES = {
    "async_map": "the yield comes before the work",
    "runner": "`stop.args` is a tuple",
    "task": "`self.next_id += 1` makes an instance attribute",
    "scheduler": "put back on the left (appendleft)",
    "traps": "the spawn trap adds the child and sends its id back",
    "sleep": "do not poll in small steps",
    "io": "unregister a socket once no task waits on it",
    "cancel": "remove the sleeper's entry from self.sleeping",
    "awaiting": "then `await switch()`, once per item",
}


@pytest.fixture(scope="module")
def student_bundle(kit, tmp_path_factory):
    """A bundle with its own venv, as the README sets it up (made once for this module)."""
    bundle = build_bundle(kit, tmp_path_factory.mktemp("loop") / "coop")
    install = install_venv(bundle)
    assert install.returncode == 0, install.stderr[-2000:]
    return bundle


def pytest_in(bundle, *args):
    result = subprocess.run([".venv/bin/pytest", *args], cwd=bundle, capture_output=True, text=True, timeout=300)
    return result, (result.stdout + result.stderr).splitlines()  # the student reads both


def with_mistake(kit, name):
    old, new = MISTAKES[name]
    source = reference_source(kit, name)
    assert old in source, f"{name}: the mistake's text is not in the reference any more"
    return source.replace(old, new)


def next_named(output) -> str | None:
    """The exercise the summary's "next:" line names (by its file)."""
    found = re.findall(r"^  next: .*\(exercises/(\w+)\.py", output, re.MULTILINE)
    assert len(found) <= 1, output
    return found[0] if found else None


def test_a_new_student_walks_every_exercise_to_the_end(kit, student_bundle):
    bundle, manifest = student_bundle, kit.manifest
    assert list(MISTAKES) == list(CAUSES) == [exercise.name for exercise in manifest.exercises]
    shutil.rmtree(bundle / ".coopkit", ignore_errors=True)
    fresh, lines = pytest_in(bundle)
    assert fresh.returncode == 1 and len(lines) <= MAX_LINES, f"{len(lines)} lines:\n{fresh.stdout}"
    first = manifest.exercises[0]
    assert next_named(fresh.stdout) == first.name
    for later in manifest.exercises[1:]:  # folded: one summary line each, none of their tests listed
        assert re.search(rf"^  · {later.name} +0/{later.points} +pt  not started$", fresh.stdout, re.MULTILINE), later.name
        assert f"[{later.name}." not in fresh.stdout
    for number, exercise in enumerate(manifest.exercises):
        path = bundle / "exercises" / f"{exercise.name}.py"
        path.write_text(with_mistake(kit, exercise.name))
        wrong, lines = pytest_in(bundle, f"tests/test_{exercise.name}.py")
        assert wrong.returncode == 1 and len(lines) <= MAX_LINES, f"{exercise.name}: {len(lines)} lines:\n{wrong.stdout}"
        assert "likely cause:" in wrong.stdout and f"[{exercise.name}." in wrong.stdout
        assert CAUSES[exercise.name] in " ".join(wrong.stdout.split()), f"{exercise.name}: not blamed on its mistake:\n{wrong.stdout}"
        assert f"this run covered one exercise ({exercise.name})" in wrong.stdout
        assert re.search(rf"^  ✘ {exercise.name} +\w+ +\d+ pt  failed$", wrong.stdout, re.MULTILINE), wrong.stdout
        assert next_named(wrong.stdout) == exercise.name  # the summary remembers the exercises before this one
        path.write_text(reference_source(kit, exercise.name))
        fixed, lines = pytest_in(bundle, f"tests/test_{exercise.name}.py")
        assert fixed.returncode == 0 and len(lines) <= MAX_LINES, fixed.stdout
        if number + 1 < len(manifest.exercises):
            upcoming = manifest.exercises[number + 1]
            assert next_named(fixed.stdout) == upcoming.name, fixed.stdout
        if exercise.name == manifest.part(1).exercises[-1].name:
            part1 = sum(e.points for e in manifest.part(1).exercises)
            assert f"Part 1 complete: {part1}/{part1} points" in fixed.stdout, fixed.stdout
    assert f"all done: {manifest.points}/{manifest.points} points" in fixed.stdout and "next:" not in fixed.stdout
    everything, lines = pytest_in(bundle)
    assert everything.returncode == 0 and "all done" in everything.stdout and len(lines) <= MAX_LINES


# -- watch, in a real terminal -----------------------------------------------------------------


END = r"^save to rerun · stuck\? coopkit hint · Ctrl-C to stop$"  # the last line of a watch screen


class Terminal:
    """A tmux pane on a private server, running one command."""

    def __init__(self, tmux, folder, command, width=100, height=50):
        self.base = [tmux, "-L", f"coopkit-test-{uuid.uuid4().hex[:8]}"]
        subprocess.run([*self.base, "new-session", "-d", "-x", str(width), "-y", str(height), "-c", str(folder), command], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait_for(self, *patterns, seconds=60) -> str:
        """The screen once every pattern is on it (a screen is drawn in pieces: its last line comes last)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            text = self.screen()
            if all(re.search(pattern, text, re.MULTILINE) for pattern in patterns):
                return text
            time.sleep(0.1)
        raise AssertionError(f"never saw all of {patterns!r} on the screen:\n{self.screen()}")

    def close(self):
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def test_watch_shows_the_failure_then_the_next_file_across_the_parts(kit, student_bundle):
    tmux = tool_or_skip("tmux", "the watch screen test needs a terminal")
    bundle = student_bundle
    shutil.rmtree(bundle / ".coopkit", ignore_errors=True)
    part1 = [exercise.name for exercise in kit.manifest.part(1).exercises]
    for name in part1[1:]:  # the rest of Part 1 is done: after async_map comes Part 2
        (bundle / "exercises" / f"{name}.py").write_text(reference_source(kit, name))
    for exercise in kit.manifest.part(2).exercises:
        shutil.copyfile(bundle / "stubs" / f"{exercise.name}.py", bundle / "exercises" / f"{exercise.name}.py")
    (bundle / "exercises" / "async_map.py").write_text(with_mistake(kit, "async_map"))
    terminal = Terminal(tmux, bundle, ".venv/bin/coopkit watch")
    try:
        first = terminal.wait_for(r"async_map: watching", END)
        assert "✘ [async_map." in first and "likely cause:" in first
        assert re.search(r"^█+░+ Part 1: \d+/25 points · Part 2: 0/\d+ points$", first, re.MULTILINE), first
        (bundle / "exercises" / "async_map.py").write_text(reference_source(kit, "async_map") + "\n")
        second = terminal.wait_for(r"traps: watching", END, seconds=30)
        assert "✔ async_map passes its public tests.\nNext: exercises/traps.py, lesson docs/05-traps.md\n" in second
        assert "coopkit watch: save a file" not in second and "[async_map." not in second  # the screen was cleared
        assert "· [traps." in second and re.search(r"^█+░+ Part 1 complete: 25/25 points · Part 2: 0/\d+ points$", second, re.MULTILINE), second
        (bundle / "exercises" / "traps.py").write_text(with_mistake(kit, "traps"))
        third = terminal.wait_for(r"✘ \[traps\.", END, seconds=30)
        assert "likely cause:" in third and "· [traps." not in third and "async_map passes" not in third
    finally:
        terminal.close()


# -- setup and docs slips --------------------------------------------------------------------


@pytest.fixture()
def bundle(kit, tmp_path):
    return build_bundle(kit, tmp_path / "coop")


def student(folder, *args):
    return subprocess.run([sys.executable, "-m", "coopkit.student.cli", *args], cwd=folder, capture_output=True, text=True, timeout=120)


def test_pytest_inside_exercises_says_where_the_tests_are(bundle):
    env = dict(os.environ, PYTHONPATH=str(bundle))  # the bundle's coopkit, as its own venv would have it
    result = subprocess.run([sys.executable, "-m", "pytest"], cwd=bundle / "exercises", capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 5
    assert f"coopkit: no tests here. The public tests are in {bundle / 'tests'}: run `pytest` in {bundle}." in result.stdout


def test_hint_without_a_name_is_for_the_exercise_you_are_on(kit, bundle):
    (bundle / "exercises" / "async_map.py").write_text(reference_source(kit, "async_map"))
    subprocess.run([sys.executable, "-m", "pytest", "tests/test_async_map.py"], cwd=bundle, capture_output=True, timeout=120)
    result = student(bundle, "hint")
    assert result.returncode == 0, result.stderr
    assert "hint 1/3" in result.stdout and "coopkit hint runner" in result.stdout


def test_status_puts_the_progress_bar_on_its_own_line(kit, bundle):
    (bundle / "exercises" / "async_map.py").write_text(reference_source(kit, "async_map"))
    lines = student(bundle, "status").stdout.splitlines()
    bars = [line for line in lines if "█" in line or "░" in line]
    assert len(bars) == 1 and re.fullmatch(r"█+░+ Part 1: 5/25 points · Part 2: 0/\d+ points", bars[0]), lines[:4]


def test_a_piped_solution_is_the_plain_source(kit):
    result = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "solution", "task", "--force"], cwd=kit.root,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stdout == regions.drop_markers(kit.solution_file("task").read_text())


def test_the_bundle_offers_only_what_it_has(kit, bundle):
    assert "--reference" not in student(bundle, "trace", "--help").stdout
    assert "--reference" in subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "trace", "--help"], cwd=kit.root,
                                           capture_output=True, text=True).stdout
    commands = set(re.findall(r"^    (\w+) ", student(bundle, "--help").stdout, re.MULTILINE))
    pages = [bundle / "README.md", *sorted((bundle / "docs").glob("*.md"))]
    for page in pages:
        named = set(re.findall(r"`coopkit (\w+)", page.read_text()))
        assert named <= commands, f"{page.name} names coopkit {named - commands}, which the bundle does not have"
        assert "`python benchmarks/" not in page.read_text(), f"{page.name}: the bundle has no benchmarks/"


def test_the_bundle_readme_says_how_to_open_the_notebooks(bundle):
    readme = (bundle / "README.md").read_text()
    assert ".venv/bin/pip install -e '.[notebook]'" in readme and "jupyter lab notebook/" in readme
    assert "matplotlib" in readme


def test_each_notebook_names_the_marker_its_code_cell_has(kit, bundle):
    for path in (bundle / "notebook").glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        for turn, code in zip(cells, cells[1:]):
            if turn["cell_type"] == "markdown" and "".join(turn["source"]).startswith("### Your turn"):
                assert "`# TODO`" in "".join(turn["source"]) and "# TODO" in "".join(code["source"]), path.name
    config = str(nbbuild.course_files(kit)["nbgrader_config.py"])
    assert "# TODO" in re.search(r"code_stub = (.*)", config).group(1)  # what nbgrader's released notebooks hold


def test_the_notebook_timeline_says_when_matplotlib_is_missing(kit, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    trace.show(Implementation(kit.solutions).attr("scheduler", "Scheduler", fresh=True))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == trace.NO_MATPLOTLIB and "pip install -e '.[notebook]'" in out[0] and len(out) > 3


def test_a_leftover_relative_import_in_a_cell_gets_one_line(kit, monkeypatch, capsys):
    cells = [notebook.strip_relative_imports(reference_source(kit, e.name)) for e in kit.manifest.part(1).exercises]
    cells.append(reference_source(kit, "scheduler"))  # pasted from the module file, `from .task import Task` and all
    shell = type("Shell", (), {"user_ns": {"In": cells}})()
    monkeypatch.setattr(builtins, "get_ipython", lambda: shell, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    notebook.check_public("scheduler", "interleaving")
    out = capsys.readouterr().out.splitlines()
    notes = [line for line in out if "from .task import Task" in line]
    assert notes == ["note: delete `from .task import Task` from your scheduler cell: it is for module files and raises "
                     "ImportError in a notebook, where the cells above already define those names."]
    notebook.check_public("task", "id_assignment")
    assert "note:" not in capsys.readouterr().out
