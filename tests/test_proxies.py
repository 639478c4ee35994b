"""Zero-cost proxies: published definitions on hand-computed nets, params == table, CLI, proxy_search."""

from __future__ import annotations

import math

import numpy as np
import pytest

import benchlab
from benchlab import RunSpec

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import benchlab.strategies  # noqa: E402,F401
from benchlab.nn import _proxies as P  # noqa: E402


def _linear_net(w1, w2):
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(w1))
        net[2].weight.copy_(torch.tensor(w2))
    return net


def test_synflow_hand_computed_linear():
    # |W1| = [[1, 2], [3, 4]], |W2| = [[5, 6]]; all-ones input: h = |W1| 1 = [3, 7],
    # R = |W2| h = 15 + 42 = 57. dR/dW2 = h, dR/dW1_ji = |W2_j|, so
    # synflow = sum |W2| * h + sum_ji |W1_ji| |W2_j| = 57 + (1+2)*5 + (3+4)*6 = 57 + 57 = 114.
    net = _linear_net([[-1.0, 2.0], [3.0, -4.0]], [[5.0, -6.0]])
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert P.synflow(net, torch.zeros(7, 2)) == pytest.approx(114.0, rel=0, abs=1e-12)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # signs untouched


def test_synflow_conv_float64_and_bn_removed():
    # 1x1 conv with weight -2 on a 1x2x2 all-ones image, flatten, linear v = [1, -1, 2, -3]:
    # R = 2 * (1 + 1 + 2 + 3) = 14; synflow = |w| sum|v| + sum |v_p| |w| = 2 R = 28.
    conv = nn.Conv2d(1, 1, 1, bias=False)
    lin = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(-2.0)
        lin.weight.copy_(torch.tensor([[1.0, -1.0, 2.0, -3.0]]))
    with_bn = nn.Sequential(conv, nn.BatchNorm2d(1), nn.Flatten(), lin)
    assert P.synflow(with_bn, torch.zeros(1, 1, 2, 2)) == 28.0  # BN removed (Abdelfattah et al.'s bn=False)
    # double precision: a float32 network of a huge product keeps finite digits
    deep = nn.Sequential(*[nn.Linear(4, 4, bias=False) for _ in range(40)])
    with torch.no_grad():
        for m in deep:
            m.weight.fill_(20.0)
    value = P.synflow(deep, torch.zeros(1, 4))
    assert math.isfinite(value) and value > 1e60  # 4 * 80**40 * 40-ish overflows float32 (3.4e38)


def test_snip_grad_norm_against_autograd_and_copies():
    torch.manual_seed(0)
    net = _linear_net([[0.5, -1.0], [1.5, 0.2]], [[1.0, -2.0]])
    net[2] = nn.Linear(2, 3, bias=False)
    x, y = torch.randn(5, 2), torch.tensor([0, 1, 2, 1, 0])
    loss = nn.functional.cross_entropy(net(x), y)
    g = torch.autograd.grad(loss, [net[0].weight, net[2].weight])
    snip = sum(float((w.detach() * gw).abs().sum()) for w, gw in zip([net[0].weight, net[2].weight], g))
    gn = sum(float(gw.norm()) for gw in g)
    assert P.snip(net, x, y) == pytest.approx(snip, rel=1e-6)
    assert P.grad_norm(net, x, y) == pytest.approx(gn, rel=1e-6)
    assert net[0].weight.grad is None  # computed on a copy


def test_naswot_kernel_hand_computed():
    # one ReLU seeing the inputs themselves: codes c = (x > 0)
    x = torch.tensor([[1.0, -1.0, 2.0], [1.0, 1.0, -2.0], [-1.0, -1.0, -1.0]])
    c = (x > 0).double().numpy()
    K = c @ c.T + (1 - c) @ (1 - c).T
    expected = np.linalg.slogdet(K)[1]
    assert P.naswot(nn.Sequential(nn.ReLU()), x) == pytest.approx(expected, abs=1e-12)


