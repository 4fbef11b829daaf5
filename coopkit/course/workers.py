"""Running nbgrader: as a command in the course, and in worker processes forked from one that imported it.

Starting nbgrader costs about 2.5 s of CPU (it imports Jupyter's server stack). A
forkserver imports it once; every piece of nbgrader work then runs in a fresh process
forked from it, so -j N workers pay for one import, not N (and the calling process none).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


class CourseError(RuntimeError):
    """The course directory is not usable; the message says how to fix it."""


def nbgrader_env() -> dict:
    """nbgrader calls helper programs (alembic): put this environment's bin first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def nbgrader(course: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` in ``course``, as ``python -m nbgrader`` runs it, in a worker forked from the forkserver.

    The result's ``stdout`` and ``stderr`` both hold everything nbgrader printed (one stream, in order).
    """
    code, output = in_fresh_worker(run_nbgrader_here, str(course), list(args), dict(env or {}))
    if check and code != 0:
        raise CourseError(f"nbgrader {' '.join(args)} failed: {output.strip().splitlines()[-1:]}")
    return subprocess.CompletedProcess(["nbgrader", *args], code, output, output)


NBGRADER_PRELOAD = ["nbgrader.apps.nbgraderapp", "nbgrader.api"]


def _worker_context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(NBGRADER_PRELOAD)
    return context


@dataclass
class WorkerFailed:
    """What a worker sends back instead of a result when its work raised."""

    message: str


def _call_and_send(send, function, args):
    try:
        send.send(function(*args))
    except BaseException as exc:  # noqa: BLE001 - the parent gets a line, never a hang
        send.send(WorkerFailed(f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def in_fresh_worker(function, *args):
    """``function(*args)`` in a fresh process forked from the nbgrader forkserver; its return value."""
    context = _worker_context()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_call_and_send, args=(send, function, args))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = WorkerFailed(f"the worker process died (exit code {process.exitcode})")
    process.join()
    if isinstance(result, WorkerFailed):
        raise CourseError(f"nbgrader work failed: {result.message}")
    return result


def run_nbgrader_here(course: str, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``nbgrader ARGS`` in this process (a worker), in ``course``: ``(exit code, everything it printed)``."""
    import runpy
    import traceback

    os.chdir(course)
    os.environ.update(nbgrader_env())
    os.environ.update(env)
    with tempfile.TemporaryFile() as log:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.argv = ["nbgrader", *args]
        code = 0
        try:
            runpy.run_module("nbgrader", run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except Exception:  # what `python -m nbgrader` would print before exiting 1
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        log.seek(0)
        return code, log.read().decode("utf-8", errors="replace")
