"""A third-party plug-in package that lives outside the repository: a table built from a CSV,
its benchmark, a protocol and a strategy, all registered by entry points, installed with pip
and run through ``benchlab run``, ``benchlab reproduce`` and the conformance suites.

The plug-in uses only ``benchlab`` and ``benchlab.ext`` (the layering checker agrees)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchlab.testing import check_layering

PLUGIN = '''
"""toyplug: Toy-Bench, 36 cells of a 3-decision space scored in a CSV file."""

import csv

import numpy as np

import benchlab
from benchlab.analysis import report
from benchlab.ext import (CategoricalSpace, Column, Metric, Param, Protocol, Source, Strategy, TableBuilder,
                          TableRecipe, TabularBenchmark, check_source_file, write_table, write_text_and_csv)

SOURCE = Source(key="toy", local="toy/toy.csv", repo="example/toy-bench", commit="0" * 40, path="toy.csv",
                sha256="@SHA@", license="MIT")


def toy_space():
    return CategoricalSpace([("conv", ("3x3", "5x5", "none")), ("pool", ("max", "avg", "none")),
                             ("width", ("8", "16", "32", "64"))], name="toy")


def build(source_dir, root=None, progress=None):
    rows = list(csv.DictReader(open(check_source_file(source_dir, SOURCE))))
    space = toy_space()
    order = np.array([space.to_id(space.from_str(r["arch"])) for r in rows])
    cols = {k: np.empty(len(rows)) for k in ("toy/valid_acc@10", "toy/test_acc@10", "toy/train_time_epoch")}
    for key, field in zip(cols, ("valid_acc", "test_acc", "seconds_per_epoch")):
        cols[key][order] = [float(r[field]) for r in rows]
    info = {"toy/valid_acc@10": Column("toy/valid_acc@10", "float64", "toy", "valid", "accuracy", "%", 10),
            "toy/test_acc@10": Column("toy/test_acc@10", "float64", "toy", "test", "accuracy", "%", 10),
            "toy/train_time_epoch": Column("toy/train_time_epoch", "float64", "toy", "", "train_time", "s")}
    return write_table("toy", cols, info, {"space": "toy", "provenance": [SOURCE.to_dict()]}, root=root)


TABLE = TableBuilder("toy", "Toy-Bench from toy/toy.csv", (SOURCE,), build)


class ToyBench(TabularBenchmark):
    """Toy-Bench: 36 cells, validation for the search, test for the report."""

    description = "Toy-Bench (plug-in): 36 cells, valid/test kept apart, cost = 10 epochs of training"
    visible_split, report_split = "valid", "test"
    recipe = TableRecipe(table="toy", space=toy_space, datasets=("toy",), epochs=(10,),
                         metrics={"valid_acc": Metric("{dataset}/valid_acc@{epochs}", "max", "%", "validation accuracy")},
                         report={"test_acc": "{dataset}/test_acc@10"}, train_time=("{dataset}/train_time_epoch",))
    parameters = {"dataset": Param(str, choices=("toy",), doc="the only dataset")}

    def __init__(self, dataset="toy"):
        super().__init__(dataset=dataset, report_metric="test_acc")


class FirstImprovement(Strategy):
    """Local search that moves to the first better neighbour (random order); restarts when stuck."""

    description = "first-improvement local search with random restarts"
    tags = frozenset({"exhaustive"})
    parameters = {"shuffle": Param(bool, doc="visit neighbours in random order")}

    def __init__(self, shuffle=True):
        self.shuffle = shuffle

    def _setup(self):
        self._seen, self._queue = set(), []

    def ask(self):
        if not self._queue:
            best = self.recommend()
            around = [] if best is None else [a for a in self.space.neighbors(best) if a not in self._seen]
            if self.shuffle:
                around = [around[i] for i in self.rng.generator.permutation(len(around))]
            self._queue = around
        while self._queue and self._queue[0] in self._seen:
            self._queue.pop(0)
        if self._queue:
            arch = self._queue.pop(0)
        elif len(self._seen) >= self.space.size:
            return None
        else:  # restart at an unseen cell
            arch = self.space.sample(self.rng)
            while arch in self._seen:
                arch = self.space.sample(self.rng)
        self._seen.add(arch)
        return self._trial(arch)

    def _tell(self, trial, evaluation, score):
        pass


def study(runs, root="results", executor="inprocess", jobs=None, progress=True, seed=0, **_):
    exp = benchlab.Experiment(name="toy-study", benchmark="toy", repeats=runs, max_evaluations=12, seed=seed,
                              root=root, strategies=(benchlab.StrategyConfig("first_improvement"),
                                                     benchlab.StrategyConfig("random_search")))
    benchlab.run_experiment(exp, executor=executor, jobs=jobs, progress=progress)
    out = report(exp.folder)
    rows = out["table"].reset_index().to_dict("records")
    md, csv_path = write_text_and_csv(exp.folder, "toy-study", out["markdown_text"], rows)
    return {"text": out["markdown_text"], "markdown": md, "csv": csv_path, "plot": out["plot"]}


PROTOCOL = Protocol("toy-study", "first improvement vs random search on Toy-Bench, 12 evaluations", 3, study)
'''

PYPROJECT = """
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "benchlab-toyplug"
version = "0.1"
dependencies = []