def test_all_proxies_deterministic_on_nb201_network():
    from benchlab.nn import NB201Network

    x = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(8) % 10
    values = []
    for _ in range(2):
        net = NB201Network((3, 1, 2, 4, 3, 1), num_classes=10, C=4, N=1, in_channels=1, init_seed=5)
        state = {k: v.clone() for k, v in net.state_dict().items()}
        values.append({name: fn(net, x, y) for name, fn in P.PROXIES.items()})
        assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())  # the caller's model is untouched
    assert values[0] == values[1]
    assert all(math.isfinite(v) for v in values[0].values())
    assert values[0]["params"] == sum(p.numel() for p in net.parameters())


@pytest.mark.data
def test_params_equal_the_table(nb201_data):
    from benchlab.nn import CellScorer

    bench = benchlab.make_benchmark("nb201")
    scorer = CellScorer(["params"], bench_dataset="cifar10-valid")
    rng = np.random.default_rng(0)
    for i in rng.choice(15625, size=25, replace=False):
        arch = bench.space.from_id(int(i))
        assert scorer.score(arch)["params"] == bench.report(arch)["cifar10-valid/params"]


@pytest.mark.data
def test_cli_proxies(nb201_data, tmp_path, capsys):
    from benchlab.cli import main

    rc = main(["proxies", "--sample", "5", "--proxies", "params", "naswot", "--data", "digits", "--C", "16", "--N", "5",
               "--batch-size", "16", "--out", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "spearman" in out and "params equal to the table's cifar10-valid/params: 5/5" in out
    assert (tmp_path / "scores.csv").read_text().count("\n") == 6
    assert main(["proxies", "--sample", "2"]) == 2  # too few cells: a clear error


@pytest.mark.data
def test_proxy_search_best_first_and_deterministic(nb201_data):
    kw = dict(n_candidates=8, C=4, N=1, cost="steps")
    spec = RunSpec(benchmark="nb201", strategy="proxy_search", strategy_kwargs=kw, max_evaluations=10, seed=1)
    r1, r2 = benchlab.run(spec), benchlab.run(spec)
    assert r1.summary["status"] == "ok", r1.summary["error"]
    assert r1.summary["stop_reason"] == "exhausted" and r1.summary["n_evaluations"] == 8
    assert list(r1.columns["arch"]) == list(r2.columns["arch"])
    assert r1.columns["cost"].tolist() == [8.0] + [0.0] * 7
    bench = benchlab.make_benchmark("nb201")
    s = benchlab.make_strategy("proxy_search", kw)
    s.setup(bench.space, bench.objectives, None, seed=3)
    trials = [s.ask() for _ in range(8)]
    scores = [t.info["score"] for t in trials]
    assert scores == sorted(scores, reverse=True)
    assert s.ask() is None


@pytest.mark.data
def test_proxy_rea_warm_start(nb201_data):
    kw = dict(n_candidates=6, C=4, N=1, population_size=4, sample_size=2, cost="table")
    res = benchlab.run(RunSpec(benchmark="nb201", strategy="proxy_rea", strategy_kwargs=kw, max_evaluations=9, seed=2))
    assert res.summary["status"] == "ok", res.summary["error"]
    assert res.summary["n_evaluations"] == 9
    bench = benchlab.make_benchmark("nb201")
    rea = benchlab.make_strategy("proxy_rea", kw).setup(bench.space, bench.objectives, None, seed=3)
    ranked = benchlab.make_strategy("proxy_search", dict(n_candidates=6, C=4, N=1)).setup(bench.space, bench.objectives, None, seed=3)
    warm = [rea.ask() for _ in range(4)]
    assert [t.arch for t in warm] == [ranked.ask().arch for _ in range(4)]  # the population = top-4 proxy cells
    for t in warm:
        rea.tell(t, bench.evaluate(t.arch))
    child = rea.ask()  # then evolution: a mutation of a population member (one edge differs)
    assert min(sum(a != b for a, b in zip(child.arch, t.arch)) for t in warm) == 1


def test_proxy_names_known_without_torch_match_the_proxies():
    import benchlab.nn

    assert benchlab.nn.PROXY_NAMES == tuple(P.PROXIES) and P.DATA_INDEPENDENT == benchlab.nn.DATA_INDEPENDENT
    assert set(benchlab.nn.DATA_INDEPENDENT) <= set(benchlab.nn.PROXY_NAMES)
