"""The launcher of a sandboxed kernel: ``python -m coopkit.kernels.jail SPEC -- KERNEL ARGV...``.

It runs on the host (trusted), where jupyter_client would have started the
kernel itself: it makes a pids cgroup, sets the rlimits, starts the kernel in
bubblewrap as the grader's sandboxes are started (same namespaces, seccomp
filter, read-only root), waits for it, and then kills whatever is left. SPEC is
a JSON file written by the kernel manager: ``ro`` and ``rw`` binds
(``[host, inside]`` pairs), ``env``, ``chdir`` and ``memory_mb``.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

from ..grading.cgroups import PidsCgroup
from ..grading.sandbox import FILE_LIMIT, OPEN_FILES, TMP_BYTES, Sandbox, _init_pid, _root_binds, find_bwrap
from ..grading.seccomp import seccomp_program

CPU_SECONDS = 3600  # the notebook's own time limit is nbgrader's Execute.timeout; this bounds a runaway


def bwrap_command(bwrap: str, spec: dict, argv: list[str], fds: dict[str, int]) -> list[str]:
    binds = []
    for host, inside in spec.get("ro", []):
        binds += ["--ro-bind", host, inside]
    for host, inside in spec.get("rw", []):
        binds += ["--bind", host, inside]
    env = []
    for name, value in sorted(spec.get("env", {}).items()):
        env += ["--setenv", name, value]
    return [
        bwrap,
        "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", "65534", "--gid", "65534", "--hostname", "coopkit",
        *_root_binds(),
        "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
        "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
        *binds,
        "--chdir", spec.get("chdir", "/tmp"), "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
        *env,
        "--seccomp", str(fds["seccomp"]), "--json-status-fd", str(fds["status"]),
        "--",
        *argv,
    ]


def start(spec: dict, argv: list[str]) -> Sandbox:
    bwrap = find_bwrap()
    if bwrap is None:
        raise SystemExit("coopkit kernel jail: no bubblewrap (bwrap) here, so the notebook is not run")
    cgroup = PidsCgroup.create(PidsCgroup.parent())
    if cgroup is None and os.geteuid() == 0:
        raise SystemExit("coopkit kernel jail: no writable pids cgroup, so nothing would bound the kernel's processes")
    memory = int(spec.get("memory_mb", 4096)) * 1024 * 1024

    def before_exec():
        if cgroup is not None:
            cgroup.enter()
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.geteuid() != 0:
            resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))

    status_read, status_write = os.pipe()
    seccomp_read, seccomp_write = os.pipe()
    os.write(seccomp_write, seccomp_program())
    os.close(seccomp_write)
    fds = {"status": status_write, "seccomp": seccomp_read}
    try:
        # the kernel talks to nbgrader over its sockets; what it writes to its own stdout and stderr is dropped
        process = subprocess.Popen(
            bwrap_command(bwrap, spec, argv, fds), env={}, preexec_fn=before_exec, pass_fds=tuple(fds.values()),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    finally:
        os.close(status_write)
        os.close(seccomp_read)
    return Sandbox(process, cgroup, _init_pid(status_read), status_read)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit("usage: python -m coopkit.kernels.jail SPEC -- KERNEL ARGV...")
    with open(argv[0], encoding="utf-8") as file:
        spec = json.load(file)
    sandbox = start(spec, argv[2:])
    if sandbox.init_pid is None:
        sandbox.end()
        raise SystemExit(f"coopkit kernel jail: bubblewrap could not start the kernel's sandbox ({find_bwrap()}); the notebook is not run")

    def end(signum, frame):
        sandbox.end()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGHUP, end)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel as messages (see manager.py)
    code = sandbox.process.wait()
    sandbox.end()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
