"""What student code can and cannot do inside the grading sandbox, and what the grader does with untrusted files.

Each probe is a ``runner.py`` that works (and so earns its points) only when
the sandbox holds: a probe that finds a way out fails its checks, and the
test says what it found.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from coopkit import grading
from coopkit.grading import sandbox
from coopkit.grading.report import to_json

from .conftest import reference_source

pytestmark = pytest.mark.heavy(35)

WORKING_RUNNER = '''
def runner(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
'''

PROBE = '''
import os, sys

def _reachable():
    found = [path for path in {paths!r} if os.path.exists(path)]
    try:
        import coopkit.paths  # only the real package has paths.py
        found.append("coopkit package")
    except ImportError:
        pass
    found += [name for name in os.environ if name.startswith(("PYTHON", "COOPKIT"))]
    return found

def runner(gen):
    found = _reachable()
    if found:
        raise ValueError("REACHED " + " ".join(sorted(found))[:150])
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
'''


def write_submission(kit, folder, files, part=1):
    folder.mkdir(parents=True, exist_ok=True)
    for exercise in kit.manifest.part(part).exercises:
        (folder / f"{exercise.name}.py").write_text(reference_source(kit, exercise.name))
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def grade_one(kit, tmp_path, files, **options):
    folder = write_submission(kit, tmp_path / "student", files)
    with grading.GradingRun.create(kit, **options) as run:
        return grading.grade_folders(run, {"student": folder}, jobs=2)["student"]


def runner_check(report):
    return report["exercises"]["runner"]["checks"]["stop_value"]


def check_scores(report):
    return {e: {c: v["score"] for c, v in d["checks"].items()} for e, d in report["exercises"].items()}


def host_processes_with(marker):
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if marker.encode() in cmdline.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def test_the_sandbox_is_bubblewrap(kit, tmp_path):
    report = grade_one(kit, tmp_path, {})
    assert report["isolation"] == "bubblewrap" and report["score"] == report["max_score"]


def test_kit_submissions_and_host_are_out_of_reach(kit, tmp_path):
    """Only the Python installation, the unit folder and a private /tmp exist: not the kit, not another checkout."""
    elsewhere = tmp_path / "another-checkout" / "solutions"
    elsewhere.mkdir(parents=True)
    (elsewhere / "runner.py").write_text(reference_source(kit, "runner"))
    paths = [str(kit.solutions), str(kit.solution_file("runner")), str(kit.grading), str(tmp_path / "student"),
             str(elsewhere / "runner.py"), "/etc/passwd", "/var", "/root/.ssh", str(kit.root / ".git"),
             str(kit.root / ".venv"), "/unit/solutions", "/unit/exercises/runner_reference.py"]
    check = runner_check(grade_one(kit, tmp_path, {"runner.py": PROBE.format(paths=paths)}))
    assert check["passed"], check["feedback"]


def test_the_probe_can_fail(kit, tmp_path):
    """The probe is honest: a path that is reachable makes it fail."""
    check = runner_check(grade_one(kit, tmp_path, {"runner.py": PROBE.format(paths=["/"])}))
    assert not check["passed"] and "REACHED /" in check["feedback"]


NAMESPACES = ("user", "pid", "net", "ipc", "uts", "mnt", "cgroup")

CONFINED = '''
import ctypes, os, socket
PORT = {port}
HOST_NAMESPACES = {namespaces!r}
ONLY_HARMLESS = {harmless!r}  # outside a sandbox, touch nothing: no ptrace, no files in /dev or /tmp

def _escapes():
    found = [name for name, link in HOST_NAMESPACES.items() if os.readlink("/proc/self/ns/" + name) == link]
    status = open("/proc/self/status").read()
    caps = [line.split()[1] for line in status.splitlines() if line.startswith("CapEff")]
    if caps != ["0000000000000000"]:
        found.append("capabilities " + str(caps))
    if "NoNewPrivs:\\t1" not in status:
        found.append("new privileges allowed")
    if ONLY_HARMLESS:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            found.append("reached the host's loopback")
        except OSError:
            pass
        return found
    libc = ctypes.CDLL(None, use_errno=True)
    MS_REMOUNT, MS_BIND = 32, 4096
    for target in (b"/unit", b"/usr", b"/"):
        if libc.mount(None, target, None, MS_REMOUNT | MS_BIND, None) == 0:
            found.append("remounted " + target.decode())
    for path in ("/unit/x", "/usr/x", "/unit/exercises/runner.py"):
        try:
            open(path, "a").close()
            found.append("wrote " + path)
        except OSError:
            pass
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
        found.append("reached the host's loopback")
    except OSError:
        pass
    if os.getuid() == 0:
        found.append("uid 0")
    for pid in [name for name in os.listdir("/proc") if name.isdigit()]:
        try:
            if b"COOPKIT_SENTINEL" in open(f"/proc/{{pid}}/environ", "rb").read():
                found.append(f"the grader's environment in /proc/{{pid}}/environ")
        except OSError:
            pass
    if libc.ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH to the sandbox's PID 1
        found.append("ptrace of PID 1")
    if libc.syscall(250 if os.uname().machine == "x86_64" else 219, 0, 0, 0, 0) != -1 or ctypes.get_errno() != 1:
        found.append("the kernel keyrings")
    if libc.unshare(0x10000000) == 0:  # CLONE_NEWUSER
        found.append("a nested user namespace")
    try:
        open("/dev/planted", "w").close()
        found.append("a file in /dev")
    except OSError:
        pass
    try:
        with open("/tmp/big", "wb") as big:
            for _ in range(100):
                big.write(bytes(1 << 20))
        found.append("100 MB in /tmp")
    except OSError:
        pass
    return found

def runner(gen):
    found = _escapes()
    if found:
        raise ValueError("ESCAPED " + ", ".join(found))
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
'''


def host_namespaces():
    return {name: os.readlink(f"/proc/self/ns/{name}") for name in NAMESPACES}


def test_no_capabilities_no_remount_no_host_network(kit, tmp_path, monkeypatch):
    """Namespaces of its own, CapEff 0, no new privileges, read-only binds stay read-only, another network;
    no ptrace, keyrings or nested user namespaces; /tmp capped, /dev read-only, the grader's environment unseen."""
    monkeypatch.setenv("COOPKIT_SENTINEL", "secret")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        check = runner_check(grade_one(kit, tmp_path, {"runner.py": CONFINED.format(port=port, namespaces=host_namespaces(), harmless=False)}))
    assert check["passed"], check["feedback"]


