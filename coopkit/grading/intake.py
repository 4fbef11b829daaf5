"""Step 0 of `coopkit grade-class`: each student's exercise files, however the class handed them in.

A class folder (or an LMS's bulk-download zip) becomes ``{student: folder of <exercise>.py files}`` in a
private scratch folder. A student is a folder (files at any depth), a zip, a notebook (solution cells
by nbgrader grade_id, read as the Gradescope upload reads them), Canvas's flat
``<name>_[LATE_]<userid>_<subid>_<file>`` files, or Moodle's ``<Full Name>_<id>_assignsubmission_file_``
folder (or flat files). All of it is hostile: nothing is opened through a symbolic link (O_NOFOLLOW),
archives are read entry by entry with caps on entries, depth, sizes and nesting, no name becomes a
path outside the scratch folder, and the originals are only read. A problem costs its student only:
a status and one line saying what was wrong and how to hand it in.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..gradescope.upload import UploadProblem, notebook_modules
from ..instructor.report import file_label
from ..notebook import NOTEBOOK_BYTES
from .archives import ZIP_ERRORS, Refused, _member_parts, _too_many, read_at
from .precheck import MAX_SOURCE_BYTES, NOT_A_FILE
from .report import display_name

# a student's intake status: FOUND something to grade, or why not
FOUND, NOTHING, REFUSED, CROWDED = "found", "nothing_gradable", "archive_refused", "too_many_files"
UNREADABLE, NOTEBOOK, TWICE = "unreadable", "notebook_unreadable", "handed_in_twice"

MAX_ENTRIES = 2000              # files, folders and archive entries looked at, per student
MAX_DEPTH = 8                   # folders deep, archives included
MAX_NESTING = 2                 # a zip inside a zip, at most
MAX_ARCHIVE = MAX_UNPACKED = 64 * 1024 * 1024  # one zip file; everything read out of a student's archives
MAX_NOTEBOOKS = 5
SKIPPED_DIRS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git"}
CANVAS = re.compile(r"^(?P<who>[^_/]+?)(?:_LATE)?_(?P<id>\d+)_\d+_(?P<file>.+)$", re.DOTALL)
MOODLE = re.compile(r"^(?P<who>.+?_\d+)_assignsubmission_[a-z]+_(?P<file>.*)$", re.DOTALL)  # a folder, or flat files
RESUBMITTED = re.compile(r"^(?P<stem>.+?)(?:-\d+)?\.py$", re.DOTALL)  # Canvas renames a second runner.py runner-1.py


@dataclass
class Intake:
    """One student's gradable files (``folder``), and what the intake says about them."""

    folder: Path
    status: str = FOUND
    message: str = ""


