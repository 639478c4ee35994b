"""The layering contract, checked statically on the source (every ``import``, lazy ones too).

Layers and what each may import (DESIGN section 1, ``strategies -> benchlab <- benchmarks``):

* the core (``benchlab/``, without the plug-in packages): neither torch nor any plug-in
  package (``benchlab.strategies``, ``benchlab.benchmarks``, ``benchlab.nn``);
* ``benchlab.nn`` (the torch layer): the core's public API only, no strategy or benchmark;
* ``benchlab.strategies`` and ``benchlab.benchmarks``: the core's public API and
  ``benchlab.nn``; never each other;
* no plug-in imports a private core module (a ``_``-prefixed name under ``benchlab`` outside
  its own package).

:func:`check_layering` returns the violations (an empty list when the contract holds), each
naming the file, line, import and the rule it breaks.
"""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["PACKAGE_FOLDERS", "PLUGINS", "check_layering", "imports_of"]

#: repository folder -> installed package (pyproject's package-dir mapping)
PACKAGE_FOLDERS = {
    "benchlab": "benchlab",
    "strategies": "benchlab.strategies",
    "benchmarks": "benchlab.benchmarks",
    "nn": "benchlab.nn",
}
PLUGINS = ("benchlab.strategies", "benchlab.benchmarks", "benchlab.nn")
_HEAVY_FOR_CORE = ("torch",)


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    """Installed module name of ``path`` and whether it is a package ``__init__``."""
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    parts[0] = PACKAGE_FOLDERS[parts[0]]
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """``(line, absolute module)`` of every import in ``source`` (``from X import y`` gives
    ``X.y`` as well as ``X``, since ``y`` may be a submodule)."""
    out: list[tuple[int, str]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
    return out


def _layer(module: str) -> str:
    for plugin in PLUGINS:
        if module == plugin or module.startswith(plugin + "."):
            return plugin
    return "core"


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _private_core(target: str) -> bool:
    """A private module of the core: ``benchlab._x``, ``benchlab.cli._x``, ... (not a plug-in's own)."""
    if not _within(target, "benchlab") or _layer(target) != "core":
        return False
    return any(part.startswith("_") and not part.startswith("__") for part in target.split(".")[1:])


def _rule(layer: str, target: str) -> str | None:
    """The rule that ``layer`` importing ``target`` breaks, or None."""
    target_layer = _layer(target) if _within(target, "benchlab") else None
    if layer == "core":
        if any(_within(target, h) for h in _HEAVY_FOR_CORE):
            return "the core must not import torch (move it to benchlab.nn)"
        if target_layer not in (None, "core"):
            return f"the core must not import a plug-in package ({target_layer})"
        return None
    if target_layer not in (None, "core") and target_layer != layer:
        if layer == "benchlab.nn" or target_layer != "benchlab.nn":
            return f"{layer} must not import {target_layer}"
    if _private_core(target):
        return f"{layer} must use the public API (benchlab, benchlab.ext), not a private core module"
    return None


def check_layering(root: str | Path) -> list[str]:
    """Violations of the layering contract in the repository at ``root``: one line per import
    statement and rule, ``file:line: rule (import target)``."""
    root = Path(root)
    found: dict[tuple[str, int, str], str] = {}
    for folder in PACKAGE_FOLDERS:
        if not (root / folder).is_dir():
            continue
        for path in sorted((root / folder).rglob("*.py")):
            module, is_pkg = _module_name(root, path)
            layer = _layer(module)
            rel = path.relative_to(root).as_posix()
            for line, target in imports_of(path.read_text(encoding="utf-8"), module, is_pkg):
                rule = _rule(layer, target)
                if rule is not None:
                    found.setdefault((rel, line, rule), target)
    return [f"{rel}:{line}: {rule} (import {target})" for (rel, line, rule), target in sorted(found.items())]
