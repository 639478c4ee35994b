"""Reliability: no silent wrong results, no hangs, no writes outside results/, one-line errors.

One section per fault class: booleans written as text, dying and stuck workers, concurrent
and mixed experiments, shared mutable spaces, path traversal, validation before writing,
table integrity and the one-line errors of the command line.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import benchlab
from benchlab import DataError, Experiment, InvalidConfig, StrategyConfig, read_summary, read_trials, run_experiment
from benchlab.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _cli(argv, capsys):
    """``benchlab ARGV`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line_error(code, err) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("benchlab"), err


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


# --------------------------------------------------------------------------- 1. booleans as text


@pytest.mark.parametrize("text, value", [("False", False), ("false", False), ("TRUE", True)])
def test_python_style_booleans_are_booleans(tmp_path, capsys, text, value):
    code, _, err = _cli(
        ["run", "-s", f"random_search:replace={text}", "--seeds", 1, "--max-evals", 400, "--root", tmp_path, "-q", "--no-report"],
        capsys,
    )
    assert code == 0, err
    run_dir = tmp_path / "default" / "analognas" / "random_search" / "seed-0"
    assert json.loads((run_dir / "spec.json").read_text())["strategy_kwargs"] == {"replace": value}
    archs = read_trials(run_dir)["arch"]
    if not value:  # without replacement: 400 distinct architectures
        assert archs.nunique() == len(archs) == 400


@pytest.mark.parametrize(
    "name, key", [("random_search", "replace"), ("mo_random_search", "replace"), ("smac_rf", "bootstrapping")]
)
def test_experiment_records_converted_booleans(tmp_path, name, key):
    exp = Experiment(
        name="b", benchmark="analognas", strategies=(StrategyConfig.parse(f"{name}:{key}=False"),), repeats=1,
        max_evaluations=5, root=tmp_path,
    )  # fmt: skip
    assert exp.strategies[0].kwargs == {key: False}
    assert exp.specs()[0][0].strategy_kwargs == {key: False}


# --------------------------------------------------------------------------- 2. dying and stuck workers

_PLUGIN = '''
import ctypes, os, signal, sys, time
from pathlib import Path
import benchlab
from benchlab import Strategy


class Slow(Strategy):
    """Random search; sleeps $BL_SLEEP s per ask and leaves its pid in $BL_PIDS."""

    def setup(self, *args, **kwargs):
        super().setup(*args, **kwargs)
        if os.environ.get("BL_PIDS"):
            (Path(os.environ["BL_PIDS"]) / str(os.getpid())).touch()

    def ask(self):
        time.sleep(float(os.environ.get("BL_SLEEP", "0")))
        return self._trial(self.space.sample(self.rng))


class Dies(Strategy):
    """Dies on the third ask: how = sigkill, segfault, os_exit or sys_exit."""

    def __init__(self, how="sigkill"):
        self.how = how

    def ask(self):
        if self._n_asked == 2:
            if self.how == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif self.how == "segfault":
                ctypes.string_at(0)
            elif self.how == "os_exit":
                os._exit(7)
            else:
                sys.exit(3)
        return self._trial(self.space.sample(self.rng))


class Loops(Strategy):
    """Never returns from ask; with stubborn=true it also swallows every exception."""

    def __init__(self, stubborn=False):
        self.stubborn = stubborn

    def ask(self):
        while True:
            try:
                time.sleep(0.01)
            except BaseException:
                if not self.stubborn:
                    raise


for _name, _cls in (("t_slow", Slow), ("t_dies", Dies), ("t_loops", Loops)):
    benchlab.STRATEGIES.add(_name, _cls)
'''


def _script(tmp_path: Path, body: str) -> Path:
    """A script file (spawned workers re-import it, so its strategies exist there too)."""
    path = tmp_path / "experiment_script.py"
    path.write_text(_PLUGIN + "\nif __name__ == '__main__':\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def test_dead_workers_fail_their_runs_and_the_experiment_completes(tmp_path):
    script = _script(
        tmp_path,
        f"""
        import json
        import benchlab._execute as ex
        ex._KILL_GRACE_S = 2.0
        root = Path({str(tmp_path / 'results')!r})
        exp = benchlab.Experiment(name="deaths", benchmark="analognas", repeats=1, max_evaluations=10, root=root,
            strategies=(
                benchlab.StrategyConfig("t_slow"),
                benchlab.StrategyConfig("t_dies", {{"how": "sigkill"}}, "sigkill"),
                benchlab.StrategyConfig("t_dies", {{"how": "segfault"}}, "segfault"),
                benchlab.StrategyConfig("t_dies", {{"how": "os_exit"}}, "os_exit"),
                benchlab.StrategyConfig("t_dies", {{"how": "sys_exit"}}, "sys_exit"),
            ))
        print(json.dumps(benchlab.run_experiment(exp, executor="process", jobs=2, progress=False)))
        exp = benchlab.Experiment(name="deaths", benchmark="analognas", repeats=1, max_evaluations=10, root=root,
            run_timeout=3.0, strategies=(
                benchlab.StrategyConfig("t_loops", {{}}, "loops"),
                benchlab.StrategyConfig("t_loops", {{"stubborn": True}}, "stubborn"),
                benchlab.StrategyConfig("random_search"),
            ))
        print(json.dumps(benchlab.run_experiment(exp, executor="process", jobs=2, progress=False)))
        """,
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-2]) == {"skipped": 0, "done": 1, "failed": 4}
    assert json.loads(proc.stdout.splitlines()[-1]) == {"skipped": 0, "done": 1, "failed": 2}
    base = tmp_path / "results" / "deaths" / "analognas"
    errors = {label: read_summary(base / label / "seed-0")["error"] for label in
              ("sigkill", "segfault", "os_exit", "sys_exit", "loops", "stubborn")}  # fmt: skip
    assert errors["sigkill"]["type"] == "WorkerDied" and "killed by SIGKILL" in errors["sigkill"]["message"]
    assert errors["segfault"]["type"] == "WorkerDied" and "SIGSEGV" in errors["segfault"]["message"]
    assert errors["os_exit"]["type"] == "WorkerDied" and "exited with code 7" in errors["os_exit"]["message"]
    assert errors["sys_exit"]["type"] == "SystemExit" and "sys.exit(3)" in errors["sys_exit"]["message"]
    assert errors["loops"]["type"] == "RunTimeout" and "--run-timeout 3 s" in errors["loops"]["message"]
    assert errors["stubborn"]["type"] == "RunTimeout" and "was killed" in errors["stubborn"]["message"]
    for label in ("t_slow", "random_search"):
        assert read_summary(base / label / "seed-0")["status"] == "ok"


def test_sigkill_of_one_pool_worker(tmp_path):
    """An external SIGKILL (the out-of-memory killer) of one worker: its run fails with an
    error saying so, every other run finishes, and a re-run redoes exactly that run."""
    pids = tmp_path / "pids"
    pids.mkdir()
    script = _script(
        tmp_path,
        f"""
        import json
        exp = benchlab.Experiment(name="oom", benchmark="analognas", repeats=4, max_evaluations=20,
            root=Path({str(tmp_path / 'results')!r}), strategies=(benchlab.StrategyConfig("t_slow"),))
        print(json.dumps(benchlab.run_experiment(exp, executor="process", jobs=2, progress=False)))
        """,
    )
    env = dict(os.environ, BL_SLEEP="0.1", BL_PIDS=str(pids))  # 2 s per run
    proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(pids.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() is not None else "no worker"
            time.sleep(0.02)
        victim = int(next(pids.iterdir()).name)
        os.kill(victim, signal.SIGKILL)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"skipped": 0, "done": 3, "failed": 1}
    runs = sorted((tmp_path / "results" / "oom" / "analognas" / "t_slow").glob("seed-*"))
    failed = [read_summary(d) for d in runs if read_summary(d)["status"] != "ok"]
    assert len(failed) == 1 and "killed by SIGKILL" in failed[0]["error"]["message"]
    again = subprocess.run([sys.executable, str(script)], env=dict(env, BL_SLEEP="0"), cwd=tmp_path, capture_output=True,
                           text=True, timeout=90)  # fmt: skip
    assert json.loads(again.stdout.splitlines()[-1]) == {"skipped": 3, "done": 1, "failed": 0}


def test_run_timeout_in_process(tmp_path):
    sys.path.insert(0, str(tmp_path))
    _script(tmp_path, "pass")
    try:
        import experiment_script  # noqa: F401  (registers the test strategies)

        exp = Experiment(name="t", benchmark="analognas", repeats=1, max_evaluations=5, root=tmp_path / "r",
                         strategies=(StrategyConfig("t_loops"), StrategyConfig("random_search")))  # fmt: skip
        counts = run_experiment(exp, progress=False, run_timeout=0.5)
        assert counts == {"skipped": 0, "done": 1, "failed": 1}
        error = read_summary(exp.folder / "analognas" / "t_loops" / "seed-0")["error"]
        assert error["type"] == "RunTimeout" and "--run-timeout 0.5 s" in error["message"]
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("t_slow", "t_dies", "t_loops"):
            benchlab.STRATEGIES._items.pop(name, None)
        sys.modules.pop("experiment_script", None)


def test_run_timeout_flag_and_toml(tmp_path, capsys):
    code, _, err = _cli(["run", "--run-timeout", "0", "--max-evals", 2, "--root", tmp_path], capsys)
    assert code == 2 and "--run-timeout" in err
    toml = tmp_path / "e.toml"
    toml.write_text('name = "x"\n[budget]\nmax_evaluations = 2\nrun_timeout = 30\n[[benchmark]]\nname = "analognas"\n'
                    '[[strategy]]\nname = "random_search"\n')  # fmt: skip
    exp = benchlab.load_experiment_file(toml, root=tmp_path)[0]
    assert exp.run_timeout == 30.0


def test_sigterm_behaves_like_sigint(tmp_path):
    argv = [sys.executable, "-m", "benchlab.cli", "run", "--seeds", "300", "--max-evals", "400", "--root", str(tmp_path),
            "-q", "--no-report"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.rglob("summary.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("benchlab run ignored SIGTERM")
    if proc.returncode == 0:
        pytest.skip("the experiment finished before the signal arrived")
    assert proc.returncode == 143 and "finished runs are kept" in err and "Traceback" not in err
    for summary in tmp_path.rglob("summary.json"):
        assert json.loads(summary.read_text())["status"] == "ok"


# --------------------------------------------------------------------------- 3. lock and table fingerprints


def test_a_second_run_on_a_locked_experiment_is_refused(tmp_path, capsys):
    from benchlab._experiment import _experiment_lock

    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from benchlab._experiment import _experiment_lock
            with _experiment_lock(Path({str(tmp_path / 'default')!r})):
                print("locked", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = _cli(["run", "--max-evals", 3, "--seeds", 1, "--root", tmp_path, "-q", "--no-report"], capsys)
        _one_line_error(code, err)
        assert f"pid {holder.pid}" in err and "in use by another benchlab run" in err
        assert not (tmp_path / "default" / "experiment.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # the lock dies with its holder (even on kill -9): now the run goes ahead
    code, _, err = _cli(["run", "--max-evals", 3, "--seeds", 1, "--root", tmp_path, "-q", "--no-report"], capsys)
    assert code == 0, err
    with _experiment_lock(tmp_path / "default"):  # released after the run
        pass


@pytest.mark.data
def test_table_fingerprint_recorded_and_mixing_refused(tmp_path, capsys, nb201_data):
    from benchlab._tables import open_table

    argv = ["run", "-b", "nb201", "--seeds", 2, "--max-evals", 5, "--root", tmp_path, "-q", "--no-report"]
    code, _, err = _cli(argv, capsys)
    assert code == 0, err
    runs = sorted(tmp_path.glob("default/nb201/*/seed-*"))
    assert runs
    fingerprint = f"nb201:{open_table('nb201').fingerprint}"
    assert {read_summary(d)["table_fingerprint"] for d in runs} == {fingerprint}
    # a run scored against another version of the table (the table rebuilt since)
    summary = json.loads((runs[0] / "summary.json").read_text())
    summary["table_fingerprint"] = "nb201:0123456789abcdef"
    (runs[0] / "summary.json").write_text(json.dumps(summary))
    code, _, err = _cli([*argv, "--seeds", 3], capsys)
    _one_line_error(code, err)
    assert "another version of the table" in err and "nb201:0123456789abcdef" in err
    assert not list(tmp_path.glob("default/nb201/*/seed-2"))  # refused before running anything
    code, _, err = _cli(["report", tmp_path / "default"], capsys)
    assert code == 0 and "mixes runs scored against different versions of the table" in err


def test_table_fingerprint_changes_with_the_content(tmp_path):
    from benchlab._tables import Column, open_table, write_table

    cols = {"x": np.arange(5.0)}
    write_table("t", cols, {"x": Column("x", "")}, {"space": "s"}, tmp_path)
    first = open_table("t", tmp_path).fingerprint
    write_table("t", cols, {"x": Column("x", "")}, {"space": "s"}, tmp_path)
    assert open_table("t", tmp_path).fingerprint == first
    write_table("t", {"x": np.arange(5.0) + 1}, {"x": Column("x", "")}, {"space": "s"}, tmp_path)
    assert open_table("t", tmp_path).fingerprint != first


# --------------------------------------------------------------------------- 4. read-only spaces


def test_space_check_refuses_shared_mutable_collections():
    from benchlab.testing import ConformanceError
    from benchlab.testing._space_checks import check_space_read_only
    from benchlab.testing._toy import ToySpace

    check_space_read_only(ToySpace())  # the core spaces hand out nothing shared

    class Leaky(ToySpace):
        def __init__(self):
            super().__init__()
            self.all_archs = list(self.enumerate())

    class LeakyArray(ToySpace):
        @property
        def table(self):
            return np.zeros(3)  # a writeable array

    class Cached(ToySpace):
        _cache: dict = {}

        def neighbors(self, arch):
            return self._cache.setdefault(arch, super().neighbors(arch))

    for space, what in ((Leaky(), "space.all_archs is a list"), (LeakyArray(), "writeable numpy array"),
                        (Cached(), "returns a shared object")):  # fmt: skip
        with pytest.raises(ConformanceError, match=what):
            check_space_read_only(space)

    class Fixed(ToySpace):
        def __init__(self):
            super().__init__()
            self.all_archs = tuple(self.enumerate())
            self.table = np.zeros(3)
            self.table.setflags(write=False)

    check_space_read_only(Fixed())


# --------------------------------------------------------------------------- 5. path traversal


@pytest.mark.parametrize(
    "extra",
    [
        ["--name", ".."],
        ["--name", "../x"],
        ["--name", ".hidden"],
        ["-s", "random_search@.."],
        ["-s", "random_search@a/b"],
        ["-b", "analognas@.."],
        ["--name", "a\\b"],
    ],
)
def test_labels_and_names_are_single_safe_folders(tmp_path, capsys, extra):
    root = tmp_path / "a" / "b" / "results"
    code, _, err = _cli(["run", "--max-evals", 3, "--seeds", 1, "--root", root, "-q", "--no-report", *extra], capsys)
    _one_line_error(code, err)
    assert "must be one folder name" in err
    assert _tree(tmp_path) == set()


@pytest.mark.parametrize("key, value", [("name", ".."), ("strategy_label", ".."), ("benchmark_label", "../.."), ("name", "a/b")])
def test_toml_names_and_labels_are_single_safe_folders(tmp_path, capsys, key, value):
    name = value if key == "name" else "ok"
    slabel = f'label = "{value}"\n' if key == "strategy_label" else ""
    blabel = f'label = "{value}"\n' if key == "benchmark_label" else ""
    toml = tmp_path / "e.toml"
    toml.write_text(f'name = "{name}"\n[budget]\nmax_evaluations = 2\n[[benchmark]]\nname = "analognas"\n{blabel}'
                    f'[[strategy]]\nname = "random_search"\n{slabel}')  # fmt: skip
    code, _, err = _cli(["run", toml, "--root", tmp_path / "r", "-q", "--no-report"], capsys)
    _one_line_error(code, err)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["../../etc", "..", "a/b", ".x", "x\x00y"])
def test_table_names_stay_in_the_store(tmp_path, name):
    from benchlab._tables import open_table

    with pytest.raises(InvalidConfig, match="table name"):
        open_table(name, tmp_path)


def test_nb201_table_kwarg_cannot_leave_the_store(tmp_path, capsys):
    code, _, err = _cli(["query", "nb201:table=../../etc", "0"], capsys)
    _one_line_error(code, err)
    assert "must be one folder name" in err


# --------------------------------------------------------------------------- 6. validation before writing


@pytest.mark.parametrize(
    "spec",
    ["random_search:replce=False", "regularized_evolution:population_size=2O", "random_search:replace=maybe", "nope"],
)
def test_a_typo_writes_nothing_and_the_fix_runs(tmp_path, capsys, spec):
    argv = ["run", "--max-evals", 3, "--seeds", 1, "--root", tmp_path, "-q"]
    code, _, err = _cli([*argv, "--no-report", "-s", spec], capsys)
    _one_line_error(code, err)
    assert _tree(tmp_path) == set()
    code, out, err = _cli([*argv, "-s", "random_search"], capsys)
    assert code == 0, err
    config = json.loads((tmp_path / "default" / "experiment.json").read_text())
    assert [s["name"] for s in config["strategies"]] == ["random_search"]


def test_toml_typo_writes_nothing(tmp_path, capsys):
    toml = tmp_path / "e.toml"
    toml.write_text('name = "x"\n[budget]\nmax_evaluations = 2\n[[benchmark]]\nname = "analognas"\n'
                    '[[strategy]]\nname = "random_search"\nkwargs = { replce = false }\n')  # fmt: skip
    code, _, err = _cli(["run", toml, "--root", tmp_path / "r", "-q"], capsys)
    _one_line_error(code, err)
    assert "did you mean 'replace'" in err and str(toml) in err
    assert not (tmp_path / "r").exists()


def test_a_strategy_that_cannot_be_built_writes_nothing(tmp_path, capsys):
    class Picky(benchlab.Strategy):
        """Refuses to be built: its constructor checks a combination of parameters."""

        def __init__(self, low=1, high=2):
            if low >= high:
                raise ValueError(f"low ({low}) must be below high ({high})")

        def ask(self):
            return self._trial(self.space.sample(self.rng))

    benchlab.STRATEGIES.add("t_picky", Picky)
    try:
        code, _, err = _cli(["run", "-s", "t_picky:low=5", "--max-evals", 3, "--seeds", 1, "--root", tmp_path, "-q",
                             "--no-report"], capsys)  # fmt: skip
    finally:
        benchlab.STRATEGIES._items.pop("t_picky", None)
    _one_line_error(code, err)
    assert "low (5) must be below high (2)" in err
    assert _tree(tmp_path) == set()


def test_converted_kwargs_are_what_the_runs_record(tmp_path):
    exp = Experiment(name="c", benchmark="analognas", repeats=1, max_evaluations=3, root=tmp_path,
                     strategies=(StrategyConfig.parse("regularized_evolution:population_size=\"20\",sample_size=5"),))  # fmt: skip
    run_experiment(exp, progress=False)
    spec = json.loads((exp.folder / "analognas" / "regularized_evolution" / "seed-0" / "spec.json").read_text())
    assert spec["strategy_kwargs"] == {"population_size": 20, "sample_size": 5}


# --------------------------------------------------------------------------- 7. table integrity


def _small_table(root: Path):
    from benchlab._tables import Column, open_table, write_table

    cols = {"acc": np.linspace(0.0, 1.0, 64), "n": np.arange(64)}
    write_table("t", cols, {k: Column(k, "") for k in cols}, {"space": "s"}, root)
    table = open_table("t", root)
    return table.folder, {k: table.folder / table.meta["columns"][k]["file"] for k in cols}


def test_table_flipped_byte_is_caught_on_first_read(tmp_path):
    from benchlab._tables import open_table

    folder, files = _small_table(tmp_path)
    data = bytearray(files["acc"].read_bytes())
    data[-5] ^= 0x10
    files["acc"].write_bytes(bytes(data))
    table = open_table("t", tmp_path)  # size and header are fine: opening is cheap
    with pytest.raises(DataError, match="does not match the sha256"):
        table.column("n")  # the content check covers every column, once


def test_table_content_is_checked_once_per_version(tmp_path, monkeypatch):
    import benchlab._tables as tables

    _small_table(tmp_path)
    calls = []
    real = tables._sha256_file
    monkeypatch.setattr(tables, "_sha256_file", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        tables.open_table("t", tmp_path).column("acc")
    assert calls == []  # the build's stamp covers these files
    stamp = tmp_path / "t" / tables.STAMP_FILE
    stamp.unlink()
    tables.open_table("t", tmp_path).column("acc")
    assert len(calls) == 2  # re-hashed once, stamp rewritten
    tables.open_table("t", tmp_path).column("acc")
    assert len(calls) == 2 and stamp.is_file()


def test_table_truncated_symlinked_or_fifo_column_is_refused(tmp_path):
    from benchlab._tables import open_table

    folder, files = _small_table(tmp_path)
    data = files["acc"].read_bytes()
    files["acc"].write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated or replaced"):
        open_table("t", tmp_path)
    _small_table(tmp_path)
    files["acc"].unlink()
    files["acc"].symlink_to(files["n"])
    with pytest.raises(DataError, match="is a symlink"):
        open_table("t", tmp_path)
    _small_table(tmp_path)
    files["acc"].unlink()
    os.mkfifo(files["acc"])
    with pytest.raises(DataError, match="not a regular file"):
        open_table("t", tmp_path)


def test_table_meta_json_is_hashed(tmp_path, capsys):
    from benchlab._tables import open_table

    folder, _ = _small_table(tmp_path / "tables")
    meta = json.loads((folder / "meta.json").read_text())
    meta["optimum"]["acc"]["max"] = 0.5  # a changed optimum gives wrong regret
    (folder / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    with pytest.raises(DataError, match="changed after the build"):
        open_table("t", tmp_path / "tables")
    code, out, _ = _cli(["data", "verify", "all", "--root", tmp_path], capsys)
    assert code == 1 and "t: 1 problem(s)" in out


def test_verify_all_fails_on_a_table_without_meta_json(tmp_path, capsys):
    _small_table(tmp_path / "tables")
    (tmp_path / "tables" / "t" / "meta.json").unlink()
    code, out, _ = _cli(["data", "verify", "all", "--root", tmp_path], capsys)
    assert code == 1 and "has no meta.json" in out


def test_tables_are_group_readable(tmp_path):
    old = os.umask(0o022)
    try:
        folder, files = _small_table(tmp_path)
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o055 == 0o055
    for path in [*files.values(), folder / "meta.json"]:
        assert path.stat().st_mode & 0o044 == 0o044


def test_checked_cache_files(tmp_path):
    from benchlab.ext import read_checked_file, write_checked_file

    path = tmp_path / "cache.npz"
    assert read_checked_file(path) is None
    write_checked_file(path, b"payload")
    assert read_checked_file(path) == b"payload"
    path.write_bytes(b"paylOad")
    assert read_checked_file(path) is None
    write_checked_file(tmp_path / "other", b"payload")
    path.unlink()
    path.symlink_to(tmp_path / "other")
    assert read_checked_file(path) is None


# --------------------------------------------------------------------------- 8. one-line errors


def test_disk_full_is_one_line(tmp_path, capsys, monkeypatch):
    import benchlab._store as store

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(store, "atomic_write_bytes", full)
    code, _, err = _cli(["run", "--max-evals", 3, "--seeds", 1, "--root", tmp_path, "-q", "--no-report"], capsys)
    _one_line_error(code, err)
    assert "no space left" in err


@pytest.mark.parametrize("root", ["/proc/benchlab-results", "/sys/benchlab-results", "FILE/sub"])
def test_unwritable_root_is_one_line(tmp_path, capsys, root):
    if root.startswith("FILE"):
        (tmp_path / "f").write_text("")
        root = str(tmp_path / "f" / "sub")
    code, _, err = _cli(["run", "--max-evals", 3, "--seeds", 1, "--root", root, "-q", "--no-report"], capsys)
    _one_line_error(code, err)


def test_read_only_results_folder_is_one_line(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    tmp_path.chmod(0o500)
    try:
        code, _, err = _cli(["run", "--max-evals", 3, "--seeds", 1, "--root", tmp_path / "r", "-q", "--no-report"], capsys)
    finally:
        tmp_path.chmod(0o700)
    _one_line_error(code, err)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seeds", 10**12], "repeats"),
        (["--workers", 10**12], "n_workers"),
        (["--max-evals", 10**20], "cannot|needs at least|max_evaluations"),
        (["--max-evals", "1e20"], "not an integer"),
    ],
)
def test_huge_numbers_are_refused_at_once(tmp_path, capsys, extra, message):
    argv = ["run", "--max-evals", 3, "--seeds", 1, "--root", tmp_path, "-q", "--no-report", *extra]
    code, _, err = _cli(argv, capsys)
    _one_line_error(code, err)
    assert re.search(message, err)
    assert _tree(tmp_path) == set()


def test_specs_stream(tmp_path):
    exp = Experiment(name="s", benchmark="analognas", strategies=(StrategyConfig("random_search"),),
                     repeats=1_000_000, max_evaluations=3, root=tmp_path)  # fmt: skip
    spec, run_dir, label = exp.run_at(999_999)
    assert spec.repeat == 999_999 and run_dir.name == "seed-999999" and exp.n_runs == 1_000_000
    assert next(iter(exp.iter_specs()))[0].repeat == 0


def test_meta_json_not_an_object_is_one_line(tmp_path, capsys):
    folder, _ = _small_table(tmp_path / "tables")
    (folder / "meta.json").write_text("[]")
    code, _, err = _cli(["data", "info", "t", "--root", tmp_path], capsys)
    _one_line_error(code, err)


@pytest.mark.data
@pytest.mark.parametrize("arch", ["²", "١٢", "99999999999999999999999", "|x|", "", "-1"])
def test_query_odd_architectures_is_one_line(capsys, nb201_data, arch):
    code, _, err = _cli(["query", "nb201", arch], capsys)
    _one_line_error(code, err)


@pytest.mark.data
@pytest.mark.parametrize("bench", ["nas-bench-macro", "channel-bench-macro", "nb101:table=nb101-naslib500"])
def test_query_with_default_seed_mode(capsys, nb201_data, bench):
    code, out, err = _cli(["query", bench, "0"], capsys)
    assert code == 0, err
    assert json.loads(out)["id"] == 0


def test_a_pth_asking_for_a_tebibyte_is_one_line(tmp_path, capsys):
    import struct

    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 2**40) + b"abc")  # BINBYTES8 of 1 TiB
    code, _, err = _cli(["data", "import", "nb201", path, "--root", tmp_path / "d"], capsys)
    _one_line_error(code, err)


def test_jobs_are_capped_by_the_number_of_runs(tmp_path, monkeypatch):
    import benchlab._experiment as ex

    seen = []
    monkeypatch.setattr(ex, "_run_workers", lambda tasks, jobs, timeout, record: seen.append(jobs))
    exp = Experiment(name="j", benchmark="analognas", strategies=(StrategyConfig("random_search"),), repeats=3,
                     max_evaluations=3, root=tmp_path)  # fmt: skip
    run_experiment(exp, executor="process", jobs=64, progress=False)
    assert seen == [3]


def test_stray_temp_files_are_removed_on_the_next_run(tmp_path):
    exp = Experiment(name="tmp", benchmark="analognas", strategies=(StrategyConfig("random_search"),), repeats=2,
                     max_evaluations=3, root=tmp_path)  # fmt: skip
    run_experiment(exp, progress=False)
    dead = 2**22 + 12345  # above any pid this system hands out
    run_dir = exp.folder / "analognas" / "random_search" / "seed-1"
    (run_dir / "summary.json").unlink()
    strays = [run_dir / f".summary.json.{dead}.x1y2.tmp", exp.folder / f".experiment.json.{dead}.abcd.tmp"]
    live = run_dir / f".trials.parquet.{os.getpid()}.live.tmp"  # a write in progress (this process)
    for p in [*strays, live]:
        p.write_text("partial")
    counts = run_experiment(exp, progress=False)
    assert counts == {"skipped": 1, "done": 1, "failed": 0}
    assert not any(p.exists() for p in strays) and live.exists()


# --------------------------------------------------------------------------- fuzz: spec grammar and query

_NAMES = ["random_search", "regularized_evolution", "local_search", "mo_random_search", "nope", "random_serch", "",
          "analognas", "nb201", "nats-sss", "nas-bench-macro", "tnb101-micro", "RANDOM_SEARCH", ".."]  # fmt: skip
_KEYS = ["replace", "population_size", "sample_size", "num_init", "restart", "first_improvement", "objective",
         "dataset", "fidelity", "seed_mode", "cost", "table", "task", "x", "", " ", "replace ", "=", "@"]  # fmt: skip
_VALUES = ["False", "true", "TRUE", "1", "0", "-1", "20", "2O", "1e3", "1.5", "nan", "inf", "[1,2]", "[", "{}", '{"a":1}',
           '"x"', "'x", "null", "", "..", "../../etc", "cifar10", "cifar100", "one", "mean", "²", "١", "\x00", "a,b",
           "ptq_accuracy", "[\"analog_accuracy\",\"baseline_accuracy\"]", "9" * 30, "class_scene", "time"]  # fmt: skip
_LABELS = ["", "@x", "@..", "@a/b", "@.h", "@", "@ok=1", "@é"]


_VALID = {
    "benchmark": ["analognas", "analognas:objective=ptq_accuracy", "nb201", "nb201:dataset=cifar100,seed_mode=mean",
                  "nats-sss", "nas-bench-macro@m", "tnb101-micro:task=jigsaw"],
    "strategy": ["random_search", "random_search:replace=False", "regularized_evolution:population_size=10,sample_size=3",
                 "local_search@ls", "mo_random_search:replace=true"],
}  # fmt: skip


def _random_spec(rng, kind: str = "benchmark") -> str:
    if rng.random() < 0.5:
        return str(rng.choice(_VALID[kind]))
    name = str(rng.choice(_NAMES))
    items = [f"{rng.choice(_KEYS)}={rng.choice(_VALUES)}" for _ in range(int(rng.integers(0, 3)))]
    if rng.random() < 0.1:
        items.append(str(rng.choice(_VALUES)))  # no '='
    sep = ":" if items or rng.random() < 0.2 else ""
    return f"{name}{sep}{','.join(items)}{rng.choice(_LABELS)}"


@pytest.mark.data
def test_fuzz_spec_grammar_and_query(tmp_path, capsys, nb201_data):
    """Thousands of generated `run` and `query` command lines: each ends with exit 0, or
    exit 2 and one line of error, never a traceback (a run that fails is exit 1 with its
    error listed, which only a strategy crashing at run time produces)."""
    rng = np.random.default_rng(2024)
    archs = ["0", "15624", "15625", "-3", "²", "", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
             "|x~0|", "1,2", "99999999999999999999", "abc", "0x10", " 7"]  # fmt: skip
    outcomes = {0: 0, 2: 0}
    for i in range(2000):
        if rng.random() < 0.6:
            argv = ["run", "-b", _random_spec(rng), "-s", _random_spec(rng, "strategy"), "--seeds", "1", "--max-evals", "2",
                    "--root", str(tmp_path), "--name", f"f{i}", "-q", "--no-report"]  # fmt: skip
        else:
            argv = ["query", _random_spec(rng), *[str(rng.choice(archs)) for _ in range(int(rng.integers(1, 3)))]]
        code, out, err = _cli(argv, capsys)
        assert "Traceback" not in err, (argv, err)
        assert code in (0, 2), (argv, code, out, err)
        if code == 2:
            assert len([line for line in err.splitlines() if line.strip()]) == 1, (argv, err)
        outcomes[code] += 1
    assert outcomes[0] > 200 and outcomes[2] > 500  # both kinds were exercised
