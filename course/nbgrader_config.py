"""nbgrader configuration for the coopkit course (written by `coopkit nbgrader build`)."""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "coopkit"
# The first check cell runs the whole sandboxed grader; a hanging submission is stopped by the grader itself.
c.Execute.timeout = 210
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Deleted check cells come back (commented out); `coopkit nbgrader autograde` then sets every check to its sandboxed score.
c.OverwriteCells.add_missing_cells = True
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
