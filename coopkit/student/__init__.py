"""What runs in the student's terminal: the commands (status, hint, watch, reset, solution, trace), the
public-test runner they stand on, and the traces. Ships whole in the student bundle."""
