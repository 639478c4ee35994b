"""Weight-sharing strategies (DARTS-V1/V2, GDAS, RSPS, ENAS) on tiny data, and Trial.cost."""

from __future__ import annotations

import dataclasses
import pickle
import random
import subprocess
import sys

import numpy as np
import pytest

import benchlab
from benchlab import InvalidConfig, Objective, RunSpec, Strategy
from benchlab.testing import ToyBenchmark, ToySpace

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")  # the digits dataset

import benchlab.strategies  # noqa: E402,F401  (registers them)
from benchlab.benchmarks.nb201 import NB201Space  # noqa: E402

METHODS = ("darts_v1", "darts_v2", "gdas", "rsps", "enas")


def tiny(name: str, **extra) -> dict:
    """Seconds-long settings: 8x8 digits, C=4, N=1, 2 iterations per ask."""
    kw = dict(dataset="digits", C=4, N=1, batch_size=16, steps_per_ask=2, epochs=1, device="cpu", cost="steps")
    if name in ("rsps", "enas"):
        kw["select_num"] = 3
    if name == "enas":
        kw.update(controller_steps=1, controller_aggregate=2)
    kw.update(extra)
    return kw


def asks(name: str, seed: int, n: int = 3, pickle_at: int | None = None, **extra) -> list:
    s = benchlab.make_strategy(name, tiny(name, **extra))
    s.setup(NB201Space(), [Objective("valid_acc")], None, seed=seed)
    out = []
    for i in range(n):
        if i == pickle_at:
            s = pickle.loads(pickle.dumps(s))
        out.append(s.ask())
    return out


def test_importing_does_not_import_torch():
    code = "import sys, benchlab, benchlab.strategies, benchlab.nn, benchlab.cli._main; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_supernet_modes_and_derive():
    from benchlab.nn._supernet import NB201SuperNet, gumbel_weights

    torch.manual_seed(0)
    net = NB201SuperNet(C=4, N=1, num_classes=10, in_channels=1)
    x = torch.randn(3, 1, 8, 8)
    for kw in ({"mode": "softmax"}, {"mode": "gumbel", "tau": 5.0}, {"mode": "arch", "arch": (3, 1, 0, 2, 4, 1)}):
        assert net(x, **kw).shape == (3, 10)
    with torch.no_grad():
        net.alpha.zero_()
        net.alpha[torch.arange(6), torch.tensor([3, 1, 0, 2, 4, 1])] = 1.0
    assert net.derive() == (3, 1, 0, 2, 4, 1)
    hard, index = gumbel_weights(net.alpha, 1.0)
    assert torch.equal(hard.detach().sum(dim=1), torch.ones(6))
    assert sorted(set(hard.detach().flatten().tolist())) == [0.0, 1.0]
    assert [int(hard[e].argmax()) for e in range(6)] == index
    net.zero_grad()
    net(x, mode="gumbel", tau=1.0).sum().backward()
    assert net.alpha.grad is not None and torch.count_nonzero(net.alpha.grad) > 6  # straight-through: every op's logit
    with pytest.raises(ValueError, match="6-tuple"):
        net(x, mode="arch", arch=(1, 2))


@pytest.mark.parametrize("name", METHODS)
def test_deterministic_and_pickle_resume(name):
    a = asks(name, 3)
    b = asks(name, 3, pickle_at=1)
    assert [t.arch for t in a] == [t.arch for t in b]
    assert [t.cost for t in a] == [2.0, 2.0, 2.0]  # cost="steps": iterations per ask
    assert [t.info["steps"] for t in a] == [2, 4, 6]
    for t in a:
        NB201Space().validate(t.arch)


def test_seconds_cost_is_measured_and_does_not_change_the_search():
    steps = asks("gdas", 5)
    secs = asks("gdas", 5, cost="seconds")
    assert [t.arch for t in steps] == [t.arch for t in secs]
    assert all(t.cost > 0 and t.cost == t.info["seconds"] for t in secs)


def test_global_rng_untouched():
    before = (random.getstate(), np.random.get_state()[1].copy(), torch.random.get_rng_state().clone())
    asks("enas", 1, n=2)
    asks("gdas", 1, n=2)
    assert random.getstate() == before[0]
    assert np.array_equal(np.random.get_state()[1], before[1])
    assert torch.equal(torch.random.get_rng_state(), before[2])


