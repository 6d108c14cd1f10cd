"""A grading harness for deep-learning homework: reference solutions, templates, an autograder."""

__version__ = "0.1.0"

CONTAINER_MB = 768
"""Gradescope's default memory, in MB: read as 10^6 bytes, the stricter reading of its "768 MB".
(Here, not in `config`, so that the command line can show it without loading pydantic.)"""

WORKER_THREADS = 1
"""Torch and BLAS threads in a worker unless configured otherwise: one, for reproducible reductions.
(Here, so that the command line can start a fork server for it before loading the configuration.)"""
