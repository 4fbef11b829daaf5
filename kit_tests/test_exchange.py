"""The course's exchange: the instructor's alone by default, and a collect that takes only what each student handed in."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys

import pytest

from coopkit.course import build as nbbuild
from coopkit.course.autograde import fill_notebook
from coopkit.course.workers import nbgrader

pytest.importorskip("nbgrader", reason="the nbgrader extra is not installed")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another account (chown) needs root")
OTHER_UID = 54321  # an account id with no account: a classmate who is not the student an entry names


@pytest.fixture
def course(kit, tmp_path):
    course = tmp_path / "course"
    nbbuild.build(kit, course)
    nbgrader(course, "generate_assignment", "coop", "--force")
    nbgrader(course, "release_assignment", "coop")
    return course


def submit(course, home, student, sources=None):
    """A student's own nbgrader: fetch the released notebook (``sources`` in its solution cells), submit it; its inbound entry."""
    shared = ["--course", "coopkit", f"--Exchange.root={course / 'exchange'}"]
    home.mkdir(exist_ok=True)
    nbgrader(home, "fetch_assignment", "coop", *shared, env={"HOME": str(home)})
    notebook = next((home / "coop").glob("*.ipynb"))
    if sources is not None:
        notebook.write_text(json.dumps(fill_notebook(json.loads(notebook.read_text()), sources)))
    nbgrader(home, "submit", "coop", f"--student={student}", *shared, env={"HOME": str(home)})
    return next((course / "exchange" / "coopkit" / "inbound").glob(f"{student}+coop+*"))


def test_the_course_is_the_instructors_alone(course):
    assert course.stat().st_mode & 0o777 == 0o700  # solutions, gradebook, submissions: no other account reads them


def test_release_fetch_submit_collect_through_the_course_exchange(course, tmp_path):
    """A fresh course's config sets an exchange that works on one machine: nbgrader's real exchange round trip."""
    # made by the instructor with nbgrader's modes: sticky at the root, the course's inbound write-only
    modes = {path.relative_to(course).as_posix(): path.stat().st_mode & 0o7777 for path in [course / "exchange", *(course / "exchange").rglob("*")]
             if "outbound/" not in path.relative_to(course).as_posix()}
    assert modes == {"exchange": 0o1777, "exchange/coopkit": 0o755, "exchange/coopkit/outbound": 0o755, "exchange/coopkit/inbound": 0o2733}
    submit(course, tmp_path / "student", pwd.getpwuid(os.getuid()).pw_name)  # as nbgrader names a student by default
    assert next((tmp_path / "student" / "coop").glob("*.ipynb")).is_file()
    nbgrader(course, "collect", "coop")
    collected = list((course / "submitted").glob("*/coop/*.ipynb"))
    assert len(collected) == 1 and json.loads(collected[0].read_text())["cells"]


@as_root
def test_collect_takes_only_what_each_student_handed_in(course, tmp_path):
    """Links to the instructor's files, a classmate's name on another account's folder, and an unparsable name
    are each left out with one warning; the honest submission is collected and the collect goes on."""
    real = submit(course, tmp_path / "ada", "ada")
    inbound = real.parent
    (inbound / "bob+coop+2026-01-01 10:00:00.000000 UTC+x").symlink_to(course / "source" / "coop")
    linked = inbound / "cat+coop+2026-01-01 10:00:00.000000 UTC+y"
    linked.mkdir()
    (linked / next(real.glob("*.ipynb")).name).symlink_to(next((course / "source" / "coop").glob("*.ipynb")))
    impostor = inbound / "ada+coop+2099-01-01 10:00:00.000000 UTC+z"
    shutil.copytree(real, impostor)
    notebook = next(impostor.glob("*.ipynb"))
    notebook.write_text(notebook.read_text().replace("NotImplementedError", "IMPOSTOR"))
    for path in (impostor, *impostor.iterdir()):
        os.chown(path, OTHER_UID, OTHER_UID)
    (inbound / "zz+coop+not-a-time+w").mkdir()
    deep = inbound / "dan+coop+2026-01-01 10:00:00.000000 UTC+v"  # a real folder, but deeper than any notebook needs
    deep.mkdir()
    folder = os.open(deep, os.O_RDONLY)
    for _ in range(30):  # longer than a path may be: only reachable folder by folder
        os.mkdir("d" * 200, dir_fd=folder)
        folder, parent = os.open("d" * 200, os.O_RDONLY, dir_fd=folder), folder
        os.close(parent)
    os.close(folder)
    shared = inbound / "eve+coop+2026-01-01 10:00:00.000000 UTC+u"  # someone else's file inside
    shutil.copytree(real, shared)
    os.chown(next(shared.glob("*.ipynb")), OTHER_UID, OTHER_UID)
    (real / "timestamp.txt").write_text("not a time")  # nbgrader's own `collect --update` stops for everyone at this
    stamped = inbound / "fay+coop+2026-01-01 10:00:00.000000 UTC+t"  # her own entry, with a folder where the time goes
    shutil.copytree(real, stamped)
    (stamped / "timestamp.txt").unlink()
    (stamped / "timestamp.txt").mkdir()
    done = nbgrader(course, "collect", "coop", check=False)
    assert done.returncode == 0, done.stdout
    assert sorted(path.name for path in (course / "submitted").iterdir()) == ["ada", "fay"]
    assert (course / "submitted" / "fay" / "coop" / "timestamp.txt").read_text() == "2026-01-01 10:00:00.000000 UTC"
    collected = next((course / "submitted" / "ada" / "coop").glob("*.ipynb")).read_text()
    assert "IMPOSTOR" not in collected and json.loads(collected)["cells"]
    assert (course / "submitted" / "ada" / "coop" / "timestamp.txt").read_text() == real.name.rsplit("+", 3)[2]
    assert nbgrader(course, "collect", "coop", "--update", check=False).returncode == 0
    refused = [line for line in done.stdout.splitlines() if "left out of collect" in line]
    assert len(refused) == 6, done.stdout
    assert any("dan+coop" in line and "deeper than" in line for line in refused)
    assert any("eve+coop" in line and "not eve's" in line for line in refused)
    assert any("bob+coop" in line and "a link" in line for line in refused)
    assert any("cat+coop" in line and "link or special file" in line for line in refused)
    assert any("2099" in line and f"account {OTHER_UID}" in line for line in refused)
    assert any("not-a-time" in line for line in refused)


