"""Paper protocols that ``benchlab reproduce NAME`` runs (registered by the benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ._errors import UnknownName

__all__ = ["Protocol", "PROTOCOLS", "register_protocol", "get_protocol"]


@dataclass(frozen=True)
class Protocol:
    """``run(runs=..., root=..., executor=..., jobs=..., progress=...) -> dict`` reproduces a
    paper table; the dict holds ``text`` (our table beside the paper's) and written paths."""

    name: str
    description: str
    default_runs: int
    run: Callable[..., dict]


PROTOCOLS: dict[str, Protocol] = {}


def register_protocol(protocol: Protocol) -> Protocol:
    PROTOCOLS[protocol.name] = protocol
    return protocol


def get_protocol(name: str) -> Protocol:
    from ._registry import BENCHMARKS

    BENCHMARKS.names()  # importing the benchmarks registers their protocols
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise UnknownName(f"unknown protocol {name!r}; known: {', '.join(sorted(PROTOCOLS)) or 'none'}") from None
