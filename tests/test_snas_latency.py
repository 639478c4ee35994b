"""SNAS and latency-aware DARTS on tiny data; the per-op latency model fitted on nb201."""

from __future__ import annotations

import pickle
import random
import subprocess
import sys

import numpy as np
import pytest

import benchlab
from benchlab import InvalidConfig, Objective, RunSpec

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")  # the digits dataset

import benchlab.nn as bn  # noqa: E402
import benchlab.strategies  # noqa: E402,F401  (registers them)
from benchlab.benchmarks.nb201 import NB201Space  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny networks gain nothing from threads; one thread keeps the tests quick on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(**extra) -> dict:
    """Seconds-long settings: 8x8 digits, C=4, N=1, 2 iterations per ask."""
    kw = dict(dataset="digits", C=4, N=1, batch_size=16, steps_per_ask=2, epochs=1, device="cpu", cost="steps")
    kw.update(extra)
    return kw


def make(name: str, seed: int, **extra):
    s = benchlab.make_strategy(name, tiny(**extra))
    s.setup(NB201Space(), [Objective("valid_acc")], None, seed=seed)
    return s


def asks(name: str, seed: int, n: int = 3, pickle_at: int | None = None, **extra) -> list:
    s = make(name, seed, **extra)
    out = []
    for i in range(n):
        if i == pickle_at:
            s = pickle.loads(pickle.dumps(s))
        out.append(s.ask())
    return out


def derived(name: str, seed: int, **extra):
    """The cell derived after two asks of 5 iterations (a short schedule), and the stats."""
    s = make(name, seed, **{"steps_per_ask": 5, **extra})
    s.ask()
    return s.ask().arch, s.stats()


# -- pieces ---------------------------------------------------------------------------------


def test_concrete_sample_and_costs():
    from benchlab.nn._snas import concrete_sample, normalized_costs, op_costs

    torch.manual_seed(0)
    alpha = torch.randn(6, 5, requires_grad=True)
    soft, index = concrete_sample(alpha, 1.0)
    assert soft.shape == (6, 5) and torch.allclose(soft.sum(dim=1), torch.ones(6))
    assert index.tolist() == soft.detach().argmax(dim=1).tolist()  # the child the relaxation relaxes
    (soft * torch.arange(5.0)).sum().backward()
    assert alpha.grad is not None and torch.count_nonzero(alpha.grad) > 6  # pathwise gradient
    cold, _ = concrete_sample(alpha.detach(), 0.03)
    assert float(cold.max(dim=1).values.min()) > 0.5  # low temperature: close to one-hot
    # the discrete child is a draw of Categorical(softmax(alpha)) (Gumbel-max), whatever tau
    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5, 1.0]] * 6)
    counts = np.zeros(5)
    for _ in range(400):
        counts += np.bincount(concrete_sample(logits, 5.0)[1].numpy(), minlength=5)
    assert np.abs(counts / counts.sum() - logits[0].softmax(0).numpy()).max() < 0.03
    # FLOPs and params of one edge: none, skip and pooling are free, a 3x3 conv costs 9 1x1s
    for resource in ("flops", "params"):
        c = op_costs(resource)[0]
        assert c[0] == c[1] == c[4] == 0 and 8.5 < c[3] / c[2] <= 9
    mac = op_costs("mac")[0]
    assert mac[0] == mac[1] == 0 < mac[4] < mac[2] < mac[3]
    norm = normalized_costs(op_costs("flops"))
    assert min(min(r) for r in norm) == 0 and sum(max(r) for r in norm) == pytest.approx(1.0)
    with pytest.raises(InvalidConfig, match="unknown SNAS resource"):
        op_costs("energy")


# -- SNAS (no table needed) -----------------------------------------------------------------