SURVIVOR = '''
import ctypes, os, sys, time

def runner(gen):
    if os.fork() == 0:
        os.setsid()
        ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG: none
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", "{marker}"])
        time.sleep(120)
        os._exit(0)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget({key}, 4096, 0o1000 | 0o666)  # IPC_CREAT, never removed
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
'''


def test_nothing_outlives_the_exercise(kit, tmp_path):
    """A detached process that cleared its parent-death signal, and a SysV segment, are gone with the sandbox."""
    marker, key = f"coopkit-survivor-{uuid.uuid4().hex}", 0x5C0FF33
    report = grade_one(kit, tmp_path, {"runner.py": SURVIVOR.format(marker=marker, key=key)})
    assert runner_check(report)["passed"], runner_check(report)["feedback"]
    time.sleep(0.2)
    assert host_processes_with(marker) == []
    with open("/proc/sysvipc/shm") as segments:
        keys = [int(line.split()[0]) for line in segments.read().splitlines()[1:] if line.strip()]
    assert key not in keys


FORK_STORM = '''
import os, time

def runner(gen):
    started = 0
    try:
        for _ in range(5000):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            started += 1
    except OSError:
        pass
    if started >= 200:
        raise ValueError(f"UNBOUNDED: {{started}} processes")
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
'''


LINGERER = '''
import os, sys, threading, time

def _linger():
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", "{marker}"])
    time.sleep(120)

threading.Thread(target=_linger).start()  # not a daemon: the runner cannot exit while it sleeps

def runner(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
'''


