"""nbgrader's collect, taking from the exchange's inbound folder only what its student really handed in.

Every student can write into inbound, and nbgrader's own collect trusts what it finds there: it follows
a link to the instructor's files, takes a folder named after a classmate from anyone (with a warning),
and stops for the whole class at one name it cannot parse. ``TrustedCollect`` leaves such an entry out,
with one warning line naming it and why. An entry is taken when it is a real folder holding only folders
and regular files, its name parses, and its owner is the student it names (or, for a student id with
no account on this machine, the collecting account itself: ``nbgrader submit --student ID``).
The copy itself goes through file descriptors opened without following links, so an entry swapped for a
link after it was checked is refused, not followed: what was checked is what is copied.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import pwd
import shutil
import stat

from nbgrader.exchange import ExchangeError
from nbgrader.exchange.default.collect import ExchangeCollect

REFUSED = "\x00refused"  # no student id has a NUL: a record left out (nbgrader groups records by student id)


class Refused(Exception):
    """An inbound entry that is not taken; the message says why."""


def owner_refusal(info: os.stat_result, student: str) -> str | None:
    """Why a folder with ``info`` cannot be ``student``'s submission; None when it can."""
    try:
        expected = pwd.getpwnam(student).pw_uid
    except KeyError:
        expected = os.getuid()  # no such account: only `submit --student` from the collecting account itself
    return f"belongs to account {info.st_uid}, not to {student}'s" if info.st_uid != expected else None


def refusal(path: str, student: str) -> str | None:
    """Why the inbound entry at ``path``, named for ``student``, is not taken; None when it is."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not stat.S_ISDIR(info.st_mode):
        return "is a link or not a folder"
    if owner_refusal(info, student):
        return owner_refusal(info, student)
    for folder, names, files in os.walk(path):
        for name in names + files:
            mode = os.lstat(os.path.join(folder, name)).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                return f"holds {os.path.relpath(os.path.join(folder, name), path)!r}, a link or special file"
    return None


class TrustedCollect(ExchangeCollect):
    """``nbgrader collect`` that leaves out inbound entries a student could have planted (see the module's docstring)."""

    def _path_to_record(self, path):
        name = os.path.basename(path)
        try:
            record = super()._path_to_record(path)
        except (ExchangeError, ValueError, OverflowError):
            self.log.warning("left out of collect: %r: its name is not <student>+<assignment>+<time>", name)
            return {"username": REFUSED, "filename": name, "timestamp": datetime.datetime.min}
        why = refusal(path, record["username"])
        if why:
            self.log.warning("left out of collect: %r %s", name, why)
            return {"username": REFUSED, "filename": name, "timestamp": datetime.datetime.min}
        return record

    def init_src(self):
        super().init_src()
        self.src_records = [record for record in self.src_records if record["username"] != REFUSED]

    def do_copy(self, src, dest, log=None):
        """Copy ``src`` into ``dest`` through descriptors that follow no link, or leave it out with a warning."""
        try:
            top = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            self.log.warning("left out of collect: %r is a link or not a folder (%s)", os.path.basename(src), exc.strerror)
            return
        try:
            why = owner_refusal(os.fstat(top), os.path.basename(src).rsplit("+", 3)[0])
            if why:
                raise Refused(why)
            self._copy_pinned(top, dest)
        except (Refused, OSError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            self.log.warning("left out of collect: %r %s", os.path.basename(src), exc)
        finally:
            os.close(top)

    def _copy_pinned(self, top: int, dest: str) -> None:
        ignored = list(self.coursedir.ignore)
        file_cap, total_cap, total = 1000 * self.coursedir.max_file_size, 1000 * self.coursedir.max_dir_size, 0
        os.makedirs(dest, exist_ok=True)
        for folder, dirs, files, folder_fd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            dirs[:] = [name for name in dirs if not any(fnmatch.fnmatch(name, pattern) for pattern in ignored)]
            for name in dirs:
                if not stat.S_ISDIR(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode):
                    raise Refused(f"holds {os.path.join(folder, name)!r}, a link")
                os.makedirs(os.path.join(dest, folder, name), exist_ok=True)
            for name in files:
                if any(fnmatch.fnmatch(name, pattern) for pattern in ignored):
                    continue
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
                except OSError as exc:
                    raise Refused(f"holds {os.path.join(folder, name)!r}, a link or special file ({exc.strerror})") from None
                with os.fdopen(fd, "rb") as source:
                    info = os.fstat(source.fileno())
                    if not stat.S_ISREG(info.st_mode):
                        raise Refused(f"holds {os.path.join(folder, name)!r}, a link or special file")
                    if info.st_size > file_cap:
                        self.log.warning("%r: %r is over %d bytes, left out", dest, name, file_cap)
                        continue
                    total += info.st_size
                    if total > total_cap:
                        raise Refused(f"is over {total_cap} bytes")
                    with open(os.path.join(dest, folder, name), "wb") as target:
                        shutil.copyfileobj(source, target)
