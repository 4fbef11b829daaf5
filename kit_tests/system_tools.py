"""Debian programs some kit tests drive (Chromium, tmux): installed with apt-get when missing, or the test skips and says why.

The run's controller starts one ``apt-get install`` in the background as the session starts, so the
download overlaps the other tests; a test that needs a program waits for that install, then tries its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

TOOLS = {"tmux": "tmux", "chromium": "chromium"}  # command: Debian package, the quick one first
PENDING = "COOPKIT_KIT_TESTS_APT_PID"  # the background install's pid, for the workers (they inherit the environment)
INSTALL_SECONDS = 900
# Chromium as root, headless, on a closed network: no sandbox of its own, and no reaching for Google's hosts
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def _can_install() -> bool:
    return shutil.which("apt-get") is not None and os.geteuid() == 0


def _apt_get(package: str) -> list[str]:
    return ["apt-get", "install", "-y", "-q", package]


def start_installing() -> subprocess.Popen | None:
    """In the controller: one background ``apt-get install`` of the missing programs (None when nothing is missing)."""
    missing = [package for command, package in TOOLS.items() if shutil.which(command) is None]
    if not missing or not _can_install():
        return None
    script = "; ".join(" ".join(_apt_get(package)) for package in missing)  # one after the other: a waiting test gets its own soonest
    install = subprocess.Popen(["sh", "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), start_new_session=True)
    os.environ[PENDING] = str(install.pid)
    return install


def _wait_for_background_install(command: str) -> None:
    stat = Path(f"/proc/{os.environ.get(PENDING, '-')}/stat")
    deadline = time.monotonic() + INSTALL_SECONDS
    while time.monotonic() < deadline and shutil.which(command) is None:
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state == "Z":  # finished; the controller reaps it
            return
        time.sleep(0.5)


def tool_or_skip(command: str, why: str) -> str:
    """``command``'s path, installed with apt-get when missing and possible; else the test is skipped and says why."""
    if shutil.which(command) is None:
        _wait_for_background_install(command)
    if shutil.which(command) is None and _can_install():
        subprocess.run(_apt_get(TOOLS[command]), capture_output=True, timeout=INSTALL_SECONDS, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    found = shutil.which(command)
    if found is None:
        pytest.skip(f"{command} is not installed and `apt-get install -y {TOOLS[command]}` could not install it: {why}")
    return found
