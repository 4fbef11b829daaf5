"""Reading untrusted files and zips for the intake: never through a link, entry by entry, under caps."""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib

from .report import display_name

REFUSED = "archive_refused"


class Refused(Exception):
    """An archive (or a student's folder) that is not read at all: one line for the student."""

    def __init__(self, message: str, status: str = REFUSED):
        super().__init__(message)
        self.status = status


# what reading a zip may raise: refused by a cap, not a zip, corrupt data, an unknown method, encrypted, cut short
ZIP_ERRORS = (Refused, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, ValueError, OSError)


def _too_many(handle, limit: int) -> bool:
    """Whether a zip's central directory lists over ``limit`` entries (or is too big to hold only that many)."""
    try:
        end = zipfile._EndRecData(handle)
    except (OSError, ValueError, AttributeError, IndexError, struct.error):
        return False  # the ZipFile says what is wrong with it
    finally:
        handle.seek(0)
    return bool(end) and (end[zipfile._ECD_ENTRIES_TOTAL] > limit or end[zipfile._ECD_SIZE] > max(limit, 0) * 300)


def _member_parts(info: zipfile.ZipInfo, backslash: bool = True) -> list[str]:
    name = info.filename.replace("\\", "/") if backslash else info.filename
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name) or not parts:
        raise Refused(f"its entry {display_name(info.filename)!r} points outside the archive")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise Refused(f"its entry {display_name(info.filename)!r} is a symbolic link")
    if info.flag_bits & 0x1:
        raise Refused("it is encrypted")
    return parts


def read_at(dir_fd: int, name: str, cap: int) -> bytes:
    """A regular file's first ``cap`` + 1 bytes, never through a symbolic link."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused(f"{display_name(name)} is not a regular file")
        data = bytearray()
        while len(data) <= cap and (chunk := os.read(fd, min(1 << 20, cap + 1 - len(data)))):
            data += chunk
        return bytes(data)
    finally:
        os.close(fd)