def test_a_sandbox_that_will_not_exit_is_ended_after_its_last_record(kit, tmp_path):
    """A thread that keeps the test process alive neither delays grading nor outlives it."""
    marker = f"coopkit-lingerer-{uuid.uuid4().hex}"
    started = time.monotonic()
    report = grade_one(kit, tmp_path, {"runner.py": LINGERER.format(marker=marker)})
    assert runner_check(report)["passed"], runner_check(report)["feedback"]
    assert time.monotonic() - started < 10
    time.sleep(0.2)
    assert host_processes_with(marker) == []


def test_a_fork_storm_is_bounded(kit, tmp_path):
    """The number of processes is bounded though the grader runs as root; the storm costs nothing else."""
    started = time.monotonic()
    report = grade_one(kit, tmp_path, {"runner.py": FORK_STORM})
    assert runner_check(report)["passed"], runner_check(report)["feedback"]
    assert time.monotonic() - started < 60
    assert report["exercises"]["task"]["score"] == report["exercises"]["task"]["max_score"]


def test_same_code_same_grade(kit, tmp_path):
    first = grade_one(kit, tmp_path / "a", {})
    second = grade_one(kit, tmp_path / "b", {})
    assert check_scores(first) == check_scores(second)
    assert first["score"] == first["max_score"]


def test_a_slow_test_costs_only_itself(kit, tmp_path):
    """A hang in one test that ignores SIGALRM is stopped from outside; the tests after it run in a new sandbox."""
    slow = reference_source(kit, "task").replace(
        "        self.gen = gen\n", "        import signal, time\n        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n        if Task.next_id > 30:\n            time.sleep(120)\n        self.gen = gen\n"
    )
    report = grade_one(kit, tmp_path, {"task.py": slow})
    task = report["exercises"]["task"]
    assert task["checks"]["wraps_generator"]["score"] == task["checks"]["wraps_generator"]["max_score"]
    assert task["checks"]["id_assignment"]["score"] == 0
    assert "stopped after" in task["checks"]["id_assignment"]["feedback"]


def test_a_sandbox_that_kills_its_parent_costs_nothing_else(kit, tmp_path):
    """Student code that SIGKILLs its parent loses only its own checks; the other sandboxes still run."""
    hostile = reference_source(kit, "runner") + "\nimport os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n    pass\n"
    report = grade_one(kit, tmp_path, {"runner.py": hostile})
    for name in ("async_map", "task", "scheduler"):
        exercise = report["exercises"][name]
        assert exercise["score"] == exercise["max_score"], name


def test_no_sandbox_means_no_grading(kit, monkeypatch):
    """Without bubblewrap the grader refuses, in one line that names the fix: never a silent downgrade."""
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    with pytest.raises(grading.SandboxUnavailable) as refused:
        grading.GradingRun.create(kit)
    message = str(refused.value)
    assert "\n" not in message and "--unsafe-no-sandbox" in message and "bubblewrap" in message


def test_unsafe_mode_is_marked_everywhere(kit, tmp_path):
    """--unsafe-no-sandbox grades, and the report and the CSV row say the code ran unisolated."""
    from coopkit.instructor import report as report_module

    graded = grade_one(kit, tmp_path, {}, unsafe_no_sandbox=True)
    assert graded["score"] == graded["max_score"]
    assert graded["isolation"].startswith("none") and "unsafe" in graded["isolation"]
    csv_text = report_module.class_csv({"student": graded}, kit.manifest.part(1))
    assert "unsafe" in csv_text.splitlines()[1]


def test_links_and_special_files_score_zero(kit, tmp_path):
    """A file that links to the reference, or is a FIFO or a folder, is not read: one line and 0 for that exercise."""
    folder = write_submission(kit, tmp_path / "student", {})
    (folder / "runner.py").unlink()
    (folder / "runner.py").symlink_to(kit.solution_file("runner"))
    (folder / "task.py").unlink()
    os.mkfifo(folder / "task.py")
    with grading.GradingRun.create(kit) as run:
        report = grading.grade_folders(run, {"student": folder}, jobs=2)["student"]
    for name in ("runner", "task"):
        exercise = report["exercises"][name]
        assert exercise["score"] == 0 and exercise["status"] == "not_a_regular_file", exercise["message"]
        assert "\n" not in exercise["message"]
    assert report["exercises"]["scheduler"]["score"] == report["exercises"]["scheduler"]["max_score"]


