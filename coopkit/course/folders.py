"""The course's folders and its nbgrader exchange: who may own them, and with which modes.

The course holds the solutions, the gradebook and every submission, and its config runs as the
instructor; the exchange is where students hand in. Neither may sit where another account could
swap it: each folder, and every folder above it (as written and as links resolve), belongs to this
account or root and is writable by no one else unless sticky (as /tmp is).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .workers import CourseError

COURSE_ID = "coopkit"
COURSE_MODE = 0o700  # solutions, gradebook and submissions: the instructor's alone
# The exchange as nbgrader's release makes it, so formgrader finds it: sticky and open at the root (every user
# may fetch and submit, none may remove another's entry), the course's own folders the instructor's (outbound
# readable, inbound write-only and set-group-id). Inside the 700 course it serves the instructor's account.
EXCHANGE_MODES = {"": 0o1777, COURSE_ID: 0o755, f"{COURSE_ID}/outbound": 0o755, f"{COURSE_ID}/inbound": 0o2733}


def untrusted_folder(folder: Path) -> str | None:
    """Why ``folder`` or a folder above it lets another account swap what it holds; None when none does.

    Each, as written and as its links resolve, must be owned by this account or root, and writable by no
    one else unless sticky (as /tmp is).
    """
    folder = Path(folder).absolute()
    for current in dict.fromkeys([*reversed(folder.parents), folder, *reversed(folder.resolve().parents), folder.resolve()]):
        if not os.path.lexists(current):
            continue
        info = current.lstat()
        if info.st_uid not in (os.getuid(), 0):
            return f"{current} belongs to another account (uid {info.st_uid})"
        if info.st_mode & 0o022 and not info.st_mode & 0o1000 and not stat.S_ISLNK(info.st_mode):
            return f"{current} is writable by other accounts"
    return None


def _foreign(path: Path) -> str | None:
    """Why ``path``, which exists, is not this account's own folder; None when it is."""
    if path.is_symlink():
        return f"{path} is a link"
    owner = path.lstat().st_uid
    return f"{path} belongs to another account (uid {owner})" if owner != os.getuid() else None


def make_exchange(root: Path) -> None:
    """An nbgrader exchange at ``root`` with nbgrader's modes, all this account's (``CourseError`` when it cannot be).

    The root stays closed (700) while its folders are made and their owners checked, and opens last.
    """
    root = Path(root).absolute()
    why = untrusted_folder(root.parent)
    if not why:
        root.mkdir(exist_ok=True)
        why = _foreign(root)
    if not why:
        root.chmod(0o700)
        for relative in EXCHANGE_MODES:
            (root / relative).mkdir(exist_ok=True)
        why = next(filter(None, (_foreign(root / relative) for relative in EXCHANGE_MODES)), None)
    if why:
        raise CourseError(f"{why}, and whoever controls it could read or rewrite what students hand in: make the exchange in a new folder of your own")
    for relative, mode in reversed(EXCHANGE_MODES.items()):  # the root, open to all, last
        (root / relative).chmod(mode)
