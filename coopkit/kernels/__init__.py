"""Notebook kernels in bubblewrap: how nbgrader executes a student's notebook without trusting it.

    jail.py      the kernel's launcher, run on the host: a pids cgroup, rlimits and a
                 bwrap sandbox around the kernel, all of it ended when the kernel ends
    manager.py   a jupyter_client kernel manager that starts kernels through the jail
                 and talks to them over unix sockets in a folder of their own
    checks.py    check cells' outputs written from the grader's report
    execute.py   nbgrader's Execute preprocessor with that manager, which then sets every
                 check cell's output from the sandboxed grader's report (so nbgrader's own
                 SaveAutoGrades records the grader's scores, whoever runs nbgrader)

The course's ``nbgrader_config.py`` (written by ``coopkit nbgrader build``) puts
``SandboxedExecute`` in place of nbgrader's ``Execute``.

Rules
1. The kernel holds the student's code, so nothing it prints or returns is
   believed: the scores and feedback of check cells come from the grader's
   report, computed outside the kernel from the notebook's cell sources.
2. The kernel sees the Python installation, the kit's public files (manifest,
   stubs, the coopkit package), its own notebook's folder (read-only), its own
   reports and its socket folder; never the gradebook, the course, other
   submissions, ``solutions/`` or the hidden suites; no network but its own
   loopback.
3. Nothing the kernel starts outlives it: its PID namespace ends with it and a
   pids cgroup bounds and sweeps its processes.
"""
