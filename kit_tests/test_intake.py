"""`coopkit grade-class` takes a class as it is handed over: nested, notebooks, zips, Canvas and Moodle downloads, hostile archives."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from coopkit.grading import intake
from coopkit.instructor.report import file_label

from .conftest import CORPUS, build_submission, reference_source
from .test_cli import coopkit
from .test_gradescope import coop_notebook

BUGGY = "bug_runner_for_loop"  # 22/25: loses runner.stop_value


def part1_sources(kit, case="ok_reference_style", tmp=None) -> dict[str, bytes]:
    folder = tmp / case
    if not folder.exists():
        build_submission(kit, CORPUS / case, folder)
    return {e.name: (folder / f"{e.name}.py").read_bytes() for e in kit.manifest.part(1).exercises}


def zip_bytes(entries: dict) -> bytes:
    """A zip of ``{name or ZipInfo: bytes}``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tree_state(root: Path) -> dict:
    """Every path under ``root`` with its kind, bytes' hash and mtime (links not followed)."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else os.readlink(path) if path.is_symlink() else ""
            state[str(path)] = (stat.S_IFMT(info.st_mode), digest, info.st_mtime_ns)
    return state


@pytest.fixture(scope="module")
def mixed(kit, tmp_path_factory):
    """A class handed over every way: expected ``{student: (total, status)}``."""
    base = tmp_path_factory.mktemp("mixed")
    root = base / "class"
    good, buggy = part1_sources(kit, tmp=base), part1_sources(kit, BUGGY, tmp=base)
    expected = {}

    def folder(student, files, where=""):
        target = root / student / where
        target.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (target / f"{name}.py").write_bytes(data)

    folder("flat", good)
    expected["flat"] = (25, "graded")
    folder("nested", buggy, "Homework 1/my code")
    (root / "nested" / "notes.md").write_text("my notes")
    expected["nested"] = (22, "graded")
    # a notebook instead of .py files: its solution cells, by grade_id
    (root / "nb").mkdir()
    sources = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(1).exercises}
    sources["runner"] = sources["runner"].replace("return stop.value", "return None")
    nbformat.write(coop_notebook(kit, sources), str(root / "nb" / "cooperative_multitasking.ipynb"))
    expected["nb"] = (22, "graded")
    # a zip per student, at the top and inside a student's folder
    (root / "zoe.zip").write_bytes(zip_bytes({f"zoe/hw1/{k}.py": v for k, v in good.items()}))
    expected["zoe"] = (25, "graded")
    (root / "yan").mkdir()
    (root / "yan" / "submission.zip").write_bytes(zip_bytes({f"{k}.py": v for k, v in buggy.items()}))
    expected["yan"] = (22, "graded")
    # Canvas: flat files named <name>_<userid>_<submissionid>_<file>, late ones and resubmissions (runner-1.py) too
    for name, data in buggy.items():
        (root / f"smithjohn_LATE_123_9001_{name}{'-1' if name == 'runner' else ''}.py").write_bytes(data)
    (root / "doeada_777_9002_submission.zip").write_bytes(zip_bytes({f"{k}.py": v for k, v in good.items()}))
    expected.update({"smithjohn_123": (22, "graded"), "doeada_777": (25, "graded")})
    # Moodle: a folder per student, <Full Name>_<id>_assignsubmission_file_
    folder("Jane Doe_4242_assignsubmission_file_", good, "coop")
    expected["Jane Doe_4242"] = (25, "graded")
    for name, data in good.items():  # Moodle without "download submissions in folders": flat files
        (root / f"Kim Lee_5150_assignsubmission_file_{name}.py").write_bytes(data)
    expected["Kim Lee_5150"] = (25, "graded")
    # nothing gradable
    (root / "essayist").mkdir()
    (root / "essayist" / "essay.docx").write_bytes(b"PK\x03\x04 not python")
    expected["essayist"] = (0, "nothing_gradable")
    (root / "ghost").mkdir()
    expected["ghost"] = (0, "nothing_gradable")
    before = tree_state(root)
    out = base / "out"
    result = coopkit("grade-class", root, "--out", out, "-j", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    return {"root": root, "out": out, "expected": expected, "before": before, "result": result}


def rows_of(out: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}


def test_every_way_of_handing_in_gets_the_right_grade(mixed):
    rows = rows_of(mixed["out"])
    assert {name: (int(row["total"]), row["status"]) for name, row in rows.items()} == mixed["expected"]
    for name, row in rows.items():
        report = json.loads((mixed["out"] / f"{file_label(name)}.json").read_text())
        assert report["status"] == row["status"] and report["score"] == int(row["total"])


def test_nothing_gradable_says_what_was_found(mixed):
    rows = rows_of(mixed["out"])
    assert "essay.docx" in rows["essayist"]["message"] and "no exercise file" in rows["essayist"]["message"]
    assert "empty" in rows["ghost"]["message"]


def test_where_the_files_came_from_is_in_the_message(mixed):
    rows = rows_of(mixed["out"])
    assert "Homework 1/my code/" in rows["nested"]["message"]
    assert "graded the notebook cooperative_multitasking.ipynb" in rows["nb"]["message"]
    assert rows["flat"]["message"] == ""


def test_the_originals_are_untouched(mixed):
    assert tree_state(mixed["root"]) == mixed["before"]


def test_grades_csv_has_status_and_message_columns(kit, mixed):
    header = next(csv.reader((mixed["out"] / "grades.csv").open(encoding="utf-8")))
    checks = [f"{c.exercise}.{c.name}" for c in kit.manifest.part(1).checks]
    assert header == ["student"] + checks + ["status", "message", "total", "max_score", "isolation"]
    for row in rows_of(mixed["out"]).values():
        assert "\n" not in row["message"] and len(row["message"]) <= 300


@pytest.fixture(scope="module")
def hostile(kit, tmp_path_factory):
    """Hostile archives and links beside an honest student: each costs only its own student."""
    base = tmp_path_factory.mktemp("hostile")
    root = base / "class"
    root.mkdir()
    good = part1_sources(kit, tmp=base)
    files = {f"{k}.py": v for k, v in good.items()}
    (root / "honest").mkdir()
    for name, data in files.items():
        (root / "honest" / name).write_bytes(data)
    (root / "traverser.zip").write_bytes(zip_bytes(files | {"../../escaped.py": b"print('out')", "../runner.py": good["runner"]}))
    (root / "bomber.zip").write_bytes(zip_bytes({"runner.py": b"#" * (20 * 1024 * 1024)} | {k: v for k, v in files.items() if k != "runner.py"}))
    link = zipfile.ZipInfo("runner.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16  # a link to /etc/passwd, as zip -y stores it
    (root / "linker.zip").write_bytes(zip_bytes({link: b"/etc/passwd"}))
    (root / "borrower").mkdir()  # links to the reference: never read
    for exercise in kit.manifest.part(1).exercises:
        (root / "borrower" / f"{exercise.name}.py").symlink_to(kit.solution_file(exercise.name))
    (root / "alias").symlink_to(root / "honest")
    (root / "hoarder.zip").write_bytes(zip_bytes({f"f{i}.txt": b"" for i in range(intake.MAX_ENTRIES + 5)}))
    (root / "broken.zip").write_bytes(b"PK\x03\x04 this is no zip")
    before = tree_state(root)
    out = base / "out"
    result = coopkit("grade-class", root, "--out", out, "-j", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    return {"base": base, "root": root, "out": out, "before": before}


def test_hostile_submissions_cost_only_their_student(hostile):
    rows = rows_of(hostile["out"])
    assert int(rows["honest"]["total"]) == 25 and rows["honest"]["status"] == "graded"
    expected = {"traverser": "archive_refused", "bomber": "archive_refused", "linker": "archive_refused", "hoarder": "too_many_files",
                "broken": "archive_refused", "borrower": "not_a_regular_file", "alias": "not_a_regular_file"}
    assert {name: rows[name]["status"] for name in expected} == expected
    assert all(int(rows[name]["total"]) == 0 for name in expected)
    assert "points outside the archive" in rows["traverser"]["message"]
    assert "zip bomb" in rows["bomber"]["message"]
    assert "symbolic link" in rows["linker"]["message"] and "symbolic link" in rows["borrower"]["message"]
    assert "over 2000 files" in rows["hoarder"]["message"]


def test_nothing_is_written_outside_the_scratch_folder(hostile):
    assert tree_state(hostile["root"]) == hostile["before"]
    assert not (hostile["base"] / "escaped.py").exists() and not (hostile["root"].parent.parent / "escaped.py").exists()
    assert sorted(p.name for p in hostile["out"].iterdir() if not p.name.endswith(".json")) == ["grades.csv"]


# ---- The intake alone (no grading) ------------------------------------------------------------------------


def gather(kit, root: Path, tmp_path: Path) -> dict:
    scratch = tmp_path / "scratch"
    found, _ = intake.gather(root, scratch, kit, set())
    return {name: (got.status, sorted(p.name for p in got.folder.glob("*.py")), got.message) for name, got in found.items()}


def test_duplicates_come_from_the_folder_holding_most_files(kit, tmp_path):
    good = part1_sources(kit, tmp=tmp_path)
    root = tmp_path / "class"
    (root / "ann" / "final").mkdir(parents=True)
    (root / "ann" / "old").mkdir()
    for name, data in good.items():
        (root / "ann" / "final" / f"{name}.py").write_bytes(data)
    (root / "ann" / "old" / "runner.py").write_bytes(b"def runner(gen):\n    return None\n")
    scratch = tmp_path / "scratch"
    found, _ = intake.gather(root, scratch, kit, set())
    assert (found["ann"].folder / "runner.py").read_bytes() == good["runner"]


def test_names_of_any_bytes_are_read(kit, tmp_path):
    good = part1_sources(kit, tmp=tmp_path)
    root = tmp_path / "class"
    folder = root / os.fsdecode(b"caf\xe9") / os.fsdecode(b"d\xffossier")
    folder.mkdir(parents=True)
    for name, data in good.items():
        (folder / f"{name}.py").write_bytes(data)
    (root / "zipper.zip").write_bytes(zip_bytes({f"r\u00e9sum\u00e9/{k}.py": v for k, v in good.items()}))
    got = gather(kit, root, tmp_path)
    names = sorted(f"{e.name}.py" for e in kit.manifest.part(1).exercises)
    assert got[os.fsdecode(b"caf\xe9")][:2] == ("found", names) and got["zipper"][:2] == ("found", names)
    assert "\\xff" in got[os.fsdecode(b"caf\xe9")][2]


def test_a_huge_file_is_read_only_up_to_the_cap(kit, tmp_path):
    root = tmp_path / "class"
    (root / "big").mkdir(parents=True)
    with (root / "big" / "runner.py").open("wb") as handle:
        handle.truncate(2 * 1024 * 1024 * 1024)  # sparse: 2 GB that costs no disk
    found, _ = intake.gather(root, tmp_path / "scratch", kit, set())
    assert (found["big"].folder / "runner.py").stat().st_size == intake.MAX_SOURCE_BYTES + 2


def test_deep_and_crowded_folders_are_capped(kit, tmp_path):
    root = tmp_path / "class"
    deep = root / "deep" / Path(*["d"] * (intake.MAX_DEPTH + 2))
    deep.mkdir(parents=True)
    (deep / "runner.py").write_text("def runner(gen):\n    pass\n")
    crowd = root / "crowd"
    crowd.mkdir()
    for index in range(intake.MAX_ENTRIES + 1):
        (crowd / f"{index}.txt").touch()
    got = gather(kit, root, tmp_path)
    assert got["deep"][0] == "nothing_gradable"
    assert got["crowd"][0] == "too_many_files" and "over 2000 files" in got["crowd"][2]


def test_an_unreadable_notebook_is_named_with_its_fix(kit, tmp_path):
    root = tmp_path / "class"
    (root / "nora").mkdir(parents=True)
    (root / "nora" / "hw.ipynb").write_text('{"cells": [\n', encoding="utf-8")
    status, files, message = gather(kit, root, tmp_path)["nora"]
    assert status == "notebook_unreadable" and files == []
    assert "hw.ipynb" in message and "not valid JSON" in message and "\n" not in message


def test_lms_downloads_match_their_lms_roster_on_export(mixed, tmp_path):
    """Canvas-named students export to their Canvas ID, Moodle-named ones to their participant number."""
    from .test_lms import CANVAS_EXPORT, MOODLE_WORKSHEET

    (tmp_path / "canvas.csv").write_text(CANVAS_EXPORT)
    (tmp_path / "moodle.csv").write_text(MOODLE_WORKSHEET)
    canvas = coopkit("export", "canvas", mixed["out"], "--roster", tmp_path / "canvas.csv", "--out", tmp_path / "c.csv")
    moodle = coopkit("export", "moodle", mixed["out"], "--roster", tmp_path / "moodle.csv", "--out", tmp_path / "m.csv")
    assert canvas.returncode == 0 and moodle.returncode == 0, canvas.stderr + moodle.stderr
    by_id = {row["ID"]: row["coop (5501)"] for row in csv.DictReader((tmp_path / "c.csv").open(encoding="utf-8"))}
    assert by_id == {"": "50", "123": "44", "777": "50", "888": ""}  # 22/25 and 25/25 on a 50-point assignment
    grades = {row["Identifier"]: row["Grade"] for row in csv.DictReader((tmp_path / "m.csv").open(encoding="utf-8"))}
    assert grades == {"Participant 4242": "100.00", "Participant 5150": "100.00", "Participant 6000": ""}
    assert "essayist (0/25) matches no roster row" in canvas.stderr


def test_the_bulk_download_zip_itself_is_graded_like_its_folder(mixed, tmp_path):
    bulk = tmp_path / "submissions.zip"
    with zipfile.ZipFile(bulk, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(mixed["root"].rglob("*")):
            archive.write(path, path.relative_to(mixed["root"]).as_posix())
    out = tmp_path / "out"
    result = coopkit("grade-class", bulk, "--out", out, "-j", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    assert {name: (int(row["total"]), row["status"]) for name, row in rows_of(out).items()} == mixed["expected"]


def test_a_bulk_zip_that_points_outside_itself_is_one_line_and_writes_nothing(tmp_path):
    bulk = tmp_path / "deep" / "submissions.zip"
    bulk.parent.mkdir()
    bulk.write_bytes(zip_bytes({"ann/runner.py": b"x = 1\n", "../../escaped.py": b"x = 1\n"}))
    result = coopkit("grade-class", bulk, "--out", tmp_path / "out")
    assert result.returncode == 2 and "points outside the archive" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "escaped.py").exists() and not (tmp_path / "out").exists()
    (tmp_path / "notes.txt").write_text("not a class")
    result = coopkit("grade-class", tmp_path / "notes.txt", "--out", tmp_path / "out")
    assert result.returncode == 2 and "not a zip" in result.stderr


# ---- Security review fixes (reproducers in the intake attack review) ---------------------------------------


def test_an_upload_name_never_decides_another_students_identity(kit, tmp_path):
    """F1: Alice's Canvas upload named like Bob's Moodle file stays Alice's; Bob keeps his own files."""
    good = part1_sources(kit, tmp=tmp_path)
    root = tmp_path / "class"
    root.mkdir()
    for name, data in good.items():
        (root / f"bob_999_333_{name}.py").write_bytes(b"# bob's own\n" + data)
        (root / f"alice_111_222_bob_999_assignsubmission_file_{name}.py").write_bytes(data)
    got = gather(kit, root, tmp_path)
    assert sorted(got) == ["alice_111", "bob_999"]
    assert got["alice_111"][:2] == ("nothing_gradable", [])
    found, _ = intake.gather(root, tmp_path / "scratch2", kit, set())
    assert (found["bob_999"].folder / "runner.py").read_bytes().startswith(b"# bob's own")