@as_root
def test_build_refuses_a_course_folder_another_account_owns(kit, tmp_path):
    planted = tmp_path / "course"
    planted.mkdir()
    os.chown(planted, OTHER_UID, OTHER_UID)
    done = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "build", str(planted)], capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "belongs to another account" in done.stderr and not (planted / "nbgrader_config.py").exists()


def test_the_copy_follows_no_link_even_one_planted_after_the_check(course, tmp_path):
    """Collect copies through descriptors opened without following links: an entry swapped for a link (or holding
    one, or a FIFO) after its check is left out with a warning, not followed into the instructor's files."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    from coopkit.course.exchange import TrustedCollect

    collect = TrustedCollect(coursedir=CourseDirectory(root=str(course)), authenticator=Authenticator())
    source = next((course / "source" / "coop").glob("*.ipynb"))
    honest = tmp_path / "ada+coop+2026-01-01 10:00:00.000000 UTC+a"
    (honest / "sub").mkdir(parents=True)
    (honest / "sub" / "notes.txt").write_text("mine")
    swapped = tmp_path / "bob+coop+2026-01-01 10:00:00.000000 UTC+b"
    swapped.symlink_to(course / "source" / "coop")
    holding = tmp_path / "cat+coop+2026-01-01 10:00:00.000000 UTC+c"
    holding.mkdir()
    (holding / source.name).symlink_to(source)
    piped = tmp_path / "dan+coop+2026-01-01 10:00:00.000000 UTC+d"
    piped.mkdir()
    os.mkfifo(piped / "pipe")
    vanished = tmp_path / "eli+coop+2026-01-01 10:00:00.000000 UTC+e"  # renamed away by its student after the check
    for entry in (honest, swapped, holding, piped, vanished):
        collect.do_copy(str(entry), str(tmp_path / "out" / entry.name[:3]))
    assert (tmp_path / "out" / "ada" / "sub" / "notes.txt").read_text() == "mine"
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["ada"]


@as_root
def test_collect_refuses_an_inbound_another_account_owns(course):
    """Whoever owns inbound can read and rewrite every submission: collect stops with one line, nothing taken."""
    os.chown(course / "exchange" / "coopkit" / "inbound", OTHER_UID, OTHER_UID)
    done = nbgrader(course, "collect", "coop", check=False)
    assert done.returncode != 0 and "belongs to account" in done.stdout and "coopkit nbgrader exchange" in done.stdout


@as_root
def test_build_and_exchange_refuse_folders_others_could_swap(kit, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # another account could rename the course away and put its own config in its place
    (tmp_path / "link").symlink_to(shared)  # an instructor's own link into it changes nothing
    for command in (["build", shared / "course"], ["exchange", shared / "exchange"], ["build", tmp_path / "link" / "course"]):
        done = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", command[0], str(command[1])], capture_output=True, text=True)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "writable by other accounts" in done.stderr, done.stderr
    assert list(shared.iterdir()) == []
    planted = tmp_path / "planted" / "coopkit" / "inbound"  # a student made the course's folders first: she could read them
    planted.mkdir(parents=True)
    os.chown(planted, OTHER_UID, OTHER_UID)
    taken = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "exchange", str(tmp_path / "planted")], capture_output=True, text=True)
    assert taken.returncode == 2 and f"belongs to another account (uid {OTHER_UID})" in taken.stderr, taken.stderr
    assert (tmp_path / "planted").stat().st_mode & 0o7777 == 0o700  # never opened to other accounts
    made = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "exchange", str(tmp_path / "exchange")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    modes = {path.relative_to(tmp_path).as_posix(): path.stat().st_mode & 0o7777 for path in [tmp_path / "exchange", *(tmp_path / "exchange").rglob("*")]}
    assert modes == {"exchange": 0o1777, "exchange/coopkit": 0o755, "exchange/coopkit/outbound": 0o755, "exchange/coopkit/inbound": 0o2733}


def test_a_file_is_copied_no_further_than_its_checked_size(course, tmp_path, monkeypatch):
    """A file that grows after its size was read (a student appending during collect) is refused, not copied on."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    from coopkit.course import exchange

    entry = tmp_path / "ada+coop+2026-01-01 10:00:00.000000 UTC+a"
    entry.mkdir()
    (entry / "notebook.ipynb").write_bytes(b"x" * 10_000)
    real_fstat = os.fstat

    def fstat_before_growth(fd):  # the size the check read, before the file grew to what a read now finds
        info = real_fstat(fd)
        return os.stat_result((*info[:6], 100, *info[7:])) if info.st_size == 10_000 else info

    monkeypatch.setattr(exchange.os, "fstat", fstat_before_growth)
    collect = exchange.TrustedCollect(coursedir=CourseDirectory(root=str(course)), authenticator=Authenticator())
    collect.do_copy(str(entry), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
