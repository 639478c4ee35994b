"""Experiment files: benchmarks x strategies x seeds under one budget, in TOML.

```toml
name = "nb201-study"          # results/<name>/<benchmark label>/<strategy label>/seed-<k>/
seed = 0                      # master seed (default 0)
repeats = 20                  # seeds per strategy and benchmark (default 20)
[budget]                      # required; max_evaluations and/or max_seconds
max_evaluations = 150
max_seconds = 12000.0         # simulated seconds (benchmark cost units)
n_workers = 1                 # simulated parallel workers (default 1)
sync = false                  # synchronous batches of n_workers trials (default false)
run_timeout = 600.0           # optional wall-clock seconds per run (--run-timeout)
[[benchmark]]                 # one or more
name = "nb201"
kwargs = { dataset = "cifar10-valid", fidelity = 200 }
label = "c10"                 # optional folder name
[[strategy]]                  # one or more
name = "regularized_evolution"
label = "re"
kwargs = { population_size = 10 }
```

Every benchmark becomes one :class:`~benchlab.Experiment` with ``multi_benchmark=True``:
each benchmark folder holds its own ``experiment.json`` and is what ``benchlab report``
reads. Validation is strict and complete before anything is written: an unknown key, a
wrong type, a missing budget, a name or label that is not one safe folder name, or a
strategy or benchmark parameter its declaration refuses raises
:class:`~benchlab.InvalidConfig` naming the key and the file.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from ._errors import BenchlabError, InvalidConfig
from ._experiment import Experiment, StrategyConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["load_experiment_file"]

_TOP = {"name": str, "seed": int, "repeats": int, "budget": dict, "benchmark": list, "strategy": list}
_BUDGET = {"max_evaluations": int, "max_seconds": float, "n_workers": int, "sync": bool, "run_timeout": float}
_COMPONENT = {"name": str, "kwargs": dict, "label": str}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "a table", list: "an array of tables"}


def _check_table(table: dict, schema: dict, where: str, file: Path) -> None:
    """Unknown keys and wrong types; ``where`` is the key path prefix (``"budget."``)."""
    for key, value in table.items():
        if key not in schema:
            raise InvalidConfig(f"{file}: unknown key {where + key!r}; known keys there: {', '.join(schema)}")
        want = schema[key]
        if want is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        elif want is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, want)
        if not ok:
            raise InvalidConfig(f"{file}: {where + key!r} must be {_TYPE_NAMES[want]}, got {value!r}")


def _components(data: dict, key: str, file: Path) -> list[tuple[str, dict, str]]:
    items = data.get(key)
    if not items:
        raise InvalidConfig(f"{file}: missing [[{key}]]: add at least one table with name = \"...\"")
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]."
        if not isinstance(item, dict):
            raise InvalidConfig(f"{file}: {key!r} must be an array of tables ([[{key}]]), got {item!r}")
        _check_table(item, _COMPONENT, where, file)
        if "name" not in item:
            raise InvalidConfig(f"{file}: missing key {where + 'name'!r}")
        out.append((item["name"], dict(item.get("kwargs", {})), item.get("label", "")))
    return out


def load_experiment_file(path, root=Path("results")) -> list[Experiment]:
    """Read an experiment file; return one :class:`Experiment` per ``[[benchmark]]``.

    All share the file's ``name``, seed, repeats, budget and strategies; results go to
    ``root/<name>/<benchmark label>/``. Raises :class:`~benchlab.InvalidConfig` (one line,
    naming the file and the key) for unreadable TOML, unknown keys, wrong types, a missing
    budget, unknown strategies or benchmarks and duplicate labels.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidConfig(f"{file}: no such experiment file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidConfig(f"{file}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfig(f"{file}: not valid TOML ({exc})") from None
    _check_table(data, _TOP, "", file)
    if "name" not in data:
        raise InvalidConfig(f"{file}: missing key 'name' (the experiment folder under results/)")
    if "budget" not in data:
        raise InvalidConfig(f"{file}: missing [budget] table: set budget.max_evaluations and/or budget.max_seconds")
    budget = data["budget"]
    _check_table(budget, _BUDGET, "budget.", file)
    if "max_evaluations" not in budget and "max_seconds" not in budget:
        raise InvalidConfig(f"{file}: [budget] needs 'budget.max_evaluations' and/or 'budget.max_seconds'")
    benchmarks = _components(data, "benchmark", file)
    components = _components(data, "strategy", file)
    experiments = []
    try:
        strategies = tuple(StrategyConfig(n, k, lbl) for n, k, lbl in components)
        for name, kwargs, label in benchmarks:
            experiments.append(
                Experiment(
                    name=data["name"],
                    benchmark=name,
                    benchmark_kwargs=kwargs,
                    benchmark_label=label,
                    strategies=strategies,
                    repeats=data.get("repeats", 20),
                    seed=data.get("seed", 0),
                    max_evaluations=budget.get("max_evaluations"),
                    max_seconds=budget.get("max_seconds"),
                    n_workers=budget.get("n_workers", 1),
                    sync=budget.get("sync", False),
                    run_timeout=budget.get("run_timeout"),
                    root=Path(root),
                    multi_benchmark=True,
                )
            )
    except BenchlabError as exc:
        raise InvalidConfig(f"{file}: {exc}") from None
    folders = [e.bench_folder for e in experiments]
    if len(set(folders)) != len(folders):
        raise InvalidConfig(f"{file}: benchmark folders must be unique, got {folders}; add label = \"...\" to tell them apart")
    return experiments
