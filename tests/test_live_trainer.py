"""The live trainer: determinism, bit-identical resume, device augmentation, recipes, errors (CPU, tiny nets)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from benchlab import InvalidConfig
from benchlab.nn import load_dataset
from benchlab.nn._trainer import (
    NB101_RECIPE,
    NB201_RECIPE,
    TrainConfig,
    _Loop,
    images_per_second,
    train,
)


def _tiny():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(16, 10),
    )  # fmt: skip


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits").take(train=300, valid=100, test=100)


CFG = TrainConfig(epochs=2, batch_size=64, device="cpu")


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_deterministic_under_seed_and_global_rng_untouched(digits):
    torch_state, np_state, py_state = torch.get_rng_state(), np.random.get_state(legacy=True), random.getstate()
    a = train(_tiny, digits, CFG, seed=3)
    b = train(_tiny, digits, CFG, seed=3)
    c = train(_tiny, digits, CFG, seed=4)
    assert _same_weights(a.model, b.model) and a.train_loss == b.train_loss and a.valid_acc == b.valid_acc
    assert a.test_acc == b.test_acc
    assert not _same_weights(a.model, c.model)
    assert torch.equal(torch.get_rng_state(), torch_state) and random.getstate() == py_state
    assert all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
               for x, y in zip(np.random.get_state(legacy=True), np_state))  # fmt: skip
    assert len(a.train_loss) == len(a.valid_acc) == 2 and 0 <= a.test_acc <= 100
    assert a.train_seconds > 0 and a.eval_seconds > 0 and a.n_params == sum(p.numel() for p in _tiny().parameters())
    assert not torch.are_deterministic_algorithms_enabled()  # restored after training


def test_resume_after_kill_is_bit_identical(digits, tmp_path):
    straight = train(_tiny, digits, CFG, seed=5)
    ckpt = tmp_path / "run.pt"

    def kill(epoch, metrics):
        if epoch == 1:
            raise KeyboardInterrupt  # the process dies right after epoch 1 was checkpointed

    with pytest.raises(KeyboardInterrupt):
        train(_tiny, digits, CFG, seed=5, checkpoint_path=ckpt, callback=kill)
    assert ckpt.is_file()
    resumed = train(_tiny, digits, CFG, seed=5, checkpoint_path=ckpt)
    assert resumed.resumed_from == 1
    assert _same_weights(straight.model, resumed.model)
    assert resumed.train_loss == straight.train_loss and resumed.valid_acc == straight.valid_acc
    assert resumed.test_acc == straight.test_acc
    # a finished checkpoint resumes at the end: no training, same result
    again = train(_tiny, digits, CFG, seed=5, checkpoint_path=ckpt)
    assert again.resumed_from == 2 and _same_weights(again.model, straight.model)
    with pytest.raises(InvalidConfig, match="belongs to another training"):
        train(_tiny, digits, CFG, seed=6, checkpoint_path=ckpt)
    ckpt.write_bytes(b"garbage")
    with pytest.raises(InvalidConfig, match="cannot be read.*delete it"):
        train(_tiny, digits, CFG, seed=5, checkpoint_path=ckpt)


def test_device_augmentation_matches_a_reference_crop_and_flip(digits):
    cfg = TrainConfig(epochs=1, batch_size=8, device="cpu", augment="crop-flip", pad=2)
    loop = _Loop(_tiny(), digits, cfg, "cpu")
    idx = torch.arange(8)
    offsets = torch.tensor([[0, 0], [4, 4], [1, 3], [2, 2], [0, 4], [3, 0], [4, 1], [2, 0]])
    flips = torch.tensor([False, True, False, True, True, False, False, True])
    x, y = loop.train_batch(idx, offsets, flips)
    raw = digits.x_train[:8].astype(np.float32)
    padded = np.pad(raw, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(8):
        oy, ox = offsets[i].tolist()
        want = padded[i, :, oy : oy + 8, ox : ox + 8]
        if flips[i]:
            want = want[:, :, ::-1]
        want = (want / 255.0 - digits.mean[0]) / digits.std[0]
        np.testing.assert_allclose(x[i].numpy(), want, rtol=1e-5, atol=1e-5)
    assert torch.equal(y, torch.from_numpy(digits.y_train[:8].copy()))
    # offsets (2, 2) with pad 2 and no flip is the identity
    plain = TrainConfig(epochs=1, device="cpu", augment="none")
    assert _Loop(_tiny(), digits, plain, "cpu").pad == 0
    auto = _Loop(_tiny(), digits, TrainConfig(epochs=1, device="cpu"), "cpu")
    assert auto.crop and not auto.flip and auto.pad == 1  # digits: crop only, side 8 // 8


def test_schedule_and_recipes(digits):
    loop = _Loop(_tiny(), digits, TrainConfig(epochs=2, batch_size=100, lr=0.1, device="cpu"), "cpu")
    assert loop.steps_per_epoch == 3 and loop.total_steps == 6
    assert (
        loop.lr_at(0) == pytest.approx(0.1)
        and loop.lr_at(3) == pytest.approx(0.05)
        and loop.lr_at(6) == pytest.approx(0.0)
    )
    assert (NB201_RECIPE.optimizer, NB201_RECIPE.lr, NB201_RECIPE.nesterov, NB201_RECIPE.weight_decay) == (
        "sgd",
        0.1,
        True,
        5e-4,
    )
    assert (NB201_RECIPE.epochs, NB201_RECIPE.batch_size, NB201_RECIPE.label_smoothing) == (200, 256, 0.0)
    assert (NB101_RECIPE.optimizer, NB101_RECIPE.lr, NB101_RECIPE.rmsprop_eps, NB101_RECIPE.weight_decay) == (
        "rmsprop",
        0.2,
        1.0,
        1e-4,
    )
    assert NB101_RECIPE.epochs == 108 and NB201_RECIPE.replace(epochs=12).epochs == 12
    rms = _Loop(_tiny(), digits, NB101_RECIPE.replace(epochs=1, device="cpu"), "cpu")
    assert isinstance(rms.opt, torch.optim.RMSprop) and rms.opt.defaults["alpha"] == 0.9


def test_label_smoothing_clip_and_valid_every(digits):
    cfg = TrainConfig(epochs=3, batch_size=64, device="cpu", label_smoothing=0.1, grad_clip=1.0, valid_every=0,
                      schedule="constant", lr=0.05)  # fmt: skip
    r = train(_tiny, digits, cfg, seed=0)
    assert math.isnan(r.valid_acc[0]) and math.isnan(r.valid_acc[1]) and not math.isnan(r.valid_acc[2])
    assert r.final_valid_acc == r.valid_acc[-1] and r.to_dict()["epochs"] == 3 and "model" not in r.to_dict()


def test_images_per_second(digits):
    ips = images_per_second(_tiny, digits, TrainConfig(epochs=1, batch_size=64, device="cpu"), steps=3, warmup=1)
    assert ips > 0 and math.isfinite(ips)


def test_bad_config():
    with pytest.raises(InvalidConfig, match="epochs must be an integer >= 1"):
        TrainConfig(epochs=0)
    with pytest.raises(InvalidConfig, match="optimizer must be 'sgd' or 'rmsprop'"):
        TrainConfig(optimizer="adam")
    with pytest.raises(InvalidConfig, match="augment must be one of"):
        TrainConfig(augment="cutout")
    with pytest.raises(InvalidConfig, match="has no field"):
        TrainConfig().replace(lr_max=3)
    assert TrainConfig(augment=True).augment == "crop-flip" and TrainConfig(augment=False).augment == "none"
    with pytest.raises(InvalidConfig, match="no CUDA device|not a torch device"):
        train(_tiny, None, TrainConfig(device="cuda:0" if not torch.cuda.is_available() else "bogus"), seed=0)
    with pytest.raises(InvalidConfig, match="seed must be an integer"):
        train(_tiny, None, TrainConfig(device="cpu"), seed=-1)


@pytest.mark.gpu
def test_cuda_matches_the_cpu_batches(digits):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    cfg = TrainConfig(epochs=2, batch_size=64, device="cuda", deterministic=True, amp="off", channels_last=False)
    gpu = train(_tiny, digits, cfg, seed=3)
    cpu = train(_tiny, digits, cfg.replace(device="cpu"), seed=3)
    assert gpu.train_loss == pytest.approx(cpu.train_loss, rel=2e-2)  # same batches; TF32/cuDNN numerics differ
    fast = train(_tiny, digits, TrainConfig(epochs=2, batch_size=64, device="cuda"), seed=3)  # bf16, channels_last
    assert fast.test_acc > 0


# -- the live benchmarks (nb201-live, nb101-live) ------------------------------------------

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import benchlab
import benchlab.testing as bt
from benchlab import InvalidArchitecture, make_benchmark, open_table, read_trials
from benchlab.nn import LiveBenchmark, export_table

TINY = {"dataset": "digits", "C": 2, "N": 1, "epochs": [1], "device": "cpu", "subset": [128, 64, 64],
        "train": {"batch_size": 64}}  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny nets run fastest on one thread (and the CI machine is shared)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _bench(tmp_path, **kw):
    return make_benchmark("nb201-live", {**TINY, "cache_dir": str(tmp_path / "cache"), **kw}, cache=False)


def test_live_benchmarks_are_registered_and_describe_themselves(tmp_path):
    assert {"nb201-live", "nb101-live"} <= set(benchlab.BENCHMARKS.names())
    bench = _bench(tmp_path)
    assert isinstance(bench, LiveBenchmark) and bench.fidelity.values == (1,) and bench.report_metric == "test_acc"
    d = bench.describe()
    json.dumps(d)
    assert d["network"] == {"network": "NB201Network", "C": 2, "N": 1} and "unknown" in d["optimum_note"]
    default = make_benchmark("nb201-live", {}, cache=False)
    assert default.fidelity.default == 12 and default.dataset == "fashion-mnist" and default.C == 16
    assert make_benchmark("nb101-live", {}, cache=False).fidelity.values == (4, 12, 36, 108)
    assert bench.optimum("test_acc") == 100.0
    with pytest.raises(InvalidConfig, match="no optimum for"):
        bench.optimum("latency")
    for bad, match in (({"fidelity": 5}, "not one of epochs"), ({"cost": "flops"}, "'cost' must be one of 'seconds'"),
                       ({"dataset": "mnist"}, "'dataset' must be one of"), ({"train": {"epochs": 3}}, "set by the fidelity"),
                       ({"C": "4x"}, "'C' must be an integer"), ({"keep_checkpoints": "maybe"}, "true or false"),
                       ({"Cc": 4}, "did you mean 'C'"),
                       ({"train": {"lr_max": 1}}, "has no field"), ({"subset": [1, 2]}, "subset must be"),
                       ({"split": "nb101"}, "split must be"), ({"epochs": []}, "at least one")):  # fmt: skip
        with pytest.raises(InvalidConfig, match=match):
            _bench(tmp_path, **bad)
    # built directly (no declared-parameter check), the constructor still refuses bad values
    from benchlab.benchmarks.live import NB201Live

    for bad, match in (({"cost": "flops"}, "cost must be"), ({"dataset": "mnist"}, "unknown dataset"), ({"C": 0}, "C must be")):
        with pytest.raises(InvalidConfig, match=match):
            NB201Live(**{**TINY, **bad})
    assert make_benchmark("nb201-live", {**TINY, "C": "2", "progress": "FALSE"}, cache=False).C == 2  # text converted


def test_live_benchmark_quick_conformance_checks(tmp_path):
    bench = _bench(tmp_path, seeds=[0])
    for check in (bt.check_invalid_archs, bt.check_describe):
        check(bench)
    assert type(bench).conformance_cases == []  # opted out of the registry-wide parametrisation


@pytest.mark.slow
def test_live_benchmark_conformance_checks(tmp_path):
    """Every benchmark check except check_optimum (a live optimum is unknown, and it would
    train all 15,625 cells), on a tiny configuration with one shared training seed
    (about 240 trainings of a tiny network)."""
    bench = _bench(tmp_path, seeds=[0], subset=[64, 32, 32])
    checks = [c for c in bt.BENCHMARK_CHECKS if c is not bt.check_optimum]
    assert len(checks) == len(bt.BENCHMARK_CHECKS) - 1
    for check in checks:
        check(bench)


def test_live_evaluate_seeds_cache_and_costs(tmp_path):
    bench = _bench(tmp_path)
    arch = (3, 1, 3, 0, 2, 4)
    a = bench.evaluate(arch, rng=np.random.default_rng(7))
    seed = int(np.random.default_rng(7).integers(0, 2**31 - 1))
    assert a.seed == seed and a.fidelity == 1 and a.cost > 0 and 0 <= a.metrics["valid_acc"] <= 100
    files = list((bench.folder).glob("*/*.json"))
    assert len(files) == 1 and (bench.folder / "config.json").is_file() and not list(bench.folder.glob("*/*.pt"))
    # a new instance (a new process) reads the record: same metrics and the recorded cost
    again = _bench(tmp_path).evaluate(arch, rng=np.random.default_rng(7))
    assert again == a
    # cost="epochs" is a different unit over the same records
    epochs = _bench(tmp_path, cost="epochs")
    assert epochs.folder == bench.folder and epochs.evaluate(arch, rng=np.random.default_rng(7)).cost == 1.0
    # a fresh cache trains again, bit-identically on CPU
    fresh = make_benchmark("nb201-live", {**TINY, "cache_dir": str(tmp_path / "other")}, cache=False)
    b = fresh.evaluate(arch, rng=np.random.default_rng(7))
    assert b.metrics == a.metrics and b.seed == a.seed
    assert bench.query_cost(arch, 1) == a.cost  # the finished training's cost
    # the report trains once with the report seed, and the string form is accepted nowhere else
    rep = bench.report(arch)
    assert set(rep) == {"test_acc", "valid_acc", "train_acc", "params", "train_seconds"}
    assert rep["params"] == sum(p.numel() for p in bench.make_model(arch, bench.data, 0).parameters())
    with pytest.raises(InvalidArchitecture):
        bench.evaluate(bench.space.to_str(arch), rng=np.random.default_rng(0))
    # evaluate_many checks every architecture before training anything
    before = len(list(bench.folder.glob("*/*.json")))
    with pytest.raises(InvalidArchitecture):
        bench.evaluate_many([(0, 0, 0, 0, 0, 1), (9, 9, 9, 9, 9, 9)], rng=np.random.default_rng(0))
    assert len(list(bench.folder.glob("*/*.json"))) == before


def test_live_benchmark_resumes_a_partial_training(tmp_path):
    from benchlab.nn import train as train_fn

    bench = _bench(tmp_path, epochs=[2], seeds=[4])
    arch = (3, 3, 3, 3, 3, 3)
    _, ckpt, _ = bench._paths(bench._arch_str(arch), 2, 4)
    ckpt.parent.mkdir(parents=True)

    def kill(epoch, metrics):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the process dies after epoch 1 of 2
        train_fn(lambda: bench.make_model(arch, bench.data, 4), bench.data, bench.config.replace(epochs=2), 4,
                 checkpoint_path=ckpt, callback=kill)  # fmt: skip
    rec = bench.record(arch, 2, 4)
    assert rec["resumed_from"] == 1 and not ckpt.exists()
    straight = make_benchmark(
        "nb201-live", {**TINY, "epochs": [2], "seeds": [4], "cache_dir": str(tmp_path / "b")}, cache=False
    )
    ref = straight.record(arch, 2, 4)
    assert ref["resumed_from"] == 0
    assert (rec["valid_acc"], rec["test_acc"], rec["train_loss_curve"]) == (
        ref["valid_acc"],
        ref["test_acc"],
        ref["train_loss_curve"],
    )


def test_nb101_live_trains(tmp_path):
    bench = make_benchmark("nb101-live", {"dataset": "digits", "stem_channels": 4, "num_stacks": 2, "modules_per_stack": 1,
                                          "epochs": [1], "device": "cpu", "subset": [128, 64, 64],
                                          "cache_dir": str(tmp_path)}, cache=False)  # fmt: skip
    arch = bench.space.sample(np.random.default_rng(0))
    ev = bench.evaluate(arch, rng=np.random.default_rng(0))
    assert 0 <= ev.metrics["valid_acc"] <= 100 and ev.cost > 0
    assert bench.config.optimizer == "rmsprop" and bench.report(arch)["test_acc"] >= 0


def test_export_table_roundtrip_and_cli(tmp_path, capsys):
    from benchlab.cli import main

    bench = _bench(tmp_path, seeds=[0, 1])
    rng = np.random.default_rng(1)
    archs = [bench.space.sample(rng) for _ in range(3)]
    evs = [bench.evaluate(a, rng=rng) for a in archs] + [bench.evaluate(archs[0], rng=rng) for _ in range(3)]
    folder = export_table(bench, "live-test", root=tmp_path / "tables")
    t = open_table("live-test", root=tmp_path / "tables")
    assert folder == t.folder and t.meta["space"] == "nb201" and t.meta["live"]["config"]["network"]["C"] == 2
    arch_col = [str(s) for s in t.column("arch")]
    assert arch_col == sorted({bench.space.to_str(a) for a in archs}) and t.n_rows == len(arch_col)
    records = bench.cached_records()
    for a in archs:
        i = arch_col.index(bench.space.to_str(a))
        mine = [r for r in records if r["arch"] == arch_col[i]]
        assert t.column("digits/n_seeds@1")[i] == len(mine)
        assert t.column("digits/valid_acc@1")[i] == pytest.approx(np.mean([r["valid_acc"] for r in mine]))
        assert t.column("digits/test_acc@1")[i] == pytest.approx(np.mean([r["test_acc"] for r in mine]))
    assert {e.seed for e in evs} <= {0, 1} and t.verify() == []
    # the CLI, from the cache folder and from a spec
    assert main(["live", "export", str(bench.folder), "--name", "live-cli", "--root", str(tmp_path / "tables")]) == 0
    assert "3 architectures" in capsys.readouterr().out or open_table("live-cli", root=tmp_path / "tables").n_rows == 3
    spec = "nb201-live:" + ",".join(
        f"{k}={json.dumps(v)}" for k, v in {**TINY, "seeds": [0, 1], "cache_dir": str(tmp_path / "cache")}.items()
    )
    assert main(["live", "export", "--benchmark", spec, "--name", "live-spec", "--root", str(tmp_path / "tables")]) == 0
    assert open_table("live-spec", root=tmp_path / "tables").n_rows == len(arch_col)
    assert main(["live", "export", str(tmp_path / "nothing"), "--name", "x"]) != 0


# -- end to end: `benchlab run` on a live benchmark -----------------------------------------

_SPEC = 'nb201-live:dataset=digits,C=2,N=1,epochs=[1],device=cpu,subset=[128,64,64],train={"batch_size":64}'


def _run_cli(root: Path, data: Path, monkeypatch, seeds: int = 2) -> dict:
    """`benchlab run` in-process with its own data folder (so its own live cache)."""
    from benchlab import _runner
    from benchlab.cli import main

    monkeypatch.setenv("BENCHLAB_DATA", str(data))
    monkeypatch.setattr(_runner, "_BENCHMARK_CACHE", {})  # no benchmark instance (and its records) reused
    code = main(["run", "--benchmark", _SPEC, "--strategies", "random_search", "regularized_evolution", "--seeds", str(seeds),
                 "--max-evals", "4", "--name", "live", "--root", str(root), "--no-report", "--quiet"])  # fmt: skip
    assert code == 0
    return _trajectories(root)


def _trajectories(root: Path) -> dict:
    out = {}
    for run in sorted((root / "live").glob("*/*/seed-*")):
        trials = read_trials(run)
        out[str(run.relative_to(root))] = (
            list(trials["arch"]),
            [float(v) for v in trials["value"]],
            [float(v) for v in trials["fidelity"]],
        )
    return out


def test_benchlab_run_live_is_deterministic(tmp_path, monkeypatch):
    first = _run_cli(tmp_path / "a", tmp_path / "data-a", monkeypatch, seeds=1)
    second = _run_cli(tmp_path / "b", tmp_path / "data-b", monkeypatch, seeds=1)  # fresh folder and cache: retrained
    assert len(list((tmp_path / "data-b" / "live").glob("*/*/*.json"))) >= 8
    assert len(first) == 2 and all(len(v[0]) == 4 for v in first.values())
    assert first == second


@pytest.mark.slow
def test_benchlab_run_live_resumes_after_a_kill(tmp_path, monkeypatch):
    """Kill `benchlab run` (SIGKILL) mid-run, run it again: it completes with the same
    architectures and metrics as an uninterrupted run."""
    reference = _run_cli(tmp_path / "ref", tmp_path / "data-ref", monkeypatch)
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "benchlab.cli", "run", "--benchmark", _SPEC, "--strategies", "random_search",
           "regularized_evolution", "--seeds", "2", "--max-evals", "4", "--name", "live", "--root",
           str(tmp_path / "run"), "--no-report", "--quiet"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "BENCHLAB_DATA": str(data)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:  # kill once some trainings are done but not all runs
            if len(list(data.glob("live/*/*/*.json"))) >= 3 or proc.poll() is not None:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    summaries = list((tmp_path / "run").glob("live/*/*/seed-*/summary.json"))
    assert len(summaries) < 4, "the run finished before it could be killed; the test proves nothing"
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _trajectories(tmp_path / "run") == reference
