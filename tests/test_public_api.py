"""The public surface: ``__all__`` names exist, and benchlab works without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

import benchlab

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_exists():
    assert len(benchlab.__all__) == len(set(benchlab.__all__))
    missing = [name for name in benchlab.__all__ if not hasattr(benchlab, name)]
    assert missing == []
    namespace: dict = {}
    exec("from benchlab import *", namespace)
    assert set(benchlab.__all__) <= set(namespace)


@pytest.mark.parametrize(
    "name",
    ["Benchmark", "Strategy", "SearchSpace", "RunSpec", "Experiment", "run", "run_experiment", "write_run", "InvalidArchitecture"],
)
def test_core_names_are_public(name):
    assert name in benchlab.__all__


def test_errors_are_also_builtins():
    assert issubclass(benchlab.InvalidArchitecture, ValueError)
    assert issubclass(benchlab.InvalidConfig, ValueError)
    assert issubclass(benchlab.UnknownName, KeyError)
    assert issubclass(benchlab.DataError, OSError)
    assert issubclass(benchlab.ResultsConflict, FileExistsError)
    for name in ("InvalidArchitecture", "InvalidConfig", "UnknownName", "DataError", "ResultsConflict"):
        assert issubclass(getattr(benchlab, name), benchlab.BenchlabError)


def test_version_matches_the_distribution():
    assert benchlab.__version__ == version("benchlab")


def test_subpackages_export_what_they_say():
    import benchlab.benchmarks
    import benchlab.strategies

    for module in (benchlab.strategies, benchlab.benchmarks, benchlab.benchmarks.nb201, benchlab.benchmarks.analognas):
        assert [n for n in module.__all__ if not hasattr(module, n)] == []


_NO_TORCH = textwrap.dedent(
    """
    import sys
    import importlib.abc

    class BlockTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError(f"torch is blocked in this test ({name})")
            return None

    sys.meta_path.insert(0, BlockTorch())
    try:
        import torch
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker does not work")

    import benchlab
    light = sorted(m for m in ("torch", "matplotlib", "benchlab.strategies", "benchlab.benchmarks") if m in sys.modules)
    print("after import benchlab:", light)
    import benchlab.strategies, benchlab.benchmarks
    for strategy in ("random_search", "regularized_evolution"):
        spec = benchlab.RunSpec("analognas", strategy, max_evaluations=10)
        result = benchlab.run(spec)
        assert result.summary["status"] == "ok", result.summary["error"]
        assert result.summary["n_evaluations"] == 10
    # every table benchmark whose table is built (all of them when ../shared/data is present)
    from benchlab.ext import TABLES
    ran = []
    for name in benchlab.BENCHMARKS.names():
        if name.endswith("-live"):
            continue  # trains networks: needs torch by design
        try:
            benchlab.make_benchmark(name)
        except benchlab.DataError:
            continue  # its table is not built here
        result = benchlab.run(benchlab.RunSpec(name, "random_search", max_evaluations=5))
        assert result.summary["status"] == "ok", (name, result.summary["error"])
        ran.append(name)
    if "nb201" in ran:  # built tables: nb101 on its real 20k cells too (the default table is the official file)
        result = benchlab.run(benchlab.RunSpec("nb101", "random_search", {"table": "nb101-20k"}, max_evaluations=5))
        assert result.summary["status"] == "ok", result.summary["error"]
        ran.append("nb101")
    print("table benchmarks run:", len(ran), file=sys.stderr)
    print("torch imported:", "torch" in sys.modules)
    print("OK")
    """
)


def test_works_without_torch(built_tables):
    out = subprocess.run([sys.executable, "-c", _NO_TORCH], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    if built_tables is not None:  # ../shared/data present: every table benchmark ran (nb101 on nb101-20k)
        ran = int(out.stderr.split("table benchmarks run:")[1].split()[0])
        assert ran >= 8, out.stderr
    lines = out.stdout.splitlines()
    # import benchlab stays light: no torch, no plotting, registries load lazily
    assert lines == ["after import benchlab: []", "torch imported: False", "OK"]