@dataclass
class _Collector:
    exercises: frozenset
    seen: int = 0
    unpacked: int = 0
    read: int = 0                                 # bytes read from folders and flat files
    best: dict = field(default_factory=dict)      # (exercise, folder): index in files of the one file kept in memory
    files: list = field(default_factory=list)     # (kind, key, depth, shown, bytes)
    others: list = field(default_factory=list)    # shown names of files that are not an exercise
    problems: list = field(default_factory=list)  # (status, one line)

    def count(self, n: int = 1) -> None:
        self.seen += n
        if self.seen > MAX_ENTRIES:
            raise Refused(f"over {MAX_ENTRIES} files and folders: hand in only the exercise files (or one notebook)", CROWDED)

    def add(self, name: str, shown: str, depth: int, nesting: int, read) -> None:
        stem = RESUBMITTED.match(name)
        if stem and stem["stem"] in self.exercises:
            self.candidate(stem["stem"], shown, depth, read)
        elif name.endswith(".ipynb") and sum(f[0] == "nb" for f in self.files) < MAX_NOTEBOOKS:
            self.files.append(("nb", name, depth, shown, read(NOTEBOOK_BYTES)))  # too big: notebook_modules says so
        elif name.lower().endswith(".zip") and nesting < MAX_NESTING:
            self.archive(read(MAX_ARCHIVE), shown, depth, nesting + 1)
        else:
            self.others.append(shown)

    def candidate(self, exercise: str, shown: str, depth: int, read) -> None:
        """An exercise file: counted for its folder, but read only if it beats the one kept from that folder."""
        where = (exercise, str(PurePosixPath(shown).parent))
        index = self.best.get(where)
        kept = self.files[index] if index is not None and index < len(self.files) else None
        if kept is not None and (kept[0], kept[1], str(PurePosixPath(kept[3]).parent)) == ("py", *where) and kept[4] is not None:
            if (kept[2], kept[3]) <= (depth, shown):
                self.files.append(("py", exercise, depth, shown, None))  # never chosen: its folder's better one is
                return
            self.files[index] = kept[:4] + (None,)
        self.best[where] = len(self.files)
        self.files.append(("py", exercise, depth, shown, read(MAX_SOURCE_BYTES + 1)))  # too big: precheck says so

    def read_at(self, dir_fd: int, name: str, cap: int) -> bytes:
        """``read_at``, within the student's byte budget."""
        data = read_at(dir_fd, name, cap)
        self.read += len(data)
        if self.read > MAX_UNPACKED:
            raise Refused(f"its files hold over {MAX_UNPACKED // 2**20} MB: hand in only the exercise files (or one notebook)", CROWDED)
        return data

    def folder(self, dir_fd: int, shown: str, depth: int) -> None:
        entries = []
        with os.scandir(dir_fd) as listing:
            for entry in listing:
                self.count()
                entries.append(entry)
        for entry in sorted(entries, key=lambda e: e.name):
            path = f"{shown}{entry.name}"
            if entry.is_symlink():
                self.problems.append((NOT_A_FILE, f"{display_name(path)} is a symbolic link, so it was not read"))
            elif entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED_DIRS and depth < MAX_DEPTH:
                    self.guarded(path, lambda name=entry.name, path=path: self.subfolder(dir_fd, name, path + "/", depth + 1))
            elif entry.is_file(follow_symlinks=False):
                self.guarded(path, lambda name=entry.name, path=path: self.add(name, path, depth, 0, lambda cap: self.read_at(dir_fd, name, cap)))

    def guarded(self, path: str, read) -> None:
        """``read()``; a file or folder that cannot be read is skipped, with a line saying so."""
        try:
            read()
        except OSError as exc:
            self.problems.append((UNREADABLE, f"{display_name(path)} cannot be read ({exc.strerror or type(exc).__name__}), so it was skipped"))

    def subfolder(self, dir_fd: int, name: str, shown: str, depth: int) -> None:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
        try:
            self.folder(fd, shown, depth)
        finally:
            os.close(fd)

    def archive(self, data: bytes, shown: str, depth: int, nesting: int) -> None:
        """A zip's entries, as if it were a folder; a bad zip adds nothing and one problem line."""
        mark = (len(self.files), len(self.others))
        try:
            if len(data) > MAX_ARCHIVE:
                raise Refused(f"it is over {MAX_ARCHIVE // 2**20} MB")
            if _too_many(io.BytesIO(data), MAX_ENTRIES - self.seen):
                self.count(MAX_ENTRIES + 1)  # refused before a listing of its entries is built
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                self.count(len(infos))
                for info in infos:
                    parts = _member_parts(info)
                    if not info.is_dir() and not SKIPPED_DIRS & set(parts) and len(parts) + depth <= MAX_DEPTH:
                        self.add(parts[-1], f"{shown}/{'/'.join(parts)}", depth + len(parts), nesting,
                                 lambda cap, info=info: self.member(archive, info, cap))
        except ZIP_ERRORS as exc:
            del self.files[mark[0]:], self.others[mark[1]:]
            why = f"was not opened: {exc}" if isinstance(exc, Refused) else f"cannot be unzipped ({type(exc).__name__}: {' '.join(str(exc).split())[:100]})"
            self.problems.append((getattr(exc, "status", REFUSED), f"{display_name(shown)} {why}; zip your folder again with a plain zip tool"))

    def member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
        """An entry's bytes, at most ``cap`` + 1 of them, whatever its header claims."""
        with archive.open(info) as stream:
            data = stream.read(cap + 1)
        self.unpacked += len(data)
        if len(data) > cap or self.unpacked > MAX_UNPACKED:
            limit = f"{cap // 1024} KB" if len(data) > cap else f"{MAX_UNPACKED // 2**20} MB in all"
            raise Refused(f"{display_name(info.filename)} unpacks to over {limit} (a zip bomb?)")
        return data


