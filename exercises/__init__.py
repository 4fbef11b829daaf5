"""The coopkit exercises: fill in every TODO, then run `pytest`."""