[project.entry-points."benchlab.tables"]
toy = "toyplug:TABLE"
[project.entry-points."benchlab.benchmarks"]
toy = "toyplug:ToyBench"
[project.entry-points."benchlab.strategies"]
first_improvement = "toyplug:FirstImprovement"
[project.entry-points."benchlab.protocols"]
toy-study = "toyplug:PROTOCOL"

[tool.setuptools]
py-modules = ["toyplug"]
"""


def _csv() -> str:
    lines = ["arch,valid_acc,test_acc,seconds_per_epoch"]
    for i, (c, p, w) in enumerate((c, p, w) for c in ("3x3", "5x5", "none") for p in ("max", "avg", "none")
                                  for w in ("8", "16", "32", "64")):  # fmt: skip
        score = 60 + 7 * (c != "none") + 3 * (c == "5x5") + 2 * (p == "avg") + 4 * ("8 16 32 64".split().index(w))
        lines.append(f"\"{c},{p},{w}\",{score + (i % 5) / 10:.2f},{score - 0.5 + (i % 3) / 10:.2f},{1 + i % 4}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The plug-in installed with pip into a folder of its own (outside the repository)."""
    base = tmp_path_factory.mktemp("plugin")
    src, site, data = base / "src", base / "site", base / "data"
    (data / "toy").mkdir(parents=True)
    (data / "toy" / "toy.csv").write_text(_csv())
    sha = hashlib.sha256((data / "toy" / "toy.csv").read_bytes()).hexdigest()
    src.mkdir()
    (src / "toyplug.py").write_text(PLUGIN.replace("@SHA@", sha))
    (src / "pyproject.toml").write_text(PYPROJECT)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
           "--disable-pip-version-check", "--target", str(site), str(src)]  # fmt: skip
    out = subprocess.run(pip, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    env = dict(os.environ, PYTHONPATH=str(site), BENCHLAB_DATA=str(base / "store"))
    return {"base": base, "src": src, "data": data, "env": env}


def _cli(plugin, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "benchlab.cli", *args], env=plugin["env"], cwd=cwd or plugin["base"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_plugin_uses_only_the_public_api(plugin, tmp_path):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "toyplug.py").write_text((plugin["src"] / "toyplug.py").read_text())
    assert check_layering(tmp_path) == []


def test_plugin_table_benchmark_strategy_and_protocol_run_from_the_cli(plugin):
    out = _cli(plugin, "data", "build", "toy", "--source", str(plugin["data"]))
    assert out.returncode == 0, out.stderr
    out = _cli(plugin, "list")
    assert out.returncode == 0, out.stderr
    assert "first_improvement" in out.stdout and "Toy-Bench (plug-in)" in out.stdout
    out = _cli(plugin, "run", "--benchmark", "toy", "--strategies", "first_improvement:shuffle=False",
               "random_search", "--seeds", "3", "--max-evals", "10", "--name", "toy")  # fmt: skip
    assert out.returncode == 0, out.stderr
    runs = sorted((plugin["base"] / "results" / "toy").glob("*/*/seed-*/summary.json"))
    assert len(runs) == 6
    out = _cli(plugin, "reproduce", "toy-study", "--runs", "2", "--root", str(plugin["base"] / "repro"), "--quiet")
    assert out.returncode == 0, out.stderr
    folder = plugin["base"] / "repro" / "toy-study"
    assert {"toy-study.md", "toy-study.csv"} <= {p.name for p in folder.iterdir()}
    assert "first_improvement" in (folder / "toy-study.md").read_text()


def test_plugin_passes_the_conformance_suites(plugin):
    code = textwrap.dedent(
        f"""
        import benchlab
        from benchlab.ext import TABLES
        from benchlab.testing import check_benchmark, check_strategy
        TABLES.get("toy").build({str(plugin["data"])!r})
        check_benchmark("toy")
        check_strategy("first_improvement")
        check_strategy("first_improvement", shuffle=False)
        print("conformant")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], env=plugin["env"], cwd=plugin["base"], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "conformant" in out.stdout


def test_a_plugin_name_taken_twice_is_a_loud_error(plugin, tmp_path):
    """The same collision rule for every kind: a second package claiming `toy` fails loudly."""
    site2 = tmp_path / "site2"
    dist = site2 / "benchlab_clash-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: benchlab-clash\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[benchlab.tables]\ntoy = clash:TABLE\n")
    (site2 / "clash.py").write_text("from benchlab.ext import TableBuilder\nTABLE = TableBuilder('toy', 'x', (), print)\n")
    env = dict(plugin["env"], PYTHONPATH=os.pathsep.join([plugin["env"]["PYTHONPATH"], str(site2)]))
    out = subprocess.run([sys.executable, "-m", "benchlab.cli", "data", "build", "toy", "--source", str(plugin["data"])],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode != 0
    assert "table name 'toy' is already registered" in out.stderr
    assert "Traceback" not in out.stderr
