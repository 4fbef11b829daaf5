"""nbgrader's Execute, with the kernel in the jail and every check cell's output set by the grader.

``SandboxedExecute`` replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors``
(the course's ``nbgrader_config.py`` does it). For each notebook it:

1. takes the exercise code from the notebook's cells (the same rule as the
   check cells use: the latest cell defining an exercise's names) and gets the
   sandboxed grader's report on it: from ``$COOPKIT_REPORT_CACHE`` when
   ``coopkit nbgrader autograde`` graded it beforehand, else by grading it now;
2. runs the notebook in a sandboxed kernel that sees only that report;
3. caps and validates every output the kernel sent (``kernel_outputs_checked``);
4. replaces the outputs of every check cell with the report's score (as the
   cell's value, which nbgrader reads as its partial credit) and feedback.

So the scores nbgrader's ``SaveAutoGrades`` records next are the grader's,
whatever the kernel did, and a notebook whose kernel died is still graded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from nbclient.exceptions import CellControlSignal, CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute

from ..notebook import report_key, solution_sources
from ..paths import find_kit
from .checks import exercise_slice, kernel_outputs_checked, set_check_cells
from .manager import KIT, REPORTS, SUBMISSION, SandboxedKernelManager, python_binds

KERNEL_MEMORY_MB = 4096


def kit_binds(kit) -> list[list[str]]:
    """The kit's public files: the manifest and the stubs (never solutions/ or the hidden suites)."""
    return [[str(kit.manifest_path), f"{KIT}/manifest.toml"], [str(kit.exercises), f"{KIT}/exercises"]]


def notebook_reports(nb, kit, part: int) -> dict[str, dict]:
    """``{exercise: report slice}`` for ``nb``'s solution cells: from the autograde cache, else graded now."""
    sources = solution_sources(nb, kit, part)
    exercises = [exercise.name for exercise in kit.manifest.part(part).exercises]
    cache = os.environ.get("COOPKIT_REPORT_CACHE")
    found = {}
    for exercise in exercises:
        file = Path(cache) / f"{report_key(exercise, sources.get(exercise), part)}.json" if cache else None
        if file is not None and file.is_file():
            found[exercise] = exercise_slice(json.loads(file.read_text(encoding="utf-8")), exercise)
    if len(found) < len(exercises):
        from .. import grading

        with tempfile.TemporaryDirectory(prefix="coopkit-nbcode-") as scratch:
            folder = Path(scratch) / "notebook"
            folder.mkdir()
            for exercise, source in sources.items():
                (folder / f"{exercise}.py").write_text(source, encoding="utf-8")
            with grading.GradingRun.create(kit, part=part) as run:
                report = grading.grade_folders(run, {"notebook": folder}, jobs=1)["notebook"]
        found = {exercise: found.get(exercise, exercise_slice(report, exercise)) for exercise in exercises}
    return {"sources": sources, "reports": found}


NOTEBOOK_GRACE = 60  # seconds on top of the manifest's submission budget, for the lesson cells and the kernel's start
OUTPUT_TOTAL = 4 * 1024 * 1024  # bytes of kernel output kept per notebook
SOCKET_FOLDER_BYTES = 1024 * 1024  # what the kernel may write into its (host-side) socket folder


class Watchdog(threading.Thread):
    """Stops the kernel when the notebook runs past its budget or fills its socket folder (on the host's disk)."""

    def __init__(self, execute, folder: Path, budget: float):
        super().__init__(daemon=True)
        self.execute, self.folder, self.deadline = execute, folder, time.monotonic() + budget
        self.budget, self.reason = budget, ""
        self._done = threading.Event()
        self.start()

    def _used(self) -> int:
        total = 0
        for entry in os.scandir(self.folder):
            try:
                total += entry.stat(follow_symlinks=False).st_size if entry.is_file(follow_symlinks=False) else 0
            except OSError:
                continue
        return total

    def run(self) -> None:
        while not self._done.wait(0.5):
            if time.monotonic() > self.deadline:
                self.reason = f"the notebook ran past its budget of {self.budget:g} s"
            elif self._used() > SOCKET_FOLDER_BYTES:
                self.reason = "it wrote more than 1 MB into its socket folder"
            else:
                continue
            self.execute.stop_kernel()
            return

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


class SandboxedExecute(Execute):
    """Execute in a sandboxed kernel; then the check cells say what the sandboxed grader found."""

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._jail = None
        self._output_bytes = 0

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.prepare(self._jail_folder, self._jail)
        return km

    def stop_kernel(self) -> None:
        """End the jail (and with it the kernel's sandbox); nbclient then sees a dead kernel."""
        process = getattr(getattr(getattr(self, "km", None), "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.terminate()

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``OUTPUT_TOTAL`` bytes of the kernel's output per notebook; drop the rest as it comes."""
        size = len(json.dumps(msg.get("content", {}), ensure_ascii=False, default=str))
        self._output_bytes += size
        if self._output_bytes > OUTPUT_TOTAL:
            return None
        return super().output(outs, msg, display_id, cell_index)

    def preprocess(self, nb, resources=None, km=None):
        kit = find_kit()
        assignment = resources.get("nbgrader", {}).get("assignment")
        part = kit.manifest.assignment(assignment).number
        graded = notebook_reports(nb, kit, part)
        here = resources.get("metadata", {}).get("path") or "."
        with tempfile.TemporaryDirectory(prefix="coopkit-kernel-") as scratch:
            folder = Path(scratch)
            (folder / "sockets").mkdir()
            reports = folder / "reports"
            reports.mkdir()
            for exercise, report in graded["reports"].items():
                (reports / f"{report_key(exercise, graded['sources'].get(exercise), part)}.json").write_text(json.dumps(report, ensure_ascii=True), encoding="utf-8")
            self._jail_folder = folder / "sockets"
            self._jail = {
                "ro": [*python_binds(), *kit_binds(kit), [str(reports), REPORTS], [os.path.realpath(here), SUBMISSION]],
                "env": {"COOPKIT_ROOT": KIT, "COOPKIT_REPORT_CACHE": REPORTS, "NBGRADER_EXECUTION": "autograde",
                        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter", "IPYTHONDIR": "/tmp/ipython", "MPLCONFIGDIR": "/tmp/matplotlib",
                        "USER": "student"},
                "chdir": SUBMISSION,
                "memory_mb": KERNEL_MEMORY_MB,
            }
            self._output_bytes = 0
            watchdog = Watchdog(self, folder / "sockets", kit.manifest.submission_budget + NOTEBOOK_GRACE)
            try:
                nb, resources = super().preprocess(nb, resources, km)
            except (DeadKernelError, CellTimeoutError, CellControlSignal, RuntimeError) as exc:
                self.log.warning("The notebook did not run to its end (%s: %s); the check cells still get the grader's scores",
                                 type(exc).__name__, str(exc)[:200])
            finally:
                watchdog.stop()
                shutil.rmtree(folder, ignore_errors=True)
            if watchdog.reason:
                self.log.warning("The kernel was stopped: %s", watchdog.reason)
        for line in kernel_outputs_checked(nb):
            self.log.warning("%s", line)
        set_check_cells(nb, {exercise: report for exercise, report in graded["reports"].items()})
        return nb, resources
