"""What the instructor reads after grading: the class as a whole (what went wrong, for whom, how often)."""
