"""The nbgrader course, on the instructor's side: building it from the kit (build.py), autograding it in
parallel against the sandboxed grader (autograde.py), and explaining what nbgrader could not grade
(ungradable.py). The kernels nbgrader starts are sandboxed by coopkit.kernels."""
