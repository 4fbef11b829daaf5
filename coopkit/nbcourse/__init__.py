"""The nbgrader course on the instructor's side: explaining what nbgrader could not grade."""
