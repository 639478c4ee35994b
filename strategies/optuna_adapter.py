"""Optuna samplers as benchlab strategies (Akiba et al., KDD 2019), and TPE.

Optuna is an optional dependency: ``pip install 'benchlab[optuna]'``. Without it these
strategies are still registered (so names resolve and ``--help`` lists them), and ``setup``
raises :class:`benchlab.InvalidConfig` saying what to install.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import time
import warnings
from contextlib import contextmanager

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

from ._valid import MAX_DRAWS, categorical_view, give_up, is_valid

__all__ = ["OptunaStrategy", "TPE", "SAMPLERS"]

#: short names -> ``optuna.samplers`` class names; any class name of optuna.samplers works too
SAMPLERS = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "cmaes": "CmaEsSampler",
    "gp": "GPSampler",
    "nsga2": "NSGAIISampler",
    "nsga3": "NSGAIIISampler",
    "qmc": "QMCSampler",
    "grid": "GridSampler",
    "bruteforce": "BruteForceSampler",
}
# CMA-ES and the GP sampler model numeric parameters only; on a purely categorical space
# Optuna silently samples every parameter with its independent (random) sampler instead.
_NUMERIC_ONLY = {"CmaEsSampler": "CMA-ES", "GPSampler": "the Gaussian-process sampler"}
_PRIMITIVE = (type(None), bool, int, float, str)
_INSTALL = "pip install 'benchlab[optuna]'"


def _has_optuna() -> bool:
    try:
        return importlib.util.find_spec("optuna") is not None
    except (ImportError, ValueError, AttributeError):  # e.g. sys.modules["optuna"] = None
        return False


def _import_optuna(who: str):
    try:
        import optuna
    except ImportError as exc:
        raise InvalidConfig(f"{who} needs Optuna, which is not installed: run `{_INSTALL}` (or `pip install optuna`)") from exc
    return optuna


@contextmanager
def _quiet(optuna):
    """Optuna at WARNING verbosity (no per-trial INFO lines) and its ExperimentalWarnings
    muted, for the duration of one call only: the global verbosity is restored after."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(before)


