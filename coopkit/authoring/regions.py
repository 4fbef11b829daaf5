"""Marked regions in source files: ``### BEGIN SOLUTION`` and ``### BEGIN HIDDEN TESTS``.

The one place that understands the markers (the same ones nbgrader uses).
Regions may not nest, must be closed, and keep their indentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SOLUTION = "SOLUTION"
HIDDEN = "HIDDEN TESTS"
_MARKER = re.compile(r"^(?P<indent>\s*)### (?P<edge>BEGIN|END) (?P<kind>SOLUTION|HIDDEN TESTS)\s*$")


class RegionError(ValueError):
    """A malformed region: nested, unterminated, or an END without a BEGIN."""


@dataclass(frozen=True)
class Region:
    kind: str
    indent: str
    start: int  # index of the BEGIN line
    end: int  # index of the END line
    body: tuple[str, ...]


def find_regions(source: str, name: str = "<source>") -> list[Region]:
    """Every marked region of ``source``, in order; raises RegionError when malformed."""
    lines = source.splitlines()
    regions, open_ = [], None
    for index, line in enumerate(lines):
        match = _MARKER.match(line)
        if not match:
            continue
        kind, edge, indent = match["kind"], match["edge"], match["indent"]
        if edge == "BEGIN":
            if open_ is not None:
                raise RegionError(f"{name}:{index + 1}: BEGIN {kind} inside the {open_[0]} region opened at line {open_[1] + 1}; regions cannot nest")
            open_ = (kind, index, indent)
        else:
            if open_ is None or open_[0] != kind:
                raise RegionError(f"{name}:{index + 1}: END {kind} without a matching BEGIN {kind}")
            regions.append(Region(kind, open_[2], open_[1], index, tuple(lines[open_[1] + 1 : index])))
            open_ = None
    if open_ is not None:
        raise RegionError(f"{name}:{open_[1] + 1}: BEGIN {open_[0]} is never closed with END {open_[0]}")
    return regions


def replace_regions(source: str, kind: str, replace, name: str = "<source>") -> str:
    """``source`` with each ``kind`` region swapped for ``replace(region, lines_before)`` (a list of lines)."""
    lines = source.splitlines()
    out, cursor = [], 0
    for region in find_regions(source, name):
        if region.kind != kind:
            continue
        out.extend(lines[cursor : region.start])
        out.extend(replace(region, lines[: region.start]))
        cursor = region.end + 1
    out.extend(lines[cursor:])
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def drop_markers(source: str, name: str = "<source>") -> str:
    """The reference text: every region kept, only the marker lines removed."""
    find_regions(source, name)  # validate
    kept = [line for line in source.splitlines() if not _MARKER.match(line)]
    return "\n".join(kept) + ("\n" if source.endswith("\n") else "")


def remove_hidden(source: str, name: str = "<source>") -> str:
    """The public view of a test suite: hidden regions removed, with the blank lines before them."""
    def drop(region, before):
        return []

    text = replace_regions(source, HIDDEN, drop, name)
    return re.sub(r"\n{3,}\Z", "\n", text.rstrip("\n") + "\n\n\n").rstrip("\n") + "\n"


_DEF = re.compile(r"^(?P<indent>\s*)(async\s+)?def\s+(?P<name>\w+)")


def enclosing_function(before: list[str], indent: str) -> str | None:
    """The function a region at ``indent`` sits in: the nearest less-indented line above must be its ``def``."""
    for line in reversed(before):
        if line.strip() and len(line) - len(line.lstrip()) < len(indent):
            match = _DEF.match(line)
            return match["name"] if match else None
    return None


def stub_out(source: str, name: str = "<source>") -> str:
    """The student's stub: each solution region becomes a TODO and ``raise NotImplementedError``.

    Regions must sit inside a function body, so the stub still imports.
    """
    def todo(region, before):
        function = enclosing_function(before, region.indent)
        if function is None:
            raise RegionError(f"{name}:{region.start + 1}: a SOLUTION region must sit inside a function body")
        return [
            f"{region.indent}# TODO: write {function}() here; the docstring above says what it must do.",
            f'{region.indent}raise NotImplementedError("{function}() is not written yet")',
        ]

    return replace_regions(source, SOLUTION, todo, name)