def run_cli(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", *args], capture_output=True, timeout=timeout, cwd=cwd)


def test_grade_class_survives_hostile_folder_names_and_links(kit, tmp_path):
    """Folder names of any bytes, markup and escapes get a row each; a student folder that links elsewhere gets zeros."""
    root = tmp_path / "class"
    honest = write_submission(kit, root / "honest", {})
    write_submission(kit, root / os.fsdecode(b"caf\xe9-latin1"), {})
    write_submission(kit, root / "[/x]\x1b[2Jfake 25/25", {"runner.py": "def runner(gen):\n    raise ValueError('[/red] \\x1b[2J\\x07 25/25 [bold]')\n"})
    (root / "borrower").symlink_to(honest)
    # names that once shared a report file or a displayed name, and a dot folder: each its own row
    from coopkit.instructor.report import file_label

    lookalikes = [".bob", "Bob Smith", file_label("Bob Smith"), os.fsdecode(b"eve\xff"), "eve\\xff", "x" * 230, "x" * 229 + "y"]
    for name in lookalikes:
        (root / name).mkdir()
    out = tmp_path / "out"
    done = run_cli("grade-class", str(root), "--out", str(out), "-j", "2")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert b"\x1b" not in done.stdout and b"Traceback" not in done.stderr
    students = 4 + len(lookalikes)
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == students + 1, rows
    assert len({row.split(",")[0] for row in rows[1:]}) == students, "two students share a name in grades.csv"
    borrower = next(row for row in rows if row.startswith("borrower"))
    assert borrower.split(",")[-3] == "0", borrower
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in out.glob("*.json")]
    assert len(reports) == students and len({r["submission"] for r in reports}) == students
    assert any("\\xe9" in r["submission"] for r in reports)
    table = run_cli("report", str(out))
    assert table.returncode == 0 and table.stdout.decode().count("/25") >= students, table.stdout.decode()[-3000:]


def test_the_terminal_table_escapes_markup_and_control_characters(kit, tmp_path):
    folder = write_submission(kit, tmp_path / "student", {"runner.py": "def runner(gen):\n    raise ValueError('[/x] \\x1b[2J\\x1b]0;owned\\x07 25/25 [bold red]')\n"})
    done = run_cli("grade", str(folder))
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    assert b"[/x]" in done.stdout


def test_huge_and_astral_output_keeps_the_report_small(kit, tmp_path):
    flood = (
        "import sys\n"
        "def runner(gen):\n"
        "    sys.stdout.write('\\U0001F600' * 2_000_000)\n"
        "    raise ValueError('\\U0001F600' * 100_000)\n"
    )
    report = grade_one(kit, tmp_path, {"runner.py": flood})
    assert len(to_json(report).encode()) <= 200 * 1024
    assert runner_check(report)["score"] == 0


DEPTH = 1200


def test_a_deep_folder_tree_in_a_submission_changes_nothing(kit, tmp_path):
    folder = write_submission(kit, tmp_path / "student", {})
    fds = [os.open(folder, os.O_RDONLY)]
    for _ in range(DEPTH):
        os.mkdir("d", dir_fd=fds[-1])
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    try:
        done = run_cli("grade", str(folder), "--json")
        assert done.returncode == 0
        report = json.loads(done.stdout)
        assert report["score"] == report["max_score"]
    finally:  # pytest's own clean-up is recursive: take the tree down from the bottom
        for parent in reversed(fds[:-1]):
            os.close(fds.pop())
            os.rmdir("d", dir_fd=parent)
        os.close(fds.pop())


def test_a_working_runner_is_what_the_probes_stand_on(kit, tmp_path):
    """The probes' runner body is a correct runner: a probe fails only because of what it found."""
    check = runner_check(grade_one(kit, tmp_path, {"runner.py": WORKING_RUNNER}))
    assert check["passed"], check["feedback"]