@pytest.mark.parametrize("extra", [{}, {"resource_weight": 1.0}, {"resource_weight": 1.0, "resource_estimator": "reparam"}])
def test_snas_deterministic_and_pickle_resume(extra):
    a = asks("snas", 3, **extra)
    b = asks("snas", 3, pickle_at=1, **extra)
    assert [t.arch for t in a] == [t.arch for t in b]
    assert [t.cost for t in a] == [2.0, 2.0, 2.0]
    assert [t.info["steps"] for t in a] == [2, 4, 6]
    for t in a:
        NB201Space().validate(t.arch)


def test_snas_state_and_global_rng():
    before = (random.getstate(), np.random.get_state()[1].copy(), torch.random.get_rng_state().clone())
    s = make("snas", 1, resource_weight=1.0)
    s.ask()
    assert random.getstate() == before[0]
    assert np.array_equal(np.random.get_state()[1], before[1])
    assert torch.equal(torch.random.get_rng_state(), before[2])
    st = s.stats()
    assert 0.03 < st["tau"] < 1.0  # annealed linearly from tau_max=1 towards tau_min=0.03
    assert 0.0 <= st["expected_cost"] <= 1.0
    engine = s._search
    assert engine.tau == pytest.approx(1.0 - 0.97 * engine.steps / engine.total_steps)


def test_snas_resource_penalty_derives_a_cheaper_cell():
    """The score-function estimate of the FLOPs penalty alone moves the derived cell: with
    eta=10 it has fewer FLOPs than plain SNAS on the same seed (short schedule, arch lr 0.03;
    measured: cheaper on 19 of 20 seeds)."""
    plain, plain_stats = derived("snas", 0, arch_lr=0.03)
    cheap, cheap_stats = derived("snas", 0, arch_lr=0.03, resource_weight=10.0)
    assert bn.nb201_flops(cheap) < bn.nb201_flops(plain)
    assert cheap_stats["expected_cost"] < plain_stats["expected_cost"]


def test_refuses_bad_parameters():
    for bad, match in (({"resource_estimator": "exact"}, "'score', 'reparam'"), ({"resource_weight": -1.0}, ">= 0"),
                       ({"tau_min": 0.0}, "> 0")):  # fmt: skip
        with pytest.raises(InvalidConfig, match=match):
            benchlab.make_strategy("snas", tiny(**bad))
    s = benchlab.strategies.oneshot.SNAS(**tiny(resource="energy"))
    with pytest.raises(InvalidConfig, match="'flops', 'params', 'mac' or 'latency/<device>'"):
        s.setup(NB201Space(), [Objective("valid_acc")], None, seed=0)
    with pytest.raises(InvalidConfig, match="latency_weight"):
        benchlab.make_strategy("darts_latency", tiny(latency_weight=-0.5))


def test_params_and_conformance_opt_out():
    from benchlab.testing import check_params
    from benchlab.testing._strategy_checks import strategy_cases

    names = {c.target for c in strategy_cases()}
    for name in ("snas", "darts_latency"):
        assert name not in names  # conformance_cases = []: the toy spaces have no network
        check_params(name)


# -- the latency model and latency-aware DARTS (need the nb201 table) -----------------------


@pytest.mark.data
def test_latency_model_is_the_least_squares_fit(nb201_data):
    from benchlab.ext import open_table
    from benchlab.nn._latency import cell_ops

    space = NB201Space()
    rows = np.arange(0, 15625, 97)
    assert [tuple(r) for r in cell_ops(rows)] == [space.from_id(int(i)) for i in rows]  # row = benchlab id
    table = open_table("nb201")
    ops = cell_ops(np.arange(15625))
    for device in ("pixel3", "i7-7820x"):
        model = bn.fit_latency_model(device)
        y = np.asarray(table.column(f"latency/{device}"), dtype=float)
        ok = np.isfinite(y)
        assert model.n_rows == ok.sum() and model.column == f"latency/{device}"
        pred = model.bias + sum(np.asarray(model.weights)[e, ops[:, e]] for e in range(6))
        resid = (y - pred)[ok]
        # normal equations: the residual has mean 0 on every (edge, op) group of the design
        for e in range(6):
            for o in range(5):
                assert abs(resid[ops[ok, e] == o].mean()) < 1e-8
        assert model.r2 == pytest.approx(1 - (resid**2).sum() / ((y[ok] - y[ok].mean()) ** 2).sum())
        assert model.predict(space.from_id(1234)) == pytest.approx(pred[1234])
        assert all(row[0] == 0.0 for row in model.weights)  # 'none' is each edge's reference
    fpga = bn.fit_latency_model("latency/fpga")  # a simulated device: exactly additive
    assert fpga.r2 > 1 - 1e-9
    assert {"pixel3", "fpga", "i7-7820x"} <= set(bn.latency_devices())
    with pytest.raises(InvalidConfig, match="latency devices: 1080ti_1"):
        bn.fit_latency_model("pixel9")


