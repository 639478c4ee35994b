"""Declared strategy parameters: text from the spec grammar is converted, bad values are
one-line errors before anything runs, and the conformance check catches missing declarations."""

from __future__ import annotations

import pytest

import benchlab
import benchlab.testing as bt
from benchlab import InvalidConfig, RunSpec, Strategy, StrategyConfig, make_strategy, run
from benchlab.ext import Param, declared_parameters
from benchlab.testing import ToyBenchmark, ToySpace
from benchlab.testing._strategy_checks import check_param_declarations


def _run_parsed(text: str, benchmark, **budget):
    """Run the strategy of a CLI-style spec (``NAME:key=value``) on ``benchmark``."""
    config = StrategyConfig.parse(text)
    spec = RunSpec(benchmark=benchmark.name, strategy=config.name, strategy_kwargs=config.kwargs, **budget)
    return run(spec, benchmark=benchmark)


# -- text values from the spec grammar ----------------------------------------------------


@pytest.mark.parametrize("name", ["random_search", "mo_random_search"])
def test_replace_false_as_text_samples_without_replacement(name):
    config = StrategyConfig.parse(f"{name}:replace=False")
    assert config.kwargs == {"replace": "False"}  # not JSON: the grammar hands over text
    assert make_strategy(name, config.kwargs).replace is False
    bench = ToyBenchmark(n_objectives=2, fidelity=False)  # 18 architectures
    result = _run_parsed(f"{name}:replace=False", bench, max_evaluations=30)
    archs = result.columns["arch"]
    assert len(archs) == 18 and len(set(archs)) == 18  # every architecture once, none twice
    assert result.summary["stop_reason"] == "exhausted"
    with_replacement = _run_parsed(f"{name}:replace=True", bench, max_evaluations=30)
    assert len(with_replacement.columns["arch"]) == 30
    assert len(set(with_replacement.columns["arch"])) < 30


def test_smac_bootstrapping_false_as_text():
    assert make_strategy("smac_rf", {"bootstrapping": "False"}).bootstrapping is False
    assert make_strategy("smac_rf", {"bootstrapping": "TRUE"}).bootstrapping is True
    bench = ToyBenchmark(ToySpace((3, 3, 3, 2)), fidelity=False)  # 54 architectures
    kwargs = {"n_init": 5, "n_trees": 3, "n_random_candidates": 50, "n_local_starts": 2}
    spec = RunSpec(benchmark="toy", strategy="smac_rf", strategy_kwargs=kwargs, max_evaluations=30)

    def archs(bootstrapping):  # one spec (one seed), only the strategy's flag differs
        result = run(spec, benchmark=bench, strategy=make_strategy("smac_rf", {**kwargs, "bootstrapping": bootstrapping}))
        assert result.summary["status"] == "ok"
        return result.columns["arch"]

    as_text = archs("False")
    assert as_text == archs(False)
    assert as_text != archs(True)  # "False" used to be a non-empty, truthy string


def test_text_numbers_are_converted():
    s = make_strategy("regularized_evolution", {"population_size": "20", "sample_size": "5"})
    assert (s.population_size, s.sample_size) == (20, 5)
    assert make_strategy("reinforce", {"learning_rate": "0.01"}).learning_rate == 0.01


# -- one-line errors ----------------------------------------------------------------------


def test_mistyped_integer_is_one_line_error():
    with pytest.raises(InvalidConfig) as err:
        make_strategy("regularized_evolution", {"population_size": "2O"})
    message = str(err.value)
    assert "\n" not in message
    assert "'population_size'" in message and "an integer >= 1" in message and "'2O'" in message


def test_mistyped_integer_in_a_parsed_spec_stops_before_the_run():
    config = StrategyConfig.parse("regularized_evolution:population_size=2O")
    spec = RunSpec(benchmark="toy", strategy=config.name, strategy_kwargs=config.kwargs, max_evaluations=5)
    with pytest.raises(InvalidConfig, match="population_size.*an integer >= 1"):
        run(spec, benchmark=ToyBenchmark())


