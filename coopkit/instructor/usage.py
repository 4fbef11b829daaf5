"""The one kind of failure the instructor's commands expect."""


class UsageProblem(Exception):
    """A problem with what the user asked for: shown as one line, exit status 2."""
