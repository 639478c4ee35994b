"""Package errors. Each is also a builtin exception so callers can catch either.

Messages name the bad value and say what to do next (house style, DESIGN section 6).
"""

from __future__ import annotations

__all__ = [
    "BenchlabError",
    "InvalidArchitecture",
    "InvalidConfig",
    "UnknownName",
    "DataError",
    "ResultsConflict",
]


class BenchlabError(Exception):
    """Base class of every error benchlab raises on purpose."""


class InvalidArchitecture(BenchlabError, ValueError):
    """An architecture (tuple, string or id) is not part of the search space."""


class InvalidConfig(BenchlabError, ValueError):
    """A run, experiment, strategy or benchmark setting is out of range or malformed."""


class UnknownName(BenchlabError, KeyError):
    """A strategy, benchmark or metric name is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class DataError(BenchlabError, OSError):
    """A data file is missing, truncated, corrupt or has the wrong checksum."""


class ResultsConflict(BenchlabError, FileExistsError):
    """A results folder belongs to another experiment or run specification."""
