"""A pre-loaded parent for grading sandboxes; started as ``python -I -S -B sandbox_zygote.py FD SITE BOOT``.

Starting Python and importing pytest is most of a sandbox's cost. This process
does it once per grading run, then forks one child per sandbox. It runs no
student code and holds no secret: each request on the control socket ``FD``
brings a config path and three descriptors (the sandbox's output pipe, the
key pipe and the record pipe). The child makes itself a new session with
those as its standard output and error, then runs ``sandbox_boot.boot``
exactly as a freshly started ``boot.py`` would (namespaces, pivot, limits,
pytest). The parent answers ``pid N`` for each child and ``exit N CODE`` when
one ends, and stops when the control socket closes.

Standard library only until it imports pytest from ``SITE`` (a JSON list of
the environment's site-packages folders), which it then takes off
``sys.path`` again: each sandbox sets its own path.
"""

import importlib.util
import json
import os
import selectors
import signal
import socket
import sys


def _load_boot(path):
    spec = importlib.util.spec_from_file_location("coopkit_sandbox_boot", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reap(control):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        control.sendall(f"exit {pid} {code}\n".encode())


def _child(boot, config_path, fds):
    """In the forked child: become the sandbox's boot process. Never returns."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        output, key_fd, result_fd = fds
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        keep = sorted({0, 1, 2, key_fd, result_fd})
        for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")]):
            os.closerange(low + 1, high)
        boot.boot(config_path, key_fd=key_fd, result_fd=result_fd)
    finally:
        os._exit(70)


def main():
    control = socket.socket(fileno=int(sys.argv[1]))
    site_paths = json.loads(sys.argv[2])
    boot = _load_boot(sys.argv[3])
    sys.path[:0] = site_paths
    import pytest  # noqa: F401 - the reason this process exists

    del sys.path[: len(site_paths)]
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_write)  # a child's end wakes the select below at once
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    while True:
        ready = {key.fileobj for key, _ in selector.select()}
        if wake_read in ready:
            while True:
                try:
                    if not os.read(wake_read, 512):
                        break
                except BlockingIOError:
                    break
            _reap(control)
        if control not in ready:
            continue
        message, fds, _, _ = socket.recv_fds(control, 4096, 3)
        if not message:
            break
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            control.sendall(b"pid 0\n")
            continue
        pid = os.fork()
        if pid == 0:
            selector.close()
            control.close()
            _child(boot, message.decode().strip(), fds)
        for fd in fds:
            os.close(fd)
        control.sendall(f"pid {pid}\n".encode())


if __name__ == "__main__":
    main()
