"""The grader's side of ``sandbox_zygote``: start it, ask it for sandboxes, learn how they ended."""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


class Zygote:
    """The ``sandbox_zygote`` process of a run: it has pytest imported and forks one sandbox per request."""

    def __init__(self, folder: Path, site_paths: list[str]):
        folder.mkdir()
        for name in ("sandbox_zygote.py", "sandbox_boot.py"):  # copies, so no path into the kit reaches a sandbox
            shutil.copyfile(PACKAGE_DIR / name, folder / name)
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-I", "-S", "-B", str(folder / "sandbox_zygote.py"), str(theirs.fileno()),
                   json.dumps(site_paths), str(folder / "sandbox_boot.py")]
        self.process = subprocess.Popen(command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True, cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        theirs.close()
        self.control = ours
        self.requests = threading.Lock()
        self.replies: queue.Queue[int] = queue.Queue()
        self.changed = threading.Condition()
        self.codes: dict[int, int] = {}
        self.alive = True
        threading.Thread(target=self._read, name="coopkit-zygote", daemon=True).start()

    def _read(self):
        pending = b""
        while True:
            try:
                chunk = self.control.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                kind, pid, *rest = line.decode().split()
                if kind == "pid":
                    self.replies.put(int(pid))
                elif kind == "exit":
                    with self.changed:
                        self.codes[int(pid)] = int(rest[0])
                        self.changed.notify_all()
        with self.changed:
            self.alive = False
            self.changed.notify_all()
        self.replies.put(0)

    def spawn(self, config_path: Path, output: int, key_read: int, result_write: int) -> int:
        """Fork a sandbox; its pid, or 0 when the zygote cannot (the caller starts one the slow way)."""
        with self.requests:
            if not self.alive:
                return 0
            try:
                socket.send_fds(self.control, [str(config_path).encode()], [output, key_read, result_write])
                return self.replies.get(timeout=10)
            except (OSError, queue.Empty):
                return 0

    def exit_code(self, pid: int) -> int | None:
        with self.changed:
            return self.codes.get(pid)

    def wait(self, pid: int, timeout: float) -> int | None:
        with self.changed:
            self.changed.wait_for(lambda: pid in self.codes or not self.alive, timeout)
            return self.codes.pop(pid, None)

    def close(self):
        try:
            self.control.shutdown(socket.SHUT_RDWR)  # wakes the reader thread and tells the zygote to stop
        except OSError:
            pass
        self.control.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ZygoteChild:
    """A sandbox forked by the zygote, with what ``_run_attempt`` uses of a ``Popen``."""

    def __init__(self, zygote: Zygote, pid: int, stdout):
        self.zygote, self.pid, self.stdout = zygote, pid, stdout

    def poll(self):
        return self.zygote.exit_code(self.pid)

    def wait(self, timeout):
        code = self.zygote.wait(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"sandbox {self.pid}", timeout)
        return code
