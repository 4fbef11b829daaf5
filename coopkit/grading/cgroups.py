"""A pids cgroup per sandbox: the bound on processes that holds for root too, and the way to end them all."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

PIDS_MAX = 64


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
                PidsCgroup._sweep(candidate)
                return candidate
        return None

    @staticmethod
    def _sweep(parent: Path) -> None:
        """Empty and remove the cgroups of grading runs that died without cleaning up."""
        for stale in parent.glob("coopkit-*-*"):
            try:
                owner = int(stale.name.split("-")[1])
                os.kill(owner, 0)
                continue  # its grading run is alive
            except ProcessLookupError:
                PidsCgroup(stale).destroy()
            except (ValueError, OSError):
                continue

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