def _owner(name: str) -> tuple[str, bool] | None:
    """``(entry of the class folder, whether it is a folder)`` a bulk entry belongs to; None when it is nobody's."""
    parts = name.split("/")
    if name.startswith("/") or parts[0] in ("", ".", "..") or re.match(r"^[A-Za-z]:", name):
        return None
    return parts[0], len([part for part in parts if part]) > 1 or name.endswith("/")


def unpack_bulk(archive: Path, dest: Path) -> tuple[Path, dict[str, tuple[bool, str]]]:
    """A bulk-download zip as the class folder ``dest``: .py, .ipynb, .zip entries capped, others empty; or ``Refused``.

    Also ``{entry of dest: (whether a folder, why)}``: entries that were not unpacked, each its own student's problem.
    Names are taken as they are (a backslash is a character of a name, as on the LMS's server).
    """
    total, refused = 0, {}
    with archive.open("rb") as handle:
        if _too_many(handle, MAX_ENTRIES * 50):
            raise Refused(f"{display_name(archive.name)} has over {MAX_ENTRIES * 50} entries: unzip it and grade the folder")
        with zipfile.ZipFile(handle) as bulk:
            for info in bulk.infolist():
                owner = _owner(info.filename)
                try:
                    parts, data = _member_parts(info, backslash=False), b""
                    if owner is None:
                        raise Refused(f"its entry {display_name(info.filename)!r} points outside the archive")
                    if not info.is_dir() and parts[-1].lower().endswith((".py", ".ipynb", ".zip")):
                        with bulk.open(info) as source:
                            data = source.read(MAX_ARCHIVE + 1)  # too big: the intake says so, for this student only
                except ZIP_ERRORS as exc:
                    if owner is None:
                        raise
                    why = str(exc) if isinstance(exc, Refused) else f"its entry {display_name(info.filename)!r} cannot be unzipped ({type(exc).__name__})"
                    refused.setdefault(owner[0], (owner[1], f"the LMS download {why}"))
                    continue
                target = dest.joinpath(*parts)  # the parts hold no "..", "/" or drive, and dest is new: it stays inside
                total += len(data)
                if total > MAX_UNPACKED * 50:
                    raise Refused(f"{display_name(archive.name)} unpacks to over {MAX_UNPACKED * 50 // 2**30} GB: unzip it and grade the folder")
                try:
                    (target if info.is_dir() else target.parent).mkdir(parents=True, exist_ok=True)
                    if not info.is_dir():
                        with target.open("xb") as sink:
                            sink.write(data)
                except (OSError, ValueError):
                    continue  # a name this system cannot hold, or held twice: that entry only
    dest.mkdir(parents=True, exist_ok=True)
    return dest, refused