def test_the_lms_naming_is_decided_once_for_the_class(kit, tmp_path):
    """A Moodle download reads Moodle's prefix only; a Canvas one Canvas's only."""
    assert intake.layout([("bob_999_333_runner.py", False), ("alice_111_222_bob_999_assignsubmission_file_runner.py", False)]) == {"canvas"}
    moodle = [("Kim Lee_5150_assignsubmission_file_", True), ("Eve_1_2_assignsubmission_file_", True)]
    assert intake.layout(moodle) == {"moodle"}
    assert intake.student_of("Eve_1_2_assignsubmission_file_", True, {"moodle"}) == ("Eve_1_2", "")
    assert intake.student_of("Eve_1_2_runner.py", False, {"moodle"}) is None


def test_one_student_never_decides_the_class_part(kit, tmp_path):
    """F3: students handing in different parts' files make --part necessary (one line naming both parts)."""
    good = part1_sources(kit, tmp=tmp_path)
    root = tmp_path / "class"
    for student in ("s1", "s2", "s3"):
        (root / student).mkdir(parents=True)
        for name, data in good.items():
            (root / student / f"{name}.py").write_bytes(data)
    for k in range(6):  # one student as six "students" (the F1 trick), each with a Part 2 file
        (root / f"mallory_111_222_k{k}_1_assignsubmission_file_{kit.manifest.part(2).exercises[0].name}.py").write_text("x = 1\n")
        (root / f"m{k}").mkdir()
        (root / f"m{k}" / f"{kit.manifest.part(2).exercises[0].name}.py").write_text("x = 1\n")
    result = coopkit("grade-class", root, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Part 1" in result.stderr and "Part 2" in result.stderr and "--part" in result.stderr and "3 hold" in result.stderr
    assert not (tmp_path / "out").exists()


def test_one_bad_bulk_entry_costs_only_its_student(kit, tmp_path):
    """F4: a bad entry is its student's problem; a backslash is part of a name, not a folder separator."""
    good = part1_sources(kit, tmp=tmp_path)
    bulk = tmp_path / "bulk.zip"
    entries = {f"student1_101_201_{k}.py": v for k, v in good.items()}
    entries |= {"mallory_111_222_x\\..\\runner.py": b"x = 1\n", "ann/../../escaped.py": b"x = 1\n", "ann/runner.py": good["runner"]}
    bulk.write_bytes(zip_bytes(entries))
    root, refused = intake.unpack_bulk(bulk, tmp_path / "unpacked")
    assert set(refused) == {"ann"} and (root / "mallory_111_222_x\\..\\runner.py").is_file()
    got = gather_refused = {name: (i.status, i.message) for name, i in intake.gather(root, tmp_path / "scratch", kit, set(), refused)[0].items()}
    assert got["student1_101"][0] == "found" and got["mallory_111"][0] == "nothing_gradable"
    assert gather_refused["ann"][0] == "archive_refused" and "points outside the archive" in got["ann"][1]
    assert not (tmp_path / "escaped.py").exists()


def test_two_entries_for_one_student_are_that_students_error(kit, tmp_path):
    """F7: bob/ and bob.zip are not merged: Bob's row says he was handed in twice."""
    good = part1_sources(kit, tmp=tmp_path)
    root = tmp_path / "class"
    (root / "bob").mkdir(parents=True)
    for name, data in good.items():
        (root / "bob" / f"{name}.py").write_bytes(data)
    (root / "bob.zip").write_bytes(zip_bytes({f"{k}{n}.py": b"def broken(): pass\n" for k in good for n in ("", "-1", "-2")}))
    (root / "ann.ipynb").write_text("{}")
    status, files, message = gather(kit, root, tmp_path)["bob"]
    assert status == "handed_in_twice" and files == [] and "bob/" in message and "bob.zip" in message


def test_flat_lms_files_and_folder_bytes_are_capped(kit, tmp_path):
    """F6: flat LMS files count toward the file cap; folders have a byte budget; one file per exercise and folder is kept."""
    root = tmp_path / "class"
    root.mkdir()
    for index in range(intake.MAX_ENTRIES + 1):
        (root / f"mallory_111_222_f{index}.txt").touch()
    for index in range(intake.MAX_UNPACKED // intake.MAX_SOURCE_BYTES + 2):
        (root / "hoarder" / f"d{index}").mkdir(parents=True)
        with (root / "hoarder" / f"d{index}" / "runner.py").open("wb") as handle:
            handle.truncate(intake.MAX_SOURCE_BYTES + 10)
    got = gather(kit, root, tmp_path)
    assert got["mallory_111"][0] == "too_many_files"
    assert got["hoarder"][0] == "too_many_files" and "MB" in got["hoarder"][2]
    (root / "many").mkdir()
    for index in range(20):
        (root / "many" / f"runner-{index}.py").write_text(f"# {index}\n")
    seen = intake._Collector(frozenset({"runner"}))
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        seen.subfolder(fd, "many", "", 0)
    finally:
        os.close(fd)
    assert len(seen.files) == 20 and sum(f[4] is not None for f in seen.files) == 1


def test_a_zip_listing_too_many_entries_is_refused_before_it_is_listed(kit, tmp_path, monkeypatch):
    """F5: the central directory's count decides before zipfile builds an entry for each."""
    root = tmp_path / "class"
    root.mkdir()
    (root / "hoarder.zip").write_bytes(zip_bytes({f"f{i}.txt": b"" for i in range(intake.MAX_ENTRIES + 5)}))

    def listed(self):
        raise AssertionError("the whole listing was built")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", listed)
    status, _, message = gather(kit, root, tmp_path)["hoarder"]
    assert status == "too_many_files" and "over 2000 files" in message
