"""First code to run in a grading sandbox; started as ``python -I -S -B boot.py CONFIG``.

Trusted, and runs before any student code. In order:
1. read the config and the signing key (from a pipe that is then closed);
2. where Linux allows it, enter new user, mount and PID namespaces and hide
   the kit, the submissions and the grader's files behind empty tmpfs mounts,
   leaving only the Python environment (read-only) and this unit's folder;
3. fork: the child is PID 1 of the new namespace, dies with this process
   (PR_SET_PDEATHSIG), takes the resource limits and runs pytest; when it
   ends, the kernel kills everything it started;
4. exit with the child's status.
Standard library only: it runs before sys.path holds anything else.
"""

import ctypes
import json
import os
import resource
import signal
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount(libc, source, target, fstype, flags, data=None):
    enc = lambda text: text.encode() if text is not None else None  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        raise OSError(ctypes.get_errno(), f"mount {source} on {target}: {os.strerror(ctypes.get_errno())}")


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def isolate(config):
    """Enter fresh namespaces and hide paths; returns the isolation level reached."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) != 0:
        return "process"
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    hide = []
    for path in sorted(set(config["hide"]), key=len):
        if os.path.isdir(path) and not any(_under(path, outer) for outer in hide):
            hide.append(path)  # a folder inside one already hidden is hidden with it
    keep = [(path, ro, os.open(path, os.O_PATH)) for path, ro in config["keep"] if os.path.isdir(path)]
    for path in hide:
        _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path, read_only, fd in keep:
        if any(_under(path, hidden) for hidden in hide):
            os.makedirs(path, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if read_only:
            _mount(libc, None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
        os.close(fd)
    return "namespaces"


def limit(config):
    megabytes = config["memory_mb"] * 1024 * 1024
    for name, value in (
        ("RLIMIT_AS", megabytes),
        ("RLIMIT_CORE", 0),
        ("RLIMIT_FSIZE", 64 * 1024 * 1024),
        ("RLIMIT_CPU", int(config["cpu_seconds"])),
        ("RLIMIT_NOFILE", 256),
    ):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError):
            pass


def run_pytest(config, key, level):
    sys.path[:0] = [config["unit"]] + config["sys_path"]
    os.chdir(config["unit"])
    os.environ.clear()
    os.environ.update(config["env"])
    import pytest  # noqa: E402 - only importable once sys.path is set

    from coopkit import sandbox_plugin  # noqa: E402

    recorder = sandbox_plugin.Recorder(config["result_fd"], key, config["remove_after_collection"])
    recorder.emit(event="hello", isolation=level)
    return pytest.main(config["pytest_args"], plugins=[recorder])


def main():
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    os.unlink(sys.argv[1])
    key = os.read(config["key_fd"], 64)
    os.close(config["key_fd"])
    try:
        level = isolate(config) if config["isolate"] else "process"
    except OSError as exc:  # half-built isolation is unsafe and unusable: stop
        print(f"coopkit sandbox: setting up isolation failed: {exc}", file=sys.stderr)
        os._exit(71)
    child = os.fork()
    if child == 0:
        try:
            _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if level == "namespaces":
                _mount(_libc(), "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            limit(config)
            code = run_pytest(config, key, level)
        except BaseException as exc:  # noqa: BLE001 - any escape ends the unit
            print(f"coopkit sandbox: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 70
        sys.stdout.flush()
        os._exit(int(code) if isinstance(code, int) else 70)
    os.close(config["result_fd"])
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
