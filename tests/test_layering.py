"""The layering contract (benchlab.testing._layering) holds on the repository and catches violations."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchlab.testing import check_layering

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_the_repository_keeps_the_layering_contract():
    assert check_layering(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("rel", "source", "needle"),
    [
        ("benchlab/_x.py", "import torch\n", "core must not import torch"),
        ("benchlab/_x.py", "def f():\n    from benchlab.benchmarks.nb201 import NB201\n", "core must not import a plug-in"),
        ("benchlab/cli/_x.py", "from ..strategies import RandomSearch\n", "core must not import a plug-in"),
        ("strategies/x.py", "from benchlab.benchmarks.nb201 import NB201Space\n", "benchlab.strategies must not import benchlab.benchmarks"),
        ("benchmarks/x/__init__.py", "from benchlab.strategies import RandomSearch\n", "must not import benchlab.strategies"),
        ("benchmarks/x/_a.py", "from benchlab._tables import open_table\n", "public API"),
        ("strategies/x.py", "from benchlab import _rng\n", "public API"),
        ("nn/_a.py", "from benchlab.benchmarks import nb201\n", "benchlab.nn must not import benchlab.benchmarks"),
    ],
)
def test_a_deliberate_violation_fails(tmp_path, rel, source, needle):
    root = _tree(tmp_path, {rel: source})
    problems = check_layering(root)
    assert len(problems) == 1 and needle in problems[0] and rel in problems[0], problems


def test_allowed_imports_pass(tmp_path):
    root = _tree(tmp_path, {
        "benchlab/_a.py": "import numpy\nfrom . import _b\nfrom .ext import Param\n",
        "strategies/s.py": "from benchlab.ext import Param\nfrom benchlab.nn import x\nfrom ._mlp import y\n",
        "benchmarks/b/_a.py": "from benchlab import Benchmark\nfrom benchlab.ext import Column\nfrom .._importers import z\n",
        "nn/_a.py": "import torch\nfrom benchlab.ext import Column\n",
    })  # fmt: skip
    assert check_layering(root) == []


def test_every_package_folder_is_installed():
    """pyproject lists each package explicitly (package-dir mapping): a folder left out would
    be missing from a wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = {"benchlab": "benchlab", **{v: k for k, v in config["package-dir"].items()}}
    found = set()
    for folder, package in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *rel)))
    assert found - listed == set(), f"add these to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