def test_unknown_parameter_names_the_nearest_spelling():
    with pytest.raises(InvalidConfig) as err:
        make_strategy("regularized_evolution", {"populaton_size": 5})
    message = str(err.value)
    assert "\n" not in message
    assert "'populaton_size'" in message and "did you mean 'population_size'?" in message


@pytest.mark.parametrize(
    "name, kwargs, words",
    [
        ("random_search", {"replace": "no"}, "true or false"),
        ("smac_rf", {"bootstrapping": 1}, "true or false"),
        ("local_search", {"restart": "bset"}, "did you mean 'best'?"),
        ("gp_bo", {"kernel": "matern52"}, "one of 'matern', 'rbf'"),
        ("nsga2", {"crossover_prob": 1.5}, "<= 1"),
        ("reinforce", {"baseline_momentum": 1.0}, "< 1"),
        ("bananas", {"edit_prob": 0}, "> 0"),
        ("hyperband", {"eta": 1}, "> 1"),
        ("bohb", {"top_n_percent": 100}, "< 100"),
        ("reinforce_lstm", {"backend": "jax"}, "one of 'numpy', 'torch'"),
    ],
)
def test_out_of_range_values_are_refused(name, kwargs, words):
    with pytest.raises(InvalidConfig) as err:
        make_strategy(name, kwargs)
    assert words in str(err.value) and repr(next(iter(kwargs))) in str(err.value)


def test_none_where_declared():
    assert make_strategy("bananas", {"edit_prob": None}).edit_prob is None
    assert make_strategy("successive_halving", {"n_configs": None}).n_configs is None
    with pytest.raises(InvalidConfig, match="got null"):
        make_strategy("regularized_evolution", {"population_size": None})


def test_inherited_declarations():
    assert set(declared_parameters(benchlab.STRATEGIES.get("mo_random_search"))) == {"replace"}
    assert set(declared_parameters(benchlab.STRATEGIES.get("tpe"))) == {"preset", "sampler_kwargs", "skip_duplicates",
                                                                         "duplicate_retries"}
    bohb = set(declared_parameters(benchlab.STRATEGIES.get("bohb")))
    assert {"eta", "rung_fidelities", "num_samples", "min_bandwidth"} <= bohb


# -- the conformance check ----------------------------------------------------------------

@pytest.mark.parametrize("name", benchlab.STRATEGIES.names())
def test_declarations_conform(name):
    check_param_declarations(name)


class _Picky(Strategy):
    parameters = {"size": Param(int, low=1)}

    def __init__(self, size: int = 3, verbose: bool = False) -> None:
        self.size = size
        self.verbose = verbose

    def ask(self):
        return self._trial(self.space.sample(self.rng))


class _BadDefault(_Picky):
    parameters = {"size": Param(int, low=5), "verbose": Param(bool)}


class _Stale(_Picky):
    parameters = {"sise": Param(int), "verbose": Param(bool)}


@pytest.mark.parametrize(
    "cls, match",
    [
        (_Picky, r"constructor parameters \['verbose'\] are not declared"),
        (_BadDefault, "the default size=3 fails its own declaration"),
        (_Stale, r"declares \['sise'\], which the constructor does not take"),
    ],
)
def test_the_check_catches_bad_declarations(cls, match):
    with pytest.raises(AssertionError, match=match):
        check_param_declarations(cls)
    with pytest.raises(AssertionError, match=match):
        bt.check_params(cls)  # part of the constructor check


def test_the_check_checks_case_values():
    class Fine(_Picky):
        parameters = {"verbose": Param(bool)}

    check_param_declarations(Fine)
    with pytest.raises(AssertionError, match="the value size=0 fails its own declaration"):
        check_param_declarations(Fine, size=0)