def _lms(name: str, is_dir: bool) -> dict[str, tuple[str, str, int]]:
    """``{lms: (student, file, length of the LMS's prefix)}``: how each LMS's own naming reads this entry."""
    found = {}
    canvas, moodle = CANVAS.match(name), MOODLE.match(name)
    if canvas and not is_dir:  # Canvas downloads only flat files
        found["canvas"] = (f"{canvas['who']}_{canvas['id']}", canvas["file"], len(name) - len(canvas["file"]))
    if moodle and is_dir == (not moodle["file"]):  # Moodle: a folder per student, or flat files
        found["moodle"] = (moodle["who"], moodle["file"], len(name) - len(moodle["file"]))
    return found


def layout(names: list[tuple[str, bool]]) -> set[str]:
    """The LMS naming of the whole class folder, from the entries only one LMS can have named.

    A student names their uploads, not the LMS's prefix before them: so one LMS's entries that another LMS
    could also have named never decide, and in a Canvas (or Moodle) download only Canvas's (Moodle's) naming applies.
    """
    readings = [_lms(name, is_dir) for name, is_dir in names]
    only = {next(iter(read)) for read in readings if len(read) == 1}
    return only or {lms for read in readings for lms in read}


def student_of(name: str, is_dir: bool, lms: set[str]) -> tuple[str, str] | None:
    """``(student, file)`` of an entry in the class folder's LMS naming ``lms``; None when it is no LMS's entry."""
    readings = [reading for key, reading in _lms(name, is_dir).items() if key in lms]
    if not readings:
        return None
    who, file, _ = min(readings, key=lambda reading: reading[2])  # the prefix at the start of the name is the LMS's
    return who, file


def students(root: Path, ignore: set[str], refused: dict | None = None) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """``({student: [(entry of root, name of the file in it)]}, entries that are nobody's)``.

    ``refused`` (from ``unpack_bulk``) adds entries that were not unpacked, so their student is named.
    """
    listing = {entry.name: entry.is_dir(follow_symlinks=False) or entry.is_symlink() for entry in os.scandir(root)
               if entry.is_dir(follow_symlinks=False) or entry.is_symlink() or entry.is_file(follow_symlinks=False)}
    others = sorted(entry.name for entry in os.scandir(root) if entry.name not in listing)
    lms = layout([(name, is_dir) for name, is_dir in listing.items() if name not in ignore])
    for name, (is_dir, _) in (refused or {}).items():
        listing.setdefault(name, is_dir)
    found: dict[str, list[tuple[str, str]]] = {}
    skipped = []
    for name in sorted(set(listing) | set(others)):
        is_dir = listing.get(name)
        reading = student_of(name, bool(is_dir), lms) if is_dir is not None else None
        if name in ignore:
            skipped.append(name)
        elif is_dir:
            found.setdefault(reading[0] if reading else name, []).append((name, ""))
        elif reading:
            found.setdefault(reading[0], []).append((name, reading[1]))
        elif is_dir is not None and name.lower().endswith((".zip", ".ipynb")):
            found.setdefault(name.rsplit(".", 1)[0], []).append((name, name))
        else:
            skipped.append(name)
    return found, skipped


def gather(root: Path, scratch: Path, kit, ignore: set[str], refused: dict | None = None) -> tuple[dict[str, Intake], list[str]]:
    """``({student: Intake}, entries of root that are no student's)``: every student found gets an Intake."""
    refused = refused or {}
    found, skipped = students(root, ignore, refused)
    exercises = frozenset(exercise.name for exercise in kit.manifest.exercises)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        intakes = {}
        for index, (student, entries) in enumerate(sorted(found.items())):
            (scratch / str(index)).mkdir(parents=True)
            folder = scratch / str(index)
            own = [entry for entry, as_name in entries if as_name in ("", entry)]  # a folder, zip or notebook: not an LMS's file
            bad = next((refused[entry][1] for entry, _ in entries if entry in refused), None)
            if bad:
                intakes[student] = Intake(folder, REFUSED, f"the submission was not read: {bad}")
            elif own and len(entries) > 1:
                names = ", ".join(display_name(entry) + ("/" if not as_name else "") for entry, as_name in entries[:4])
                intakes[student] = Intake(folder, TWICE, f"handed in more than once ({names}), so nothing was read: keep one of them and grade again")
            else:
                intakes[student] = _one(root_fd, entries, folder, kit, _Collector(exercises))
        return intakes, skipped
    finally:
        os.close(root_fd)