def test_refuses_other_spaces_and_bad_kwargs():
    s = benchlab.make_strategy("darts_v1", tiny("darts_v1"))
    with pytest.raises(InvalidConfig, match="NAS-Bench-201 cell"):
        s.setup(ToySpace(), [Objective("valid_acc")], None, seed=0)
    for bad, match in (({"cost": "minutes"}, "'seconds', 'steps'"), ({"steps_per_ask": -1}, ">= 0"), ({"C": 0}, ">= 1"),
                       ({"nesterov": "yes"}, "true or false"), ({"select_num": 0}, "has no parameter")):  # fmt: skip
        # declared parameters: refused when the strategy is made, before anything runs
        with pytest.raises(InvalidConfig, match=match):
            benchlab.make_strategy("gdas", tiny("gdas", **bad))
    for bad in ({"cost": "minutes"}, {"steps_per_ask": -1}, {"C": 0}):
        s = benchlab.strategies.GDAS(**tiny("gdas", **bad))  # built directly: refused in setup
        with pytest.raises(InvalidConfig):
            s.setup(NB201Space(), [Objective("valid_acc")], None, seed=0)
    assert benchlab.make_strategy("rsps", {"select_num": "3", "nesterov": "FALSE"}).get_params()["nesterov"] is False


def test_any_space_of_the_nb201_cell_in_any_op_order():
    """The strategies read the space through ``choices()`` only: a space listing the NB201
    operations in another order gets the same cells, as its own option indices."""
    from benchlab import CategoricalSpace

    ops = NB201Space().choices()[0][1]
    shuffled = CategoricalSpace([(f"e{i}", tuple(reversed(ops))) for i in range(6)], name="nb201-reversed")
    for name in ("gdas", "rsps"):
        s = benchlab.make_strategy(name, tiny(name))
        s.setup(shuffled, [Objective("valid_acc")], None, seed=3)
        theirs = [t.arch for t in (s.ask(), s.ask())]
        ours = [t.arch for t in asks(name, 3, n=2)]
        as_names = [[shuffled.choices()[e][1][v] for e, v in enumerate(a)] for a in theirs]
        assert as_names == [[ops[v] for v in a] for a in ours]
        for a in theirs:
            shuffled.validate(a)


def test_conformance_opt_out_and_params():
    from benchlab.testing import check_params
    from benchlab.testing._strategy_checks import strategy_cases

    names = {c.target for c in strategy_cases()}
    for name in METHODS + ("proxy_search", "proxy_rea"):
        assert name not in names  # conformance_cases = []: the toy spaces have no network
        check_params(name)  # constructor / get_params / clone contract still holds


class _Charged(Strategy):
    """Proposes random cells and says each took 2.5 s to produce."""

    name = "_charged"

    def ask(self):
        return dataclasses.replace(self._trial(self.space.sample(self.rng)), cost=2.5)


def test_runner_charges_trial_cost():
    bench = ToyBenchmark(guard=False)
    res = benchlab.run(RunSpec(benchmark="toy", strategy="_charged", max_evaluations=4, seed=0), benchmark=bench,
                       strategy=_Charged())  # fmt: skip
    assert res.summary["status"] == "ok"
    assert res.columns["cost"].tolist() == [2.5] * 4
    assert res.columns["end"].tolist() == [2.5, 5.0, 7.5, 10.0]
    bad = _Charged()
    bad.ask = lambda: dataclasses.replace(bad._trial(bad.space.sample(bad.rng)), cost=float("nan"))
    res = benchlab.run(RunSpec(benchmark="toy", strategy="_charged", max_evaluations=2, seed=0), benchmark=bench, strategy=bad)
    assert res.summary["status"] == "error" and "Trial.cost" in res.summary["error"]["message"]


@pytest.mark.data
@pytest.mark.parametrize("name", METHODS)
def test_end_to_end_on_nb201_table(nb201_data, name):
    spec = RunSpec(benchmark="nb201", strategy=name, strategy_kwargs=tiny(name), max_evaluations=3, seed=4)
    r1, r2 = benchlab.run(spec), benchlab.run(spec)
    assert r1.summary["status"] == "ok", r1.summary["error"]
    assert r1.summary["n_evaluations"] == 3
    for key in ("arch", "value", "cost", "end", "incumbent_test"):
        assert np.array_equal(np.asarray(r1.columns[key]), np.asarray(r2.columns[key])), key
    assert r1.columns["cost"].tolist() == [2.0, 2.0, 2.0]
    assert r1.summary["recommended"]["arch"] == r1.columns["arch"][-1]  # the last derived cell
    assert r1.summary["strategy_stats"]["steps"] == 6
