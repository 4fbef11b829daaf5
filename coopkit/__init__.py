"""coopkit: build a tiny async framework from plain Python generators, and grade it."""

__version__ = "0.1.0"