@pytest.mark.data
def test_latency_model_needs_no_torch(nb201_data):
    code = "import sys, benchlab.nn as bn; m = bn.fit_latency_model('fpga'); print(round(m.r2, 6), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1.0", "False"]


@pytest.mark.data
def test_darts_latency_deterministic_and_pickle_resume(nb201_data):
    a = asks("darts_latency", 3, latency_weight=0.5, latency_target=8.0, latency_hinge=True)
    b = asks("darts_latency", 3, pickle_at=1, latency_weight=0.5, latency_target=8.0, latency_hinge=True)
    assert [t.arch for t in a] == [t.arch for t in b]
    assert [t.info["steps"] for t in a] == [2, 4, 6]
    s = benchlab.make_strategy("darts_latency", tiny(latency_device="pixel9"))
    with pytest.raises(InvalidConfig, match="has no column 'latency/pixel9'"):
        s.setup(NB201Space(), [Objective("valid_acc")], None, seed=0)


@pytest.mark.data
def test_derived_latency_decreases_as_the_latency_weight_grows(nb201_data):
    """Acceptance: on a short schedule (10 iterations, arch lr 0.03) the table latency of
    the derived cell does not increase with latency_weight and drops from 0 to the largest.
    On the FPGA column the latency model is exact (R^2 = 1), so the table agrees with what
    the search optimises; on pixel3 (R^2 0.89) the largest weight still beats none."""
    from benchlab.ext import open_table

    table, space = open_table("nb201"), NB201Space()
    plain, _ = derived("darts_latency", 0, arch_lr=0.03, latency_weight=0.0)  # the same search on every device
    for device, weights in (("fpga", (1.0, 10.0)), ("pixel3", (1.0,))):
        column = table.column(f"latency/{device}")
        lat = [float(column[space.to_id(plain)])]
        expected = []
        for w in weights:
            arch, st = derived("darts_latency", 0, arch_lr=0.03, latency_device=device, latency_weight=w)
            lat.append(float(column[space.to_id(arch)]))
            expected.append(st["expected_latency_ms"])
        assert all(b <= a for a, b in zip(lat, lat[1:])) and lat[-1] < lat[0], (device, lat)
        assert all(b < a for a, b in zip(expected, expected[1:])), (device, expected)


@pytest.mark.data
def test_end_to_end_on_nb201_table(nb201_data):
    for name, extra in (("darts_latency", {"latency_weight": 0.2}),
                        ("snas", {"resource": "latency/pixel3", "resource_weight": 1.0})):  # fmt: skip
        spec = RunSpec(benchmark="nb201", strategy=name, strategy_kwargs=tiny(**extra), max_evaluations=3, seed=4)
        r1, r2 = benchlab.run(spec), benchlab.run(spec)
        assert r1.summary["status"] == "ok", r1.summary["error"]
        for key in ("arch", "value", "cost", "end", "incumbent_test"):
            assert np.array_equal(np.asarray(r1.columns[key]), np.asarray(r2.columns[key])), key
        assert r1.summary["recommended"]["arch"] == r1.columns["arch"][-1]
        assert r1.summary["strategy_stats"]["steps"] == 6
