"""The grader: hidden suites against untrusted submissions, as a pipeline read in order.

    suites.py    read each suite: tests, checks, verify halves, the observe-only copy
    precheck.py  read each submitted file safely; decide whether it is worth running
    sandbox.py   start and end bubblewrap sandboxes (namespaces, rlimits), with
                 cgroups.py (a pids cgroup each) and seccomp.py (the syscall filter);
                 user_isolation.py: the weaker mode of the Gradescope export, for
                 containers without user namespaces (a separate unprivileged account)
    execute.py   run an exercise's observe halves in sandboxes; collect plain data
    judge.py     decide every test from that data with the verify halves
    report.py    scores per check, capped JSON reports
    pipeline.py  all of it over many submissions, in parallel

Design rules
1. Nothing that runs in the process holding student code decides a verdict, a
   score or a message. The sandbox sends plain JSON data, under a byte cap,
   which the grader parses strictly; anything else fails that test.
2. Verdicts come from the verify halves of the suites, run here, against
   expectations computed here from the seeded inputs. The observations are
   values only working code produces (results, orders of steps, ids,
   exception types), so forging them means doing the exercise.
3. A sandbox is bubblewrap: every namespace, no capabilities, a read-only root
   with only the Python installation, the unit folder and a private /tmp; it
   holds the student's file, the observe half of its suite, the harness and
   the reference of the earlier chapters it builds on, never its own
   reference. Memory, CPU, file size, open files and processes are bounded;
   nothing it starts outlives it. No working sandbox, no grading, unless the
   caller says ``unsafe_no_sandbox`` or (Gradescope, as root, no user
   namespaces) runs the code as a separate account that cannot read the kit;
   every report names the isolation it had.
4. A hang, crash or broken channel costs only the test it happened in: the
   grader charges that test and starts a fresh sandbox for the rest, within
   a per-test timeout, a per-exercise budget and a per-submission cap.
5. A broken file costs only its own exercise, and each exercise is graded
   beside the reference copies of the modules it requires.
6. Student text reaches a message only through short, cleaned fields; every
   report is printable text and at most 200 KB of JSON.
7. Same code, same grade: hidden inputs come from a fixed seed. Every
   submission gets a report, whatever happens to it.
"""

from .pipeline import GraderError, GradingRun, grade_exercise, grade_folders
from .precheck import ERROR, GRADED
from .sandbox import SandboxUnavailable

__all__ = ["GraderError", "GradingRun", "SandboxUnavailable", "grade_exercise", "grade_folders", "ERROR", "GRADED"]
