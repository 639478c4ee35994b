"""The README's commands and examples, and the quickstart notebook, must keep working."""

from __future__ import annotations

import re

import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks(lang: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_starts_with_the_two_commands_and_ci_calls_the_test_one():
    first = _blocks("sh")[0].strip().splitlines()
    commands = [line.split("#")[0].strip() for line in first]
    assert commands == ["make demo", "make test"]
    ci = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert ci[-1] == "make test"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
    # the demo runs what the issue asks: both strategies, 20 seeds x 300 evaluations on analognas
    demo = makefile.split("\ndemo:")[1].split("\n\n")[0]
    for word in ("analognas", "random_search", "regularized_evolution", "--seeds 20", "--max-evals 300"):
        assert word in demo


def _exec(code: str, where: Path, monkeypatch) -> dict:
    monkeypatch.chdir(where)
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(code, "<doc>", "exec"), namespace)
    return namespace


def test_readme_custom_strategy_example_runs(tmp_path, monkeypatch, capsys):
    import benchlab as bl

    code = _blocks("python")[0]
    assert len(code.strip().splitlines()) <= 30
    if "greedy_mutation" in bl.STRATEGIES:  # re-registration of the same class name in a new exec
        bl.STRATEGIES._items.pop("greedy_mutation")
    try:
        ns = _exec(code, tmp_path, monkeypatch)
        out = capsys.readouterr().out
        assert "greedy_mutation" in out and "random_search" in out
        assert len(list((tmp_path / "results" / "custom").glob("*/*/seed-*/summary.json"))) == 20
        # the README's second snippet: the custom strategy passes the conformance suite
        exec(compile(_blocks("python")[1], "<doc>", "exec"), ns)
    finally:
        bl.STRATEGIES._items.pop("greedy_mutation", None)


def test_quickstart_notebook_executes(tmp_path, monkeypatch):
    """The notebook runs top to bottom in a real Jupyter kernel (nbclient), in a fresh folder."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "\n".join(
        out.get("text", "") or str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )  # fmt: skip
    assert "'done': 10" in outputs  # 2 strategies x 5 seeds
    assert "notebook_greedy" in outputs and "random_search" in outputs
    assert "check_determinism" in outputs or "check_" in outputs
    assert (tmp_path / "results" / "quickstart" / "regret.png").is_file()
    assert len(list((tmp_path / "results" / "quickstart-custom").glob("*/*/seed-*/summary.json"))) == 10


def test_readme_example_and_cli_run_beside_a_users_own_benchmarks_and_strategies(tmp_path):
    """A research repository often holds its own ``benchmarks/`` and ``strategies/`` packages:
    they must not shadow ours (benchlab installs them as benchlab.benchmarks/strategies)."""
    import subprocess
    import sys

    for pkg in ("benchmarks", "strategies"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text(f"raise ImportError('the user\\'s own {pkg} package was imported')\n")
    script = tmp_path / "example.py"
    script.write_text(_blocks("python")[0])
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "greedy_mutation" in out.stdout and "random_search" in out.stdout
    cli = [sys.executable, "-m", "benchlab.cli", "run", "--benchmark", "analognas", "--strategies", "random_search",
           "--seeds", "2", "--max-evals", "20", "--name", "beside"]  # fmt: skip
    out = subprocess.run(cli, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "results" / "beside").glob("*/*/seed-*/summary.json"))) == 2


def test_readme_writing_a_benchmark_example_runs(tmp_path, monkeypatch):
    """The README's CSV benchmark (at most 40 lines): build its table, run it, conformance suite."""
    import hashlib
    import os
    import subprocess
    import sys

    code = _blocks("python")[2]
    assert "TableRecipe" in code and len(code.strip().splitlines()) <= 40
    (tmp_path / "src" / "mine").mkdir(parents=True)
    rows = ["arch,valid_acc,test_acc,seconds"] + [
        f'"{c},{p}",{60 + 3 * i + (i % 2)},{59 + 3 * i},{10 + i}'
        for i, (c, p) in enumerate((c, p) for c in ("3x3", "5x5", "none") for p in ("max", "avg", "none"))
    ]
    csv_file = tmp_path / "src" / "mine" / "results.csv"
    csv_file.write_text("\n".join(rows) + "\n")
    sha = hashlib.sha256(csv_file.read_bytes()).hexdigest()
    (tmp_path / "mine_bench.py").write_text(f"CSV_SHA256 = {sha!r}\n" + code)
    driver = (
        "import mine_bench, benchlab\n"
        "from benchlab.ext import TABLES\n"
        "from benchlab.testing import check_benchmark, check_strategy\n"
        f"TABLES.get('mine').build({str(tmp_path / 'src')!r})\n"
        "r = benchlab.run(benchlab.RunSpec('mine', 'local_search', max_evaluations=5))\n"
        "assert r.summary['status'] == 'ok', r.summary\n"
        "check_benchmark('mine')\n"
        "print('regret', r.summary['final'])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path), BENCHLAB_DATA=str(tmp_path / "store"))
    out = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "regret" in out.stdout
