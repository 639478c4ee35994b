"""Command-line commands and file importers contributed by plug-ins (``benchlab live``,
``benchlab data import nb101 FILE``, ...)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

from ._registry import COMMANDS, IMPORTERS

__all__ = ["Command", "Importer", "register_command", "register_importer"]


@dataclass(frozen=True)
class Command:
    """A ``benchlab NAME ...`` sub-command.

    ``add_parser(subparsers) -> ArgumentParser`` adds the sub-command (and its own
    sub-commands) to the top-level sub-parsers; it must not import heavy modules (torch),
    because ``benchlab --help`` builds every parser. ``run(args) -> int`` executes it and
    returns the exit status.
    """

    name: str
    add_parser: Callable[[argparse._SubParsersAction], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace], int]
    description: str = ""


def register_command(command: Command) -> Command:
    """Make ``benchlab NAME`` run ``command``; a name taken by another command is an error
    (the built-in names run, report, plot, list, query, data and reproduce are taken)."""
    return COMMANDS.add(command.name, command)


@dataclass(frozen=True)
class Importer:
    """``benchlab data import NAME PATH``: turn a user's official benchmark file into a table.

    ``run(path, *, root, name, progress, bar, curves, full) -> Path`` writes the table into
    ``root`` (a tables folder) and returns its folder; ``name`` is None for the importer's
    default table name. ``curves`` (bool) asks for learning-curve columns and ``full`` (a
    path or None) names a companion file; an importer that has no use for an option given
    to it raises :class:`~benchlab.DataError` saying so.
    """

    name: str
    description: str
    run: Callable[..., object]


def register_importer(importer: Importer) -> Importer:
    """Make ``benchlab data import NAME`` know a file format (entry point group ``benchlab.importers``)."""
    return IMPORTERS.add(importer.name, importer)