@register_strategy("optuna")
class OptunaStrategy(Strategy):
    """Any Optuna sampler driving the search through the space's categorical view.

    Every decision of ``space.choices()`` becomes ``trial.suggest_categorical(name,
    options)``; the chosen options map back to the architecture tuple of option indices
    (``CategoricalSpace`` spaces, which all benchlab tabular spaces are). Options that are
    not None/bool/int/float/str (which Optuna cannot store), or equal to one another
    (``1``, ``1.0``, ``True``: Optuna finds a choice by ``==``), are suggested by index.
    Optuna's ask/tell interface does the rest: ``ask`` is ``study.ask()``, ``tell`` is
    ``study.tell(trial, value)`` in a study whose direction is the primary objective's
    (``maximize``/``minimize``); other objectives are ignored (single-objective study).
    NaN results are told as failed trials (Optuna's samplers skip them; the incumbent
    still treats them as worst); +-inf are told as values.

    Trials asked but not yet told are RUNNING trials of the study (parallel workers); how
    a sampler treats them is the sampler's own choice (TPE: ``constant_liar``).

    Parameters
    ----------
    sampler: "tpe" (default), "random", "qmc", "grid", "bruteforce", "nsga2", "nsga3", or
        any class name of ``optuna.samplers`` (e.g. "TPESampler"). "cmaes" and "gp" are
        refused: they model numeric parameters only, and on categorical spaces Optuna
        falls back to random sampling for every decision. "grid" gets the full grid of
        choices as its search space unless ``sampler_kwargs`` gives one.
    sampler_kwargs: keyword arguments of the sampler's constructor (default none). The
        sampler's ``seed`` is always drawn from the run's random stream
        (``int(self.rng.generator.integers(2**31))``), so do not pass one.

    Pickling: Optuna's in-memory study pickles (``InMemoryStorage`` and ``Study`` drop
    their lock and thread-local state in ``__getstate__``) and the sampler pickles with its
    ``numpy.random.RandomState``, so a pickled strategy resumes with exactly the draws it
    would have made (tested by the conformance suite and ``tests/test_smac_optuna.py``).
    """

    description = "any Optuna sampler through the categorical view (ask/tell); optional dependency optuna"
    tags = frozenset({"model_based"})
    # With Optuna missing, there is nothing to check (setup raises InvalidConfig by design).
    conformance_cases = [{}, {"sampler": "random"}] if _has_optuna() else []

    parameters = {
        "sampler": Param(str, doc="tpe, random, qmc, grid, bruteforce, nsga2, nsga3 or a class name of optuna.samplers"),
        "sampler_kwargs": Param(dict, none=True, doc="keyword arguments of the sampler's constructor (no seed)"),
    }

    def __init__(self, sampler: str = "tpe", sampler_kwargs: dict | None = None) -> None:
        self.sampler = sampler
        self.sampler_kwargs = sampler_kwargs

    def _sampler_spec(self) -> tuple[str, dict]:
        return self.sampler, dict(self.sampler_kwargs or {})

    # -- setup -------------------------------------------------------------------------
    def _make_sampler(self, optuna, seed: int):
        name, kwargs = self._sampler_spec()
        who = f"{self.name}: sampler {name!r}"
        if not isinstance(name, str):
            raise InvalidConfig(f"{who}: give the sampler by name (one of {sorted(SAMPLERS)} or a class of optuna.samplers)")
        cls_name = SAMPLERS.get(name.lower(), name)
        cls = getattr(optuna.samplers, cls_name, None)
        if not (isinstance(cls, type) and issubclass(cls, optuna.samplers.BaseSampler)):
            raise InvalidConfig(f"{who} is unknown: use one of {sorted(SAMPLERS)} or a class name of optuna.samplers")
        if cls_name in _NUMERIC_ONLY:
            raise InvalidConfig(
                f"{who}: {_NUMERIC_ONLY[cls_name]} models numeric parameters only; on the categorical decisions of "
                f"{self.space.name} Optuna would sample every one at random. Use 'tpe' or 'random'"
            )
        if "seed" in kwargs:
            raise InvalidConfig(f"{who}: do not pass a seed in sampler_kwargs; it is drawn from the run's seed")
        if cls_name == "GridSampler" and "search_space" not in kwargs:
            kwargs["search_space"] = {n: list(o) for n, o in self._suggest}
        if "seed" in inspect.signature(cls.__init__).parameters:
            kwargs["seed"] = seed
        try:
            return cls(**kwargs)
        except (TypeError, ValueError, ImportError) as exc:
            raise InvalidConfig(f"{who} with sampler_kwargs={self.sampler_kwargs!r}: {type(exc).__name__}: {exc}") from exc

    def _setup(self) -> None:
        optuna = _import_optuna(self.name)
        categorical_view(self.space, self.name)
        if self.sampler_kwargs is not None and not isinstance(self.sampler_kwargs, dict):
            raise InvalidConfig(f"{self.name}: sampler_kwargs must be a dict or None, got {self.sampler_kwargs!r}")
        # (name, options as suggested); by index when Optuna cannot store the options or
        # cannot tell them apart (it finds a value with ``choices.index``, so 1 == 1.0 == True)
        self._suggest = []
        for name, options in self.space.choices():
            if all(type(o) in _PRIMITIVE for o in options) and len(set(options)) == len(options):
                self._suggest.append((name, tuple(options)))
            else:
                self._suggest.append((name, tuple(range(len(options)))))
        # value -> index, keyed by (type, value) so that 1, 1.0 and True stay apart
        self._index = [{(type(o), o): i for i, o in enumerate(opts)} for _, opts in self._suggest]
        seed = int(self.rng.generator.integers(2**31))
        direction = "maximize" if self._objective.direction == "max" else "minimize"
        with _quiet(optuna):
            sampler = self._make_sampler(optuna, seed)
            self._study = optuna.create_study(direction=direction, sampler=sampler)
        self._numbers: dict = {}  # benchlab trial id -> Optuna trial number
        self._ask_seconds: list[float] = []

    # -- mapping -------------------------------------------------------------------------
    def params_to_arch(self, params: dict) -> tuple:
        """The architecture (tuple of option indices) of Optuna ``params``."""
        return tuple(idx[(type(params[name]), params[name])] for (name, _), idx in zip(self._suggest, self._index))

    def arch_to_params(self, arch) -> dict:
        """The Optuna ``params`` that choose ``arch``."""
        return {name: opts[i] for (name, opts), i in zip(self._suggest, arch)}

    # -- ask/tell ------------------------------------------------------------------------
    def ask(self):
        optuna = _import_optuna(self.name)
        t0 = time.perf_counter()
        with _quiet(optuna):
            for _ in range(MAX_DRAWS):
                ot = self._study.ask()  # the sampler's work happens here and in suggest_*
                params = {name: ot.suggest_categorical(name, list(opts)) for name, opts in self._suggest}
                arch = self.params_to_arch(params)
                if is_valid(self.space, arch):
                    break
                # An invalid cell (NB101, TNB101 macro): told as a pruned trial, which Optuna's TPE ranks
                # among the worst. A FAILED trial is ignored by TPE, which then keeps proposing the same
                # invalid tuple until it gives up (seen on tnb101-macro: every run at 60 evaluations).
                self._study.tell(ot.number, state=optuna.trial.TrialState.PRUNED)
            else:
                raise give_up(self.space, self.name)
        self._ask_seconds.append(time.perf_counter() - t0)
        trial = self._trial(arch)
        self._numbers[trial.id] = ot.number
        return trial

    def _tell(self, trial, evaluation, score) -> None:
        optuna = _import_optuna(self.name)
        number = self._numbers.pop(trial.id, None)
        if number is None:  # not one of ours (or told twice): nothing to tell Optuna
            return
        value = float(evaluation.metrics.get(self._objective.name, math.nan))
        with _quiet(optuna):
            if math.isnan(value):
                self._study.tell(number, state=optuna.trial.TrialState.FAIL)
            else:
                self._study.tell(number, value)


    def stats(self) -> dict:
        """Wall-clock seconds of ``study.ask()`` + suggestions (the sampler's compute) per ask."""
        s = getattr(self, "_ask_seconds", [])
        return {
            "ask_seconds_mean": sum(s) / len(s) if s else 0.0,
            "ask_seconds_max": max(s) if s else 0.0,
            "asks": len(s),
        }


