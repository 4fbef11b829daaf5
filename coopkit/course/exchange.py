"""nbgrader's collect, taking from the exchange's inbound folder only what its student really handed in.

Every student can write into inbound, and nbgrader's own collect trusts what it finds there: it follows
a link to the instructor's files, takes a folder named after a classmate from anyone (with a warning),
and stops for the whole class at one name it cannot parse. ``TrustedCollect`` leaves such an entry out,
with one warning line naming it and why. An entry is taken when it is a real folder holding only folders
and regular files, its name parses, and its owner is the student it names (or, for a student id with
no account on this machine, the collecting account itself: ``nbgrader submit --student ID``).
"""

from __future__ import annotations

import datetime
import os
import pwd
import stat

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange import ExchangeError

REFUSED = "\x00refused"  # no student id has a NUL: a record left out (nbgrader groups records by student id)


def refusal(path: str, student: str) -> str | None:
    """Why the inbound entry at ``path``, named for ``student``, is not taken; None when it is."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not stat.S_ISDIR(info.st_mode):
        return "is a link or not a folder"
    try:
        expected = pwd.getpwnam(student).pw_uid
    except KeyError:
        expected = os.getuid()  # no such account: only `submit --student` from the collecting account itself
    if info.st_uid != expected:
        return f"belongs to account {info.st_uid}, not to {student}'s"
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
