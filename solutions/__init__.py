"""Reference solutions for the coopkit exercises (instructors only)."""