@register_strategy("tpe")
class TPE(OptunaStrategy):
    """Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio & Kegl, NeurIPS 2011)
    through Optuna's ``TPESampler`` (the adapter ``optuna`` with ``sampler="tpe"``).

    Defaults are Optuna's implementation of the paper's algorithm (``TPESampler``,
    optuna/samplers/_tpe/sampler.py): ``n_startup_trials=10`` random trials first,
    ``n_ei_candidates=24`` candidates drawn from l(x) per decision, gamma(n) =
    min(ceil(0.1 n), 25) observations form the "good" density, flat weights up to 25
    observations (``default_weights``), prior weight 1.0. Two are pinned here because Optuna
    changed them over versions: ``multivariate=False`` (the paper's independent,
    per-decision densities; Optuna >= 5 defaults to multivariate TPE) and
    ``constant_liar=False`` (the paper ignores pending evaluations; Optuna >= 5 defaults to
    True). Bergstra et al.'s Hyperopt used gamma=0.25 and 20 startup trials; the Optuna
    values are what users of ``TPESampler`` run. ``sampler_kwargs`` overrides any of them.
    """

    description = "TPE (Bergstra et al. 2011) via Optuna's TPESampler: 10 startup trials, 24 EI candidates, univariate"
    conformance_cases = [{}] if _has_optuna() else []
    sampler = "tpe"

    def __init__(self, sampler_kwargs: dict | None = None) -> None:
        self.sampler_kwargs = sampler_kwargs

    def _sampler_spec(self) -> tuple[str, dict]:
        kwargs = {"n_startup_trials": 10, "n_ei_candidates": 24, "multivariate": False, "constant_liar": False}
        kwargs.update(self.sampler_kwargs or {})
        return "tpe", kwargs
