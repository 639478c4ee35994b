"""Paper protocols that ``benchlab reproduce NAME`` runs (registered by the benchmarks)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ._registry import PROTOCOLS

__all__ = ["Protocol", "PROTOCOLS", "register_protocol", "get_protocol", "write_text_and_csv"]


@dataclass(frozen=True)
class Protocol:
    """``run(runs=..., root=..., executor=..., jobs=..., progress=...) -> dict`` reproduces a
    paper table; the dict holds ``text`` (our table beside the paper's) and written paths."""

    name: str
    description: str
    default_runs: int
    run: Callable[..., dict]


def register_protocol(protocol: Protocol) -> Protocol:
    """Make ``benchlab reproduce NAME`` know a protocol; a name taken by another one is an error."""
    return PROTOCOLS.add(protocol.name, protocol)


def get_protocol(name: str) -> Protocol:
    return PROTOCOLS.get(name)


def write_text_and_csv(folder: Path, stem: str, text: str, rows: list[dict]) -> tuple[Path, Path]:
    """Write a protocol's Markdown report and its rows as CSV, atomically: ``stem.md``, ``stem.csv``."""
    from ._store import atomic_write_bytes

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["method"])
    writer.writeheader()
    writer.writerows(rows)
    md, csv_path = Path(folder) / f"{stem}.md", Path(folder) / f"{stem}.csv"
    atomic_write_bytes(md, text.encode())
    atomic_write_bytes(csv_path, buf.getvalue().encode())
    return md, csv_path
