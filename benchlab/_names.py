"""Names that become folders: experiment names, labels and table names.

Each must be one safe path component: letters, digits and ``_ . = + -``, not starting with
a dot (no ``.``, ``..`` or hidden folders), at most 200 characters. Nothing else reaches the
file system, so no label, ``--name`` or ``table=`` value can point outside its folder.
"""

from __future__ import annotations

import re

from ._errors import InvalidConfig

__all__ = ["check_component", "MAX_COMPONENT"]

MAX_COMPONENT = 200
_SAFE = re.compile(r"[A-Za-z0-9_=+-][A-Za-z0-9_.=+-]*")


def check_component(text, what: str) -> str:
    """``text`` if it is one safe path component, else a one-line :class:`InvalidConfig`.

    ``what`` words the error ("experiment name", "strategy label", "table name").
    """
    if not isinstance(text, str) or not _SAFE.fullmatch(text) or len(text) > MAX_COMPONENT:
        raise InvalidConfig(
            f"{what} {text!r} must be one folder name: letters, digits and _ . = + -, not starting with "
            f"a dot, at most {MAX_COMPONENT} characters"
        )
    return text
