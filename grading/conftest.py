"""Loads the coopkit harness for the full suites (public and hidden tests)."""

pytest_plugins = ["coopkit.plugin"]
