"""Conformance suites every strategy, benchmark and search space must pass (DESIGN 6.5).

For third-party authors as much as for benchlab itself::

    from benchlab.testing import check_strategy, check_benchmark

    check_strategy(MyStrategy, population_size=20)   # runs every strategy check
    check_benchmark("my_table")                      # benchmark + search-space checks

and, to get one pytest test per (component, check), parametrise over the registry::

    @pytest.mark.parametrize("check", STRATEGY_CHECKS, ids=lambda c: c.__name__)
    @pytest.mark.parametrize("case", strategy_cases(), ids=str)
    def test_strategy(case, check):
        check(case.target, **case.kwargs)

Checks raise :class:`ConformanceError` (an ``AssertionError``) with a message naming the
component, the check and the offending value; checks that do not apply skip with
``unittest.SkipTest`` (pytest shows them as skipped). Strategy tags decide what applies:
``exhaustive`` (never repeats; ``ask()`` returns None once the space is exhausted),
``deterministic`` (ignores its seed on purpose), ``multi_fidelity`` / ``multi_objective``
(``recommend()`` need not be the single-objective incumbent), ``needs_training`` (skips
the ask/tell checks), ``transfer`` (adds ``TRANSFER_CHECKS``: a strategy given a source
never reads a test split). ``ToySpace`` and ``ToyBenchmark`` are the small, deterministic,
instrumented space and benchmark the strategy suite runs on.
"""

from ._benchmark_checks import (
    BENCHMARK_CHECKS,
    benchmark_cases,
    check_benchmark,
    check_benchmark_determinism,
    check_describe,
    check_evaluate,
    check_evaluate_many,
    check_invalid_archs,
    check_no_report_leak,
    check_optimum,
    check_report,
)
from ._common import Case, ConformanceError
from ._layering import check_layering
from ._space_checks import (
    SPACE_CHECKS,
    check_space,
    check_space_choices,
    check_space_encode,
    check_space_ids,
    check_space_mutate,
    check_space_neighbors,
    check_space_pickle,
    check_space_read_only,
    check_space_sample,
    check_space_strings,
    space_cases,
)
from ._strategy_checks import (
    STRATEGY_CHECKS,
    TRANSFER_CHECKS,
    check_budget,
    check_determinism,
    check_exhaustion,
    check_global_rng,
    check_nan_inf,
    check_no_test_access,
    check_objectives,
    check_out_of_order,
    check_params,
    check_pickle_resume,
    check_seed_types,
    check_spawn_determinism,
    check_strategy,
    check_transfer_no_test_access,
    check_valid_archs,
    strategy_cases,
)
from ._toy import ToyBenchmark, ToySpace

__all__ = [
    "check_layering",
    "BENCHMARK_CHECKS",
    "Case",
    "ConformanceError",
    "SPACE_CHECKS",
    "STRATEGY_CHECKS",
    "TRANSFER_CHECKS",
    "ToyBenchmark",
    "ToySpace",
    "benchmark_cases",
    "check_benchmark",
    "check_benchmark_determinism",
    "check_budget",
    "check_describe",
    "check_determinism",
    "check_evaluate",
    "check_evaluate_many",
    "check_exhaustion",
    "check_global_rng",
    "check_invalid_archs",
    "check_nan_inf",
    "check_no_report_leak",
    "check_no_test_access",
    "check_objectives",
    "check_optimum",
    "check_out_of_order",
    "check_params",
    "check_pickle_resume",
    "check_report",
    "check_seed_types",
    "check_space",
    "check_space_choices",
    "check_space_encode",
    "check_space_ids",
    "check_space_mutate",
    "check_space_neighbors",
    "check_space_pickle",
    "check_space_read_only",
    "check_space_sample",
    "check_space_strings",
    "check_spawn_determinism",
    "check_strategy",
    "check_transfer_no_test_access",
    "check_valid_archs",
    "space_cases",
    "strategy_cases",
]
