"""A grading harness for deep-learning homework: reference solutions, templates, an autograder."""

__version__ = "0.1.0"
