"""REINFORCE strategies: the update on hand-checked cases, equality with the reference's torch
loop, the LSTM controller's backpropagation, learning on toy problems, NB201 protocol runs."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from benchlab import CategoricalSpace, Evaluation, InvalidConfig, Objective
from benchlab.strategies.reinforce import Reinforce
from benchlab.strategies.reinforce_lstm import ReinforceLSTM

OBJ = [Objective("valid_acc", "max", "%")]


def _ev(value: float) -> Evaluation:
    return Evaluation({"valid_acc": value}, cost=1.0)


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


# -- reinforce (factorised softmax policy) ---------------------------------------------------
def test_ema_baseline_is_bias_corrected_and_updated_before_the_advantage():
    space = CategoricalSpace([("a", (0, 1)), ("b", (0, 1, 2))])
    s = Reinforce(learning_rate=0.1, baseline_momentum=0.9, optimizer="sgd").setup(space, OBJ, seed=0)
    before = s.logits.copy()
    s.tell(s.ask(), _ev(80.0))
    assert s.baseline == pytest.approx(80.0)  # first baseline = first reward: advantage 0, no move
    np.testing.assert_array_equal(s.logits, before)
    t = s.ask()
    p = np.concatenate(s.probabilities())  # the probabilities t was sampled with
    s.tell(t, _ev(90.0))
    b = (0.9 * 0.1 * 80.0 + 0.1 * 90.0) / (0.9 * 0.1 + 0.1)
    assert s.baseline == pytest.approx(b)
    onehot = np.zeros(5)
    onehot[[t.arch[0], 2 + t.arch[1]]] = 1.0
    expected = before + 0.1 * (90.0 - b) * (onehot - p)  # SGD on -(r - b) log p: logits += lr (r - b)(1 - p)
    np.testing.assert_allclose(s.logits, expected, rtol=1e-12)


def test_adam_matches_the_reference_torch_loop():
    """The NB201 reference: Adam on softmax logits, loss (-log_prob * (reward - EMA)).sum()."""
    torch = pytest.importorskip("torch")
    space = CategoricalSpace([(f"e{i}", tuple(range(5))) for i in range(6)])
    s = Reinforce(learning_rate=0.5, baseline_momentum=0.9).setup(space, OBJ, seed=3)
    theta = torch.nn.Parameter(torch.tensor(s.logits.reshape(6, 5).copy(), dtype=torch.float64))
    opt = torch.optim.Adam([theta], lr=0.5)
    num = den = 0.0
    rng = np.random.default_rng(0)
    for _ in range(25):
        t = s.ask()
        reward = float(rng.uniform(80, 92))
        s.tell(t, _ev(reward))
        num, den = 0.9 * num + 0.1 * reward, 0.9 * den + 0.1
        log_prob = torch.distributions.Categorical(torch.softmax(theta, dim=-1)).log_prob(torch.tensor(t.arch))
        loss = (-log_prob * (reward - num / den)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        np.testing.assert_allclose(s.logits, theta.detach().numpy().ravel(), rtol=1e-9, atol=1e-12)


def test_learns_a_separable_objective_and_handles_uneven_decisions():
    space = CategoricalSpace([("a", (0, 1)), ("b", tuple(range(4))), ("c", tuple(range(7)))])
    target = (1, 2, 5)
    s = Reinforce(learning_rate=0.1).setup(space, OBJ, seed=1)
    for _ in range(300):
        t = s.ask()
        s.tell(t, _ev(float(sum(a == b for a, b in zip(t.arch, target)))))
    assert tuple(int(np.argmax(p)) for p in s.probabilities()) == target
    assert min(float(p[k]) for p, k in zip(s.probabilities(), target)) > 0.8
    assert s.recommend() == target


def test_minimised_objective_and_non_finite_results():
    space = CategoricalSpace([("a", (0, 1, 2))])
    s = Reinforce(learning_rate=0.2).setup(space, [Objective("err", "min")], seed=2)
    for _ in range(200):
        t = s.ask()
        s.tell(t, Evaluation({"err": float(t.arch[0])}, 1.0))  # option 0 is best when minimising
    assert int(np.argmax(s.probabilities()[0])) == 0
    steps, logits = s._steps, s.logits.copy()
    for bad in (math.nan, math.inf, -math.inf):
        s.tell(s.ask(), Evaluation({"err": bad}, 1.0))
    assert s._steps == steps and np.array_equal(s.logits, logits) and s._pending == {}


def test_parallel_tells_use_the_sampling_probabilities():
    space = CategoricalSpace([("a", (0, 1, 2)), ("b", (0, 1))])
    s = Reinforce(learning_rate=0.3, optimizer="sgd").setup(space, OBJ, seed=4)
    s.tell(s.ask(), _ev(50.0))
    s.tell(s.ask(), _ev(60.0))  # the policy has moved
    t1 = s.ask()
    p1 = np.concatenate(s.probabilities())
    t2 = s.ask()
    s.tell(t2, _ev(55.0))  # out of order: t2 first, then t1 after the policy moved again
    before = s.logits.copy()
    s.tell(t1, _ev(70.0))
    onehot = np.zeros(5)
    onehot[[t1.arch[0], 3 + t1.arch[1]]] = 1.0
    np.testing.assert_allclose(s.logits - before, 0.3 * (70.0 - s.baseline) * (onehot - p1), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs", [{"learning_rate": 0.0}, {"learning_rate": -1}, {"baseline_momentum": 1.0}, {"optimizer": "rmsprop"}]
)
def test_invalid_settings(kwargs):
    space = CategoricalSpace([("a", (0, 1))])
    with pytest.raises(InvalidConfig, match="reinforce"):
        Reinforce(**kwargs).setup(space, OBJ, seed=0)


# -- reinforce_lstm (autoregressive controller) ---------------------------------------------
def _log_prob(s: ReinforceLSTM, arch) -> float:
    _, _, cache = s._forward(arch, keep=True)
    return float(sum(math.log(probs[k]) for _, _, _, probs, k in cache))


def test_lstm_gradient_matches_finite_differences():
    space = CategoricalSpace([("a", (0, 1, 2)), ("b", (0, 1)), ("c", (0, 1, 2, 3))])
    s = ReinforceLSTM(hidden_size=5, num_layers=2).setup(space, OBJ, seed=0)
    s._theta = s._theta * 8  # larger weights: non-trivial gate saturation
    arch = (2, 0, 3)
    _, _, cache = s._forward(arch, keep=True)
    grad = s._grad_log_prob(cache)
    theta = s._theta.copy()
    rng = np.random.default_rng(0)
    for j in rng.choice(theta.size, size=60, replace=False):
        eps = 1e-6
        s._theta = theta.copy()
        s._theta[j] += eps
        up = _log_prob(s, arch)
        s._theta[j] -= 2 * eps
        down = _log_prob(s, arch)
        assert grad[j] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8), j


def test_lstm_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    space = CategoricalSpace([(f"e{i}", tuple(range(5))) for i in range(6)])
    s = ReinforceLSTM().setup(space, OBJ, seed=1)
    arch = (4, 0, 2, 2, 1, 3)
    _, _, cache = s._forward(arch, keep=True)
    grad = s._views(s._grad_log_prob(cache))
    p = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in s._views(s._theta).items()}
    with torch.random.fork_rng():  # nn.LSTM's own initialisation draws from torch's global RNG
        lstm = torch.nn.LSTM(32, 32, num_layers=2).double()
    # torch's LSTM: gates (i, f, g, o), weights split into input and hidden parts, two biases
    w = {f"weight_ih_l{l_}": p[f"w{l_}"][:, :32] for l_ in range(2)}
    w.update({f"weight_hh_l{l_}": p[f"w{l_}"][:, 32:] for l_ in range(2)})
    w.update({f"bias_ih_l{l_}": p[f"b{l_}"] for l_ in range(2)})
    w.update({f"bias_hh_l{l_}": torch.zeros(128, dtype=torch.float64) for l_ in range(2)})
    x, state, log_prob = p["input"].view(1, 1, 32), None, 0.0
    for i, k in enumerate(arch):
        out, state = torch.func.functional_call(lstm, w, (x, state))
        z = p["head_w"][5 * i : 5 * i + 5] @ out.view(-1) + p["head_b"][5 * i : 5 * i + 5]
        log_prob = log_prob + torch.log_softmax(2.5 * torch.tanh(z / 5.0), dim=0)[k]
        x = p["embed"][5 * i + k].view(1, 1, 32)
    log_prob.backward()
    for name, tensor in p.items():
        np.testing.assert_allclose(grad[name], tensor.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


def test_lstm_torch_backend_proposes_the_same_architectures_as_numpy():
    pytest.importorskip("torch")
    space = CategoricalSpace([(f"e{i}", tuple(range(5))) for i in range(6)] + [("odd", (0, 1, 2))])
    a = ReinforceLSTM(learning_rate=0.05).setup(space, OBJ, seed=3)
    b = ReinforceLSTM(learning_rate=0.05, backend="torch").setup(space, OBJ, seed=3)
    target = np.array([4, 0, 2, 2, 1, 3, 1])
    archs_a, archs_b = [], []
    for s, out in ((a, archs_a), (b, archs_b)):
        for _ in range(40):
            t = s.ask()
            out.append(t.arch)
            s.tell(t, _ev(float(np.sum(np.asarray(t.arch) == target)) * 10.0))
    assert archs_a == archs_b  # same initial weights, same uniform draws, same updates up to rounding
    assert a._steps == b._steps == 40
    assert a._baseline == pytest.approx(b._baseline, rel=1e-9)
    assert b.stats()["policy_steps"] == 40
    # the torch backend pickles mid-run and resumes with the same proposals (the conformance
    # suite runs the NumPy backend, which this one equals)
    copy = pickle.loads(pickle.dumps(b))
    nxt = [b.ask() for _ in range(3)]
    assert [t.arch for t in nxt] == [copy.ask().arch for _ in range(3)]


def test_lstm_backend_is_checked():
    space = CategoricalSpace([("a", (0, 1))])
    with pytest.raises(InvalidConfig, match="backend must be one of"):
        ReinforceLSTM(backend="jax").setup(space, OBJ, seed=0)


def test_lstm_learns_and_pickles_mid_run():
    space = CategoricalSpace([(f"e{i}", tuple(range(3))) for i in range(3)])
    s = ReinforceLSTM(learning_rate=0.01).setup(space, OBJ, seed=5)

    def step(strategy):
        t = strategy.ask()
        strategy.tell(t, _ev(100.0 * sum(a == 2 for a in t.arch)))
        return t.arch

    for _ in range(150):
        step(s)
    copy = pickle.loads(pickle.dumps(s))
    assert [step(s) for _ in range(20)] == [step(copy) for _ in range(20)]
    assert _log_prob(s, (2, 2, 2)) > math.log(0.5)  # uniform: log(1/27)
    assert s.recommend() == (2, 2, 2)


# -- the NB201 protocol --------------------------------------------------------------------------
@pytest.mark.data
def test_reinforce_runs_the_nb201_table5_protocol(nb201_data):
    from benchlab import RunSpec, run

    spec = RunSpec(benchmark="nb201", benchmark_kwargs={"dataset": "cifar10-valid", "fidelity": 12, "cost": "time"},
                   strategy="reinforce", strategy_kwargs={"learning_rate": 0.005, "baseline_momentum": 0.9},
                   max_seconds=12000.0)  # fmt: skip
    result = run(spec)
    summary = result.summary
    assert summary["status"] == "ok" and 60 < summary["n_evaluations"] < 150
    assert summary["strategy_stats"]["policy_steps"] == summary["n_evaluations"]
    assert summary["strategy_stats"]["policy_entropy"] < 6 * math.log(5)  # the policy moved
    assert summary["recommended"]["arch"] == summary["final"]["incumbent"]
