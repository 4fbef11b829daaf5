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
# Collect takes only entries each student really handed in: a real folder, owned by that student, no links.
c.ExchangeFactory.collect = "coopkit.course.exchange.TrustedCollect"
# Every notebook runs in a bubblewrap sandbox, and its check cells get the sandboxed grader's scores
# and feedback before nbgrader records them: whoever runs `nbgrader autograde`, the scores are the grader's.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
# A cell's time limit: the check cells only show reports computed outside the kernel.
c.Execute.timeout = 60
c.ClearSolutions.code_stub = {"python": "# TODO: write your code here\nraise NotImplementedError()"}
# Deleted check cells come back, and get their grader's score like every other check cell.
c.OverwriteCells.add_missing_cells = True
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
# formgrader and generate_feedback render submitted notebooks as HTML: sanitized, so a student's markdown or
# output cannot run script in the instructor's browser.
c.HTMLExporter.sanitize_html = True
# `nbgrader zip_collect ASSIGNMENT`: the LMS's download in downloaded/ASSIGNMENT/archive/ (zips are unpacked).
# The student id is the text before the first underscore of a file named <id>_<anything><notebook>.ipynb (Canvas)
# or of a folder named <id>_..._assignsubmission_file_ holding the notebook (Moodle), at the top of the download or
# of one zip in it whose name has no underscore (unzip a download whose name has one). A file found deeper (inside a student's own zip) is skipped, so no upload can file a notebook
# under a classmate's name.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/extracted/(?:[^/_]+/)??(?P<student_id>[^/_]+)_(?:[^/]*?|[^/]*_assignsubmission_file_/[^/]*?)(?P<file_id>cooperative_multitasking|event_loop)\.ipynb$"
)
