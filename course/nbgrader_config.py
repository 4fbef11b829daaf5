"""nbgrader configuration for the coopkit course (written by `coopkit nbgrader build`)."""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

import os

from coopkit.kernels.execute import SandboxedExecute

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "coopkit"
# Release, fetch, submit and collect go through this folder: beside the course, for one machine (nbgrader's
# default, /usr/local/share/nbgrader/exchange, needs root to create). On JupyterHub, set it to a folder every
# user can reach, here and in the students' nbgrader config (~/.jupyter/nbgrader_config.py).
c.Exchange.root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange")
# Every notebook runs in a bubblewrap sandbox, and its check cells get the sandboxed grader's scores
# and feedback before nbgrader records them: whoever runs `nbgrader autograde`, the scores are the grader's.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
# A cell's time limit: the check cells only show reports computed outside the kernel.
c.Execute.timeout = 60
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Deleted check cells come back, and get their grader's score like every other check cell.
c.OverwriteCells.add_missing_cells = True
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
# `nbgrader zip_collect ASSIGNMENT`: files in downloaded/ASSIGNMENT/archive/ (zips are unpacked) named
# <student id>_<anything><notebook>.ipynb, as LMS bulk downloads name them (the id is the text before the
# first underscore: rename the files if your LMS puts something else there).
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/_]+)_[^/]*?(?P<file_id>cooperative_multitasking|event_loop)\.ipynb$"
