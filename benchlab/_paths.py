"""Where benchlab keeps data: ``$BENCHLAB_DATA``, else the user cache folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir"]


def data_dir() -> Path:
    """``$BENCHLAB_DATA`` if set, else ``$XDG_CACHE_HOME/benchlab`` (``~/.cache/benchlab``)."""
    env = os.environ.get("BENCHLAB_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "benchlab"