def test_the_confinement_probe_can_fail(kit, tmp_path, monkeypatch):
    """Run without the sandbox, the same probe sees the host's loopback and writable folders: it is not blind."""
    monkeypatch.setenv("COOPKIT_SENTINEL", "secret")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        check = runner_check(grade_one(kit, tmp_path, {"runner.py": CONFINED.format(port=port, namespaces=host_namespaces(), harmless=True)}, unsafe_no_sandbox=True))
    assert not check["passed"] and "ESCAPED" in check["feedback"] and "loopback" in check["feedback"]


HANGS = '''
import signal

def runner(gen):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
'''


def test_a_submission_cannot_take_more_than_its_cap(kit, tmp_path):
    """Exercises that hang in every test stop at the per-submission cap: the rest count as not run."""
    import dataclasses

    folder = write_submission(kit, tmp_path / "student", {"runner.py": HANGS, "async_map.py": HANGS.replace("runner(gen)", "async_map(func, seq)")})
    with grading.GradingRun.create(kit) as run:
        run.manifest = dataclasses.replace(run.manifest, submission_budget=6.0)
        started = time.monotonic()
        report = grading.grade_folders(run, {"student": folder}, jobs=2)["student"]
    assert time.monotonic() - started < 15
    runner = report["exercises"]["runner"]
    assert runner["score"] == 0 and "used up its time budget" in str(runner)
    for name in ("task", "scheduler"):  # honest code after the cap: no points it did not earn, and it says why
        exercise = report["exercises"][name]
        assert exercise["score"] == exercise["max_score"] or "used up its time budget" in str(exercise), exercise


def test_a_sandbox_that_cannot_start_is_tried_again(kit, tmp_path, monkeypatch):
    """A sandbox that dies before its first test (another one's processes still dying, say) gets three tries."""
    from coopkit.grading import execute

    real, calls = execute._attempt, []

    def flaky(sandboxes, unit, config, execution, deadlines):
        calls.append(config["exercise"])
        if calls.count(config["exercise"]) <= 2:
            execution.startup_error = "bwrap: Can't fork for pid 1"
            return None
        return real(sandboxes, unit, config, execution, deadlines)

    monkeypatch.setattr(execute, "_attempt", flaky)
    report = grade_one(kit, tmp_path, {})
    assert report["score"] == report["max_score"]
    assert calls.count("runner") == 3


def test_a_sandbox_that_never_starts_is_a_grader_error_not_a_zero_in_silence(kit, tmp_path, monkeypatch):
    from coopkit.grading import execute

    def broken(sandboxes, unit, config, execution, deadlines):
        execution.startup_error = "bwrap: Can't fork for pid 1"
        return None

    monkeypatch.setattr(execute, "_attempt", broken)
    monkeypatch.setattr(execute.time, "sleep", lambda seconds: None)
    report = grade_one(kit, tmp_path, {})
    runner = report["exercises"]["runner"]
    assert runner["status"] == "grader_error" and "did not start" in runner["message"]


def test_a_hang_names_the_students_line_and_costs_seconds(kit, tmp_path):
    """In the grader too: a timeout names the line of the student's file, and the tests after the first
    timeout of an exercise get a second each."""
    import time

    endless = (
        "def runner(gen):\n    result = None\n    while True:\n        try:\n            next(gen)\n"
        "        except StopIteration as stop:\n            result = stop.value\n    return result\n"
    )
    started = time.monotonic()
    report = grade_one(kit, tmp_path, {"runner.py": endless})
    elapsed = time.monotonic() - started
    check = runner_check(report)
    assert check["score"] == 0 and "(at runner.py line 3)" in check["feedback"], check["feedback"]
    assert report["exercises"]["runner"]["checks"]["exception_propagation"]["score"] > 0
    assert elapsed < 14, f"{elapsed:.1f} s"


def test_a_student_name_is_never_read_as_markup_in_the_progress_line(kit, tmp_path):
    """A folder named with rich markup shows as itself in grade-class's progress line (no blink, no hidden score)."""
    name = "m[blink]x[conceal]"
    (tmp_path / "class" / name).mkdir(parents=True)
    (tmp_path / "class" / name / "runner.py").write_text((kit.solutions / "runner.py").read_text())
    done = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "grade-class", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "-j", "1"],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert f"{name}: 5/25" in done.stdout
