"""First code to run in a grading sandbox; started as ``python -I -S -B boot.py CONFIG``, or forked from
``sandbox_zygote`` (which has pytest imported already) and entered at ``boot``.

Trusted, and runs before any student code. In order:
1. read the config and the signing key (from a pipe that is then closed);
2. where Linux allows it, enter new user, mount and PID namespaces and
   pivot into a fresh root holding only what the run needs: ``/usr``, the
   Python installation and environment (read-only), a few ``/dev`` nodes and
   this unit's folder. The kit, every other checkout of it, the submissions,
   the grader's output, ``/tmp``, ``/etc`` and home folders do not exist there;
3. fork: the child is PID 1 of the new namespace (with no /proc, it sees no
   other process), dies with this process (PR_SET_PDEATHSIG), takes the
   resource limits and runs pytest; when it ends, the kernel kills everything
   it started;
4. exit with the child's status.
Standard library only: it runs before sys.path holds anything else.
"""

import ctypes
import gc
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


SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
MNT_DETACH = 2
_STATVFS_TO_MS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC), (1024, 1024), (2048, 2048), (4096, 1 << 21))


def _locked_flags(path):
    """Mount flags a read-only remount must keep (a user namespace may not drop them)."""
    flags = os.statvfs(path).f_flag
    return sum(ms for st, ms in _STATVFS_TO_MS if flags & st)


def _bind(libc, path, target, read_only):
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(libc, path, target, None, MS_BIND | MS_REC)
    if read_only:
        _mount(libc, None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _locked_flags(path))


def isolate(config):
    """Enter fresh namespaces and pivot into a root holding only ``config['keep']``."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) != 0:
        return "process"
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    root = config["root"]
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=755")
    for path, read_only in config["keep"]:
        if os.path.exists(path):
            _bind(libc, path, root + path, read_only)
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        if os.path.islink("/" + name):
            os.symlink(os.readlink("/" + name), f"{root}/{name}")
    os.makedirs(f"{root}/tmp", exist_ok=True)
    os.chmod(f"{root}/tmp", 0o1777)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(0, f"pivot_root is not known on {os.uname().machine}")
    os.chdir(root)
    if libc.syscall(number, b".", b".") != 0:
        raise OSError(ctypes.get_errno(), f"pivot_root: {os.strerror(ctypes.get_errno())}")
    if libc.umount2(b".", MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), f"detaching the old root: {os.strerror(ctypes.get_errno())}")
    os.chdir("/")
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
    gc.disable()  # no cycles worth collecting while pytest and its plugins load; the Recorder turns it back on
    sys.path[:0] = [config["unit"]] + config["sys_path"]
    os.chdir(config["unit"])
    os.environ.clear()
    os.environ.update(config["env"])
    import pytest  # noqa: E402 - only importable once sys.path is set

    from coopkit import sandbox_plugin  # noqa: E402

    recorder = sandbox_plugin.Recorder(config["result_fd"], key, config["remove_after_collection"])
    recorder.emit(event="hello", isolation=level)
    return pytest.main(config["pytest_args"], plugins=[recorder])


def boot(config_path, key_fd=None, result_fd=None):
    """Everything after the start: ``key_fd``/``result_fd`` replace the config's descriptor numbers when the
    sandbox was forked from ``sandbox_zygote`` (which received them under other numbers). Never returns."""
    with open(config_path) as handle:
        config = json.load(handle)
    os.unlink(config_path)
    if key_fd is not None:
        config["key_fd"], config["result_fd"] = key_fd, result_fd
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


def main():
    boot(sys.argv[1])


if __name__ == "__main__":
    main()
