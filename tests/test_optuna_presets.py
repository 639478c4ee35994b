"""The ``tpe`` presets and the Optuna adapter's ``skip_duplicates`` (issue: baselines as
strong as their reference libraries). Cheap: tiny categorical spaces, no tables."""

from __future__ import annotations

import pytest

import benchlab
from benchlab import CategoricalSpace, Evaluation, Objective
from benchlab.strategies.optuna_adapter import TPE, TPE_PRESETS, OptunaStrategy

optuna = pytest.importorskip("optuna", reason="optuna is not installed (pip install 'benchlab[optuna]')")

OBJ = [Objective("acc", "max")]
# 2 x 2 = 4 cells: Optuna's random sampler re-proposes cells within a few trials
TINY = CategoricalSpace([("a", ("x", "y")), ("b", ("u", "v"))], name="tiny")


def _drive(strategy, space, n, seed=0):
    """Ask/tell n times (one worker); returns the proposed archs, in order."""
    strategy.setup(space, OBJ, None, seed=seed)
    out = []
    for _ in range(n):
        t = strategy.ask()
        strategy.tell(t, Evaluation({"acc": float(sum(t.arch))}, 1.0))
        out.append(t.arch)
    return out


def test_tpe_presets_set_the_sampler():
    assert TPE_PRESETS["default"]["multivariate"] is True and TPE_PRESETS["default"]["constant_liar"] is True
    assert TPE_PRESETS["paper"]["multivariate"] is False and TPE_PRESETS["paper"]["constant_liar"] is False
    for preset, settings in TPE_PRESETS.items():
        sampler = TPE(preset=preset).setup(TINY, OBJ, None, seed=0)._study.sampler
        assert sampler._multivariate is settings["multivariate"] and sampler._constant_liar is settings["constant_liar"]
    # sampler_kwargs override the preset's values
    sampler = TPE(preset="paper", sampler_kwargs={"multivariate": True}).setup(TINY, OBJ, None, seed=0)._study.sampler
    assert sampler._multivariate is True and sampler._constant_liar is False
    assert TPE().preset == "default"


def test_tpe_preset_and_duplicate_parameters_are_validated():
    with pytest.raises(benchlab.InvalidConfig, match="preset"):
        benchlab.make_strategy("tpe", {"preset": "hyperopt"})
    with pytest.raises(benchlab.InvalidConfig, match="duplicate_retries"):
        benchlab.make_strategy("tpe", {"duplicate_retries": 0})
    with pytest.raises(benchlab.InvalidConfig, match="skip_duplicates"):
        benchlab.make_strategy("optuna", {"skip_duplicates": "yes"})
    with pytest.raises(benchlab.InvalidConfig, match="preset"):  # direct construction skips check_params
        TPE(preset="hyperopt").setup(TINY, OBJ, None, seed=0)
    assert benchlab.make_strategy("tpe", {"preset": "paper", "skip_duplicates": True}).get_params()["preset"] == "paper"


def test_without_skip_duplicates_optuna_reproposals_are_evaluated():
    """Off by default: Optuna's own behaviour, every proposal is an evaluation."""
    s = OptunaStrategy(sampler="random")
    archs = _drive(s, TINY, 12)
    assert len(set(archs)) < len(archs)  # 12 proposals on 4 cells repeat
    assert len(s._study.trials) == 12  # one Optuna trial per evaluation


def test_skip_duplicates_charges_no_budget_for_reproposals():
    s = OptunaStrategy(sampler="random", skip_duplicates=True)
    archs = _drive(s, TINY, 4)
    assert sorted(archs) == sorted(TINY.enumerate())  # 4 evaluations, 4 different cells
    stats = s.stats()
    assert stats["asks"] == 4
    # re-proposals were told their known value in Optuna (extra COMPLETE trials), not evaluated
    complete = [t for t in s._study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4 + stats["duplicates_skipped"]
    assert stats["duplicates_skipped"] > 0
    for t in complete:
        arch = s.params_to_arch(t.params)
        assert t.value == float(sum(arch))  # the known value, told again
    # every cell evaluated: the only thing left to propose is a duplicate (charged)
    t = s.ask()
    assert t.arch in set(archs)


def test_skip_duplicates_falls_back_to_a_random_unevaluated_cell():
    """A sampler that proposes the same cell again and again: after duplicate_retries
    re-proposals in a row, a random unevaluated cell is enqueued and proposed."""
    fixed = {"fixed_params": {"a": "x", "b": "u"}, "base_sampler": optuna.samplers.RandomSampler(seed=0)}
    s = OptunaStrategy(sampler="PartialFixedSampler", sampler_kwargs=fixed, skip_duplicates=True, duplicate_retries=3)
    archs = _drive(s, TINY, 4)
    assert archs[0] == (0, 0) and len(set(archs)) == 4
    assert s.stats()["duplicate_fallbacks"] == 3 and s.stats()["duplicates_skipped"] == 9


def test_tpe_skip_duplicates_is_deterministic():
    a = _drive(TPE(skip_duplicates=True), TINY, 4, seed=3)
    b = _drive(TPE(skip_duplicates=True), TINY, 4, seed=3)
    assert a == b and len(set(a)) == 4
