"""The fallback isolation, for containers without user namespaces: student code as a separate unprivileged user.

This is Gradescope's own recommended practice, for images where bubblewrap
cannot make a sandbox. It is weaker than namespaces (the code sees the host's
file system, processes and network, as that user), so every report names it.
The grader must be root; each sandbox is one ``python -I -S -B runner.py``
process that:

* runs as the student account (no supplementary groups, no new privileges,
  so no setuid program gives root back), with an empty environment, in a
  root-owned read-only copy of its unit folder, made for it and removed after;
* has the sandbox's rlimits, and ``RLIMIT_NPROC`` for that uid;
* is one at a time: ``end()`` (also on a per-test timeout, from outside)
  kills every process of that uid, whatever session or parent it has, and
  removes what the uid left in the shared temporary folders.

``ready()`` proves the isolation before any submission runs: as the student
account, Python must start, and none of the private paths (the kit, the
results folder, the grader's scratch folder) may be readable, listable or
writable. Otherwise it refuses, in one line naming the path and the fix.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import Kit
from .cgroups import PIDS_MAX
from .pipeline import GradingRun
from .sandbox import Limits, Sandbox, Sandboxes, SandboxUnavailable

DEFAULT_ACCOUNT = "coopkit-student"
SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")
PR_SET_NO_NEW_PRIVS = 38
SETUP_FIX = "run the autograder's setup.sh as root (it creates the account and makes the kit readable by root only)"
PROBE = """
import json, os, sys
paths = json.loads(sys.argv[1])
exposed = [p for p in paths if os.access(p, os.R_OK) or os.access(p, os.W_OK) or os.access(p, os.X_OK)]
print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "exposed": exposed}))
"""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int

    @classmethod
    def named(cls, spec: str) -> Account:
        """An account by name, or by number (``UID`` or ``UID:GID``); ``SandboxUnavailable`` if there is none."""
        try:
            if spec.replace(":", "").isdigit():
                uid, _, gid = spec.partition(":")
                account = cls(spec, int(uid), int(gid or uid))
            else:
                entry = pwd.getpwnam(spec)
                account = cls(spec, entry.pw_uid, entry.pw_gid)
        except (KeyError, ValueError):
            raise SandboxUnavailable(f"there is no user account {spec!r} to run student code as: {SETUP_FIX}") from None
        if account.uid == 0 or account.gid == 0:
            raise SandboxUnavailable(f"the student account {spec!r} is root (uid or gid 0): give setup.sh's unprivileged account")
        return account


def _no_new_privileges():
    """``prctl(PR_SET_NO_NEW_PRIVS)``, looked up here so the child only calls it."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def call():
        if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")

    return call


def _uids(pid: str) -> tuple[set[int], bool]:
    """The real, effective, saved and file-system uids of a process, and whether it is a zombie."""
    uids, zombie = set(), False
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            uids = {int(value) for value in line.split()[1:]}
        elif line.startswith("State:"):
            zombie = line.split()[1] in ("Z", "X")
    return uids, zombie


def processes_of(uid: int) -> list[int]:
    """Every live process that has ``uid`` as any of its uids."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                uids, zombie = _uids(entry)
            except (OSError, ValueError):
                continue
            if uid in uids and not zombie:
                found.append(int(entry))
    return found


def _kill(pid: int, uid: int) -> None:
    """SIGKILL ``pid`` if it still belongs to ``uid`` (through a pidfd, so a reused pid is never hit)."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):
        handle = None
    try:
        if uid not in _uids(str(pid))[0]:
            return
        if handle is None:
            os.kill(pid, signal.SIGKILL)
        else:
            signal.pidfd_send_signal(handle, signal.SIGKILL)
    except (OSError, ValueError):
        pass
    finally:
        if handle is not None:
            os.close(handle)


def end_processes(uid: int, seconds: float = 5.0) -> bool:
    """Kill every process of ``uid`` (those it starts meanwhile too); True when none is left."""
    deadline = time.monotonic() + seconds
    while (pids := processes_of(uid)) and time.monotonic() < deadline:
        for pid in pids:
            _kill(pid, uid)
        time.sleep(0.002)
    return not processes_of(uid)


