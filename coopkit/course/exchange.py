"""nbgrader's collect, taking from the exchange's inbound folder only what its student really handed in.

Every student can write into inbound, and nbgrader's own collect trusts what it finds there: it follows
a link to the instructor's files, takes a folder named after a classmate from anyone (with a warning),
and stops for the whole class at one name it cannot parse. ``TrustedCollect`` leaves such an entry out,
with one warning line naming it and why. An entry is taken when its name parses and it is a real folder
holding only folders and regular files, all owned by the student it names (or, for a student id with no
account on this machine, by the collecting account itself: ``nbgrader submit --student ID``), at most
``MAX_DEPTH`` deep and ``MAX_ENTRIES`` long. One walk through file descriptors opened without following
links both checks and copies, so an entry swapped for a link after its check is refused, not followed.
The collected ``timestamp.txt`` is the time of the entry's name (which parsed), never the student's file.
Collect refuses an inbound folder another account owns: whoever owns it can read and rewrite everyone's work.
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
MAX_DEPTH = 12
MAX_ENTRIES = 500  # and so at most this many folders open at once, well under the usual 1024 descriptors
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class Refused(Exception):
    """An inbound entry that is not taken; the message says why."""


def expected_owner(student: str) -> int:
    """The account that must own ``student``'s entry: theirs, or the collecting one for an id with no account."""
    try:
        return pwd.getpwnam(student).pw_uid
    except KeyError:
        return os.getuid()


def walk_entry(path: str, student: str, copy=None) -> None:
    """Check the inbound entry at ``path`` (``Refused`` says why it is not taken); ``copy(relative, source)``
    gets each regular file (an open binary file), and each folder with ``source`` None, parents first."""
    try:
        top = os.open(path, DIRECTORY)
    except OSError as exc:
        raise Refused(f"is a link or not a folder ({exc.strerror})") from None
    owner, opened, entries = expected_owner(student), [top], 0
    try:
        pending = [(top, "", 0)]
        while pending:
            folder, relative, depth = pending.pop()
            if os.fstat(folder).st_uid != owner:
                raise Refused(f"holds {relative or '.'!r}, which belongs to account {os.fstat(folder).st_uid}, not to {student}'s")
            for name in sorted(os.listdir(folder)):
                entries += 1
                if entries > MAX_ENTRIES or depth >= MAX_DEPTH:
                    raise Refused(f"holds more than {MAX_ENTRIES} entries or folders deeper than {MAX_DEPTH}")
                inner = f"{relative}/{name}" if relative else name
                info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    child = os.open(name, DIRECTORY, dir_fd=folder)
                    opened.append(child)
                    if copy:
                        copy(inner, None)
                    pending.append((child, inner, depth + 1))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    raise Refused(f"holds {inner!r}, a link or special file")
                with os.fdopen(os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder), "rb") as source:
                    info = os.fstat(source.fileno())
                    if not stat.S_ISREG(info.st_mode) or info.st_uid != owner:
                        raise Refused(f"holds {inner!r}, a special file or one that is not {student}'s")
                    if copy:
                        copy(inner, source)
            opened.remove(folder)
            os.close(folder)
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    finally:
        for fd in opened:
            os.close(fd)


class TrustedCollect(ExchangeCollect):
    """``nbgrader collect`` that leaves out inbound entries a student could have planted (see the module's docstring)."""

    def _path_to_record(self, path):
        name = os.path.basename(path)
        try:
            record = super()._path_to_record(path)
            walk_entry(path, record["username"])
        except (ExchangeError, ValueError, OverflowError):
            return self._refuse(name, "its name is not <student>+<assignment>+<time>")
        except Refused as why:
            return self._refuse(name, str(why))
        return record

    def _refuse(self, name: str, why: str) -> dict:
        self.log.warning("left out of collect: %r %s", name, why)
        return {"username": REFUSED, "filename": name, "timestamp": datetime.datetime.min}

    def init_src(self):
        inbound = os.path.join(self.root, self.coursedir.course_id, "inbound")
        if os.path.lexists(inbound) and os.lstat(inbound).st_uid != os.getuid():
            self.fail(f"{inbound} belongs to account {os.lstat(inbound).st_uid}, who can read and rewrite every submission in it: "
                      "make the exchange anew with `coopkit nbgrader exchange DIR`")
        super().init_src()
        self.src_records = [record for record in self.src_records if record["username"] != REFUSED]

    def copy_files(self):
        self.check_owner = False  # the walk checks every owner; nbgrader's check would stat an entry a student removed
        super().copy_files()

    def do_copy(self, src, dest, log=None):
        """Copy ``src`` into ``dest`` through the checking walk, or leave it out with a warning."""
        name = os.path.basename(src)
        student, _, stamp = name.rsplit("+", 3)[:3]
        ignored, file_cap, total_cap = list(self.coursedir.ignore), 1000 * self.coursedir.max_file_size, 1000 * self.coursedir.max_dir_size
        written = [0]

        def copy(relative, source):
            if relative.split("/")[0] == "timestamp.txt" or any(fnmatch.fnmatch(part, pattern) for part in relative.split("/") for pattern in ignored):
                return  # the collected timestamp.txt is written from the entry's name below
            target = os.path.join(dest, relative)
            if source is None:
                os.makedirs(target, exist_ok=True)
                return
            size = os.fstat(source.fileno()).st_size
            if size > file_cap:
                self.log.warning("%r: %r is over %d bytes, left out", name, relative, file_cap)
                return
            with open(target, "wb") as out:
                while chunk := source.read(min(1 << 20, size + 1)):  # never more than its checked size
                    size -= len(chunk)
                    written[0] += len(chunk)
                    if size < 0 or written[0] > total_cap:
                        raise Refused(f"is over {total_cap} bytes or grew while it was copied")
                    out.write(chunk)

        try:
            os.makedirs(dest, exist_ok=True)
            walk_entry(src, student, copy)
            with open(os.path.join(dest, "timestamp.txt"), "w", encoding="utf-8") as out:
                out.write(stamp)  # the time its name gave, which parsed: a student's own file could stop later collects
        except (Refused, OSError) as why:
            shutil.rmtree(dest, ignore_errors=True)
            self.log.warning("left out of collect: %r %s", name, why)
