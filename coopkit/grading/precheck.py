"""Step 2: pre-check each submitted file, outside any sandbox, without trusting it.

Files are opened without following symbolic links (the folder too), must be
regular files, and are read with a size cap. Then the bytes must decode as
Python source does (a BOM or a coding cookie is fine), parse, and differ from
the stub. Anything else gets a status and a one-line message, and costs only
that exercise.
"""

from __future__ import annotations

import ast
import errno
import functools
import importlib.util
import os
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_SOURCE_BYTES = 512 * 1024

MISSING = "missing"
NOT_A_FILE = "not_a_regular_file"
EMPTY = "empty"
TOO_LARGE = "too_large"
UNDECODABLE = "undecodable"
SYNTAX_ERROR = "syntax_error"
STUB = "unmodified_stub"
GRADED = "graded"
ERROR = "grader_error"


@dataclass(frozen=True)
class Checked:
    status: str
    message: str = ""
    raw: bytes | None = None


def open_folder(folder: Path) -> int | None:
    """A descriptor for a submission folder that is a real folder, not a link (None otherwise)."""
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None


def read_file(folder_fd: int | None, name: str) -> Checked:
    """The bytes of ``name`` in the folder, if it is a regular file no larger than the cap."""
    if folder_fd is None:
        return Checked(NOT_A_FILE, f"{name} cannot be read: the submission folder is a link or not a folder. Submit a plain folder of .py files.")
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except FileNotFoundError:
        return Checked(MISSING, f"{name} is missing: nothing to grade. Put your {name} in the submission folder.")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Checked(NOT_A_FILE, f"{name} is a symbolic link, not a file: it scores 0. Submit the file itself.")
        return Checked(MISSING, f"{name} cannot be read ({exc.strerror}). Submit it as a plain file.")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            return Checked(NOT_A_FILE, f"{name} is {kind}: it scores 0. Submit the Python file itself.")
        if info.st_size > MAX_SOURCE_BYTES:
            return Checked(TOO_LARGE, f"{name} is {info.st_size // 1024} KB; the limit is {MAX_SOURCE_BYTES // 1024} KB. Submit the source file only.")
        chunks, total = [], 0
        while total <= MAX_SOURCE_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_SOURCE_BYTES:
            return Checked(TOO_LARGE, f"{name} is over {MAX_SOURCE_BYTES // 1024} KB. Submit the source file only.")
        return Checked(GRADED, "", b"".join(chunks))
    except OSError as exc:
        return Checked(MISSING, f"{name} cannot be read ({exc.strerror}). Submit it as a plain file.")
    finally:
        os.close(fd)


def check_source(name: str, raw: bytes, stub: str | None) -> Checked:
    """Is ``raw`` worth running? GRADED with the bytes, or a status that explains why not."""
    try:
        text = importlib.util.decode_source(raw)
    except (UnicodeError, SyntaxError, LookupError, ValueError) as exc:  # a coding line may name any codec
        where = f" (byte 0x{raw[exc.start]:02x} at offset {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
        return Checked(UNDECODABLE, f"{name} is not readable text{where}. Save it as UTF-8.")
    if not text.strip():
        return Checked(EMPTY, f"{name} is empty: nothing to grade.")
    try:
        tree = ast.parse(text, name)
    except SyntaxError as exc:
        return Checked(SYNTAX_ERROR, f"{name} has a syntax error at line {exc.lineno}: {exc.msg}. Python cannot run the file.")
    except (ValueError, RecursionError, MemoryError) as exc:
        return Checked(SYNTAX_ERROR, f"{name} cannot be read as Python ({type(exc).__name__}).")
    if stub is not None and ast.dump(tree) == _tree_dump(stub):
        return Checked(STUB, f"{name} is the unmodified stub: nothing written yet.")
    return Checked(GRADED, "", raw)


@functools.lru_cache(maxsize=64)
def _tree_dump(source: str) -> str | None:
    """``ast.dump`` of a stub's code, made once per stub (None if it does not parse)."""
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError:
        return None


def precheck(folder: Path, names: list[str], stubs: dict[str, str]) -> dict[str, Checked]:
    """``{exercise: Checked}`` for every exercise of a submission folder."""
    folder_fd = open_folder(folder)
    try:
        checked = {}
        for exercise in names:
            found = read_file(folder_fd, f"{exercise}.py")
            if found.status == GRADED:
                try:
                    found = check_source(f"{exercise}.py", found.raw, stubs.get(exercise))
                except Exception as exc:  # noqa: BLE001 - whatever a file holds, it costs only its own exercise
                    found = Checked(UNDECODABLE, f"{exercise}.py cannot be read as Python text ({type(exc).__name__}). Save it as UTF-8.")
            checked[exercise] = found
        return checked
    finally:
        if folder_fd is not None:
            os.close(folder_fd)