def remove_leftovers(uid: int) -> None:
    """Remove what ``uid`` left at the top of the shared temporary folders."""
    for folder in SHARED_TEMP:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


class UserSandboxes(Sandboxes):
    """Sandboxes that are processes of a separate unprivileged account (see the module's docstring)."""

    def __init__(self, limits: Limits, account: Account, python: str, private: list[Path]):
        # the plain-python command and start of the no-namespace mode; isolation comes from the account
        super().__init__(limits, unsafe=True)
        self.account, self.python, self.private = account, python, [str(path) for path in private]
        self.isolation = f"unprivileged user {account.name} (no namespaces)"
        self._one_at_a_time = threading.Lock()
        self._no_new_privileges = _no_new_privileges()

    def command(self, unit: str, argv: list[str], fds: dict[str, int] | None = None) -> list[str]:
        return [self.python, "-I", "-S", "-B", *argv]

    def _limits_only(self) -> None:
        """In the child before exec: the sandbox's rlimits, a process bound for the uid, then the account."""
        super()._limits_only()
        resource.setrlimit(resource.RLIMIT_NPROC, (PIDS_MAX, PIDS_MAX))
        self._no_new_privileges()
        os.setgroups([])
        os.setgid(self.account.gid)
        os.setuid(self.account.uid)

    def ready(self) -> None:
        if os.geteuid() != 0:
            raise SandboxUnavailable("running student code as another user needs the grader to run as root: run run_autograder as root")
        end_processes(self.account.uid)
        try:
            done = subprocess.run(self.command("", ["-c", PROBE, json.dumps(self.private)]), capture_output=True, timeout=30,
                                  preexec_fn=self._limits_only, env={}, cwd="/")
            seen = json.loads(done.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(
                f"the student account {self.account.name} cannot run Python at {self.python} ({type(exc).__name__}): "
                "install python3 where every user can run it (Ubuntu's /usr/bin/python3)") from None
        finally:
            end_processes(self.account.uid)
        if seen.get("uid") != self.account.uid or seen.get("euid") != self.account.uid:
            raise SandboxUnavailable(f"Python did not run as the student account {self.account.name}: {SETUP_FIX}")
        if seen.get("exposed"):
            raise SandboxUnavailable(
                f"the student account {self.account.name} can reach {seen['exposed'][0]}: "
                f"make it root-only (chmod 700 {seen['exposed'][0]}), as setup.sh and run_autograder do")

    def start(self, unit: Path, argv: list[str]) -> Sandbox:
        """A sandbox over a read-only copy of ``unit``; the next one starts only after this one ended."""
        self._one_at_a_time.acquire()
        copy = None
        try:
            end_processes(self.account.uid)
            copy = Path(tempfile.mkdtemp(prefix="coopkit-unit-"))
            os.chmod(copy, 0o755)
            shutil.copytree(unit, copy / "unit")
            sandbox = super().start(copy / "unit", argv)
        except BaseException:
            self._finish(copy)
            raise
        return UserSandbox(sandbox.process, sandbox.cgroup, sandbox.init_pid, sandbox.status_fd, on_end=lambda: self._finish(copy))

    def _finish(self, copy: Path | None) -> None:
        try:
            end_processes(self.account.uid)
            remove_leftovers(self.account.uid)
            if copy is not None:
                shutil.rmtree(copy, ignore_errors=True)
        finally:
            self._one_at_a_time.release()


@dataclass
class UserSandbox(Sandbox):
    on_end: object = None

    def end(self) -> int | None:
        try:
            return super().end()
        finally:
            finish, self.on_end = self.on_end, None
            if finish is not None:
                finish()


def user_run(kit: Kit, part: int, account: Account, python: str, private: list[Path]):
    """A grading run whose sandboxes are processes of ``account``, proven by ``ready()`` before it is returned
    (the private paths are the caller's plus the run's scratch folder)."""
    return GradingRun.create(kit, part=part, make_sandboxes=lambda limits, scratch: UserSandboxes(limits, account, python, [*private, scratch]))