def _one(root_fd: int, entries: list[tuple[str, str]], folder: Path, kit, seen: _Collector) -> Intake:
    try:
        for entry, as_name in entries:
            if as_name:
                seen.count()
                seen.add(as_name, as_name, 0, 0, lambda cap, entry=entry: seen.read_at(root_fd, entry, cap))
                continue
            try:
                seen.subfolder(root_fd, entry, "", 0)
            except OSError:
                return Intake(folder, NOT_A_FILE, "the submission folder is a symbolic link or cannot be opened, so nothing in it was read: hand in a plain folder")
    except Refused as exc:
        return Intake(folder, exc.status, f"the submission was not read: {exc}")
    except (OSError, RecursionError, ValueError) as exc:
        return Intake(folder, UNREADABLE, f"the submission cannot be read ({type(exc).__name__}): hand in a plain folder or zip of your files")
    return _write(seen, folder, kit)


def _write(seen: _Collector, folder: Path, kit) -> Intake:
    """Choose each exercise's file (the folder with the most of them, then the shallowest) and write it to ``folder``."""
    notes = [line for _, line in seen.problems]
    python = [f for f in seen.files if f[0] == "py"]
    where = [str(PurePosixPath(f[3]).parent) for f in python]
    chosen = {}
    for kind, key, depth, shown, data in sorted(python, key=lambda f: (-where.count(str(PurePosixPath(f[3]).parent)), f[2], f[3])):
        if data is not None:  # None: a file beaten by another of its folder, never kept
            chosen.setdefault(key, (shown, data))
    for exercise, (shown, data) in chosen.items():
        (folder / f"{exercise}.py").write_bytes(data)
    places = sorted({str(PurePosixPath(shown).parent) for shown, _ in chosen.values()} - {"."})
    if places:
        notes.insert(0, f"files found in {', '.join(display_name(p) + '/' for p in places[:3])}")
    if not chosen:
        read, problem = _notebooks(seen, folder, kit, chosen)
        notes = read + notes
        if problem and not chosen:
            return Intake(folder, NOTEBOOK, "; ".join(notes))
    if chosen or seen.problems:
        return Intake(folder, FOUND if chosen else seen.problems[0][0], "; ".join(notes))
    others = ", ".join(display_name(name) for name in seen.others[:3]) + (", ..." if len(seen.others) > 3 else "")
    return Intake(folder, NOTHING, f"no exercise file and no notebook found ({f'only {others}' if others else 'the submission is empty'})")


def _notebooks(seen: _Collector, folder: Path, kit, chosen: dict) -> tuple[list[str], bool]:
    """Read the notebooks (the course's own first): ``(notes, whether one could not be read)``."""
    course = {part.notebook for part in kit.manifest.assignments}
    books = sorted((f for f in seen.files if f[0] == "nb"), key=lambda f: (f[1] not in course, f[2], f[3]))
    notes, problem = [], False
    for index, (_, name, _, shown, data) in enumerate(books):
        path = folder / "notebooks" / str(index) / f"{file_label(name.removesuffix('.ipynb'))}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        try:
            modules = notebook_modules(path, kit, None)
        except UploadProblem as exc:
            notes.append(str(exc).replace(display_name(path.name), display_name(shown)))
            problem = True
            continue
        used = [exercise for exercise in modules if exercise not in chosen]
        for exercise in used:
            chosen[exercise] = (shown, modules[exercise].encode("utf-8", "replace"))
            (folder / f"{exercise}.py").write_bytes(chosen[exercise][1])
        if used:
            notes.append(f"graded the notebook {display_name(shown)}")
    return notes, problem
