"""Gradescope: the autograder zip (autograder.py) and what a student's upload holds (upload.py)."""
