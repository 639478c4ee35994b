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

__all__ = ["OptunaStrategy", "TPE", "SAMPLERS", "TPE_PRESETS"]

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
# CMA-ES models numeric parameters only; on a purely categorical space Optuna silently samples
# every parameter with its independent (random) sampler instead. (The GP sampler handles
# categorical parameters: a Hamming-distance kernel on the categorical dimensions.)
_NUMERIC_ONLY = {"CmaEsSampler": "CMA-ES"}
#: TPE settings by name (keyword arguments of ``optuna.samplers.TPESampler``).
#: ``default``: Optuna >= 5's ``TPESampler()`` defaults for a single objective (multivariate TPE,
#: Falkner et al. 2018 / Optuna's ``multivariate=True``; constant liar for pending trials), pinned
#: so that the behaviour does not depend on the installed Optuna version. ``paper``: the
#: independent per-decision densities of Bergstra et al. (NeurIPS 2011) with pending trials
#: ignored, as Optuna implements them (benchlab's ``tpe`` up to this version).
TPE_PRESETS = {
    "default": {"n_startup_trials": 10, "n_ei_candidates": 24, "multivariate": True, "constant_liar": True},
    "paper": {"n_startup_trials": 10, "n_ei_candidates": 24, "multivariate": False, "constant_liar": False},
}
_DUPLICATE_RETRIES = 10
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

    Re-proposals: Optuna's samplers may propose a cell that was already evaluated (nb201
    cifar10-valid, 150 trials, mean of 100 runs: 115.5 distinct cells for ``TPESampler()``,
    76.2 for the univariate TPE, 140.0 for ``NSGAIISampler(population_size=50)`` on accuracy
    and parameters; ``scripts/bench_vs_libraries.py``). By default such a trial is evaluated
    again and charged, which is Optuna's own behaviour. With ``skip_duplicates=True`` the adapter instead tells Optuna the known
    result of that cell again (a COMPLETE trial with the same value, or FAIL for a NaN) and
    asks again, without evaluating or charging the budget; after ``duplicate_retries``
    re-proposals in a row it proposes a uniformly random cell not yet evaluated (drawn from
    the run's random stream and enqueued with ``study.enqueue_trial``, so Optuna records
    it), and only in a space with every cell evaluated does it propose a duplicate.
    Only results already told count as known: a cell still pending (parallel workers) is
    proposed again like any other.

    Parameters
    ----------
    sampler: "tpe" (default), "random", "qmc", "grid", "bruteforce", "gp", "nsga2", "nsga3",
        or any class name of ``optuna.samplers`` (e.g. "TPESampler"). "gp" (``GPSampler``,
        needs torch) models categorical decisions with a Hamming-distance kernel. "cmaes" is
        refused: CMA-ES models numeric parameters only, and on categorical spaces Optuna
        falls back to random sampling for every decision. "grid" gets the full grid of
        choices as its search space unless ``sampler_kwargs`` gives one.
    sampler_kwargs: keyword arguments of the sampler's constructor (default none). The
        sampler's ``seed`` is always drawn from the run's random stream
        (``int(self.rng.generator.integers(2**31))``), so do not pass one.
    skip_duplicates: tell Optuna the known result of a re-proposed, already evaluated cell
        instead of evaluating it again (default False: Optuna's behaviour, every proposal
        is evaluated and charged).
    duplicate_retries: re-proposals in a row that ``skip_duplicates`` absorbs before it
        proposes a random unevaluated cell (default 10).

    Pickling: Optuna's in-memory study pickles (``InMemoryStorage`` and ``Study`` drop
    their lock and thread-local state in ``__getstate__``) and the sampler pickles with its
    ``numpy.random.RandomState``, so a pickled strategy resumes with exactly the draws it
    would have made (tested by the conformance suite and ``tests/test_smac_optuna.py``).
    """

    description = "any Optuna sampler through the categorical view (ask/tell); optional dependency optuna"
    tags = frozenset({"model_based"})
    # With Optuna missing, there is nothing to check (setup raises InvalidConfig by design).
    conformance_cases = [{}, {"sampler": "random"}, {"sampler": "random", "skip_duplicates": True}] if _has_optuna() else []

    parameters = {
        "sampler": Param(str, doc="tpe, random, qmc, grid, bruteforce, gp, nsga2, nsga3 or a class name of optuna.samplers"),
        "sampler_kwargs": Param(dict, none=True, doc="keyword arguments of the sampler's constructor (no seed)"),
        "skip_duplicates": Param(bool, doc="tell Optuna the known result of a re-proposed cell instead of evaluating it"),
        "duplicate_retries": Param(int, low=1, doc="re-proposals in a row absorbed before a random unevaluated cell"),
    }

    def __init__(self, sampler: str = "tpe", sampler_kwargs: dict | None = None, skip_duplicates: bool = False,
                 duplicate_retries: int = _DUPLICATE_RETRIES) -> None:  # fmt: skip
        self.sampler = sampler
        self.sampler_kwargs = sampler_kwargs
        self.skip_duplicates = skip_duplicates
        self.duplicate_retries = duplicate_retries

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
        self._known: dict = {}  # arch -> value told (skip_duplicates only)
        self._skipped = 0  # re-proposals told again instead of evaluated
        self._fallbacks = 0  # random unevaluated cells proposed after duplicate_retries re-proposals

    # -- mapping -------------------------------------------------------------------------
    def params_to_arch(self, params: dict) -> tuple:
        """The architecture (tuple of option indices) of Optuna ``params``."""
        return tuple(idx[(type(params[name]), params[name])] for (name, _), idx in zip(self._suggest, self._index))

    def arch_to_params(self, arch) -> dict:
        """The Optuna ``params`` that choose ``arch``."""
        return {name: opts[i] for (name, opts), i in zip(self._suggest, arch)}

    # -- ask/tell ------------------------------------------------------------------------
    def _ask_valid(self, optuna):
        """One Optuna trial with a valid architecture: ``(trial, arch)``."""
        for _ in range(MAX_DRAWS):
            ot = self._study.ask()  # the sampler's work happens here and in suggest_*
            params = {name: ot.suggest_categorical(name, list(opts)) for name, opts in self._suggest}
            arch = self.params_to_arch(params)
            if is_valid(self.space, arch):
                return ot, arch
            # An invalid cell (NB101, TNB101 macro): told as a pruned trial, which Optuna's TPE ranks
            # among the worst. A FAILED trial is ignored by TPE, which then keeps proposing the same
            # invalid tuple until it gives up (seen on tnb101-macro: every run at 60 evaluations).
            self._study.tell(ot.number, state=optuna.trial.TrialState.PRUNED)
        raise give_up(self.space, self.name)

    def _tell_value(self, optuna, number: int, value: float) -> None:
        if math.isnan(value):
            self._study.tell(number, state=optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(number, value)

    def _unevaluated(self):
        """A uniformly random valid cell not yet evaluated, or None when there is none to find."""
        size = self.space.size
        if isinstance(size, int) and len(self._known) >= size:
            return None
        for _ in range(MAX_DRAWS):
            arch = tuple(self.space.sample(self.rng))
            if arch not in self._known and is_valid(self.space, arch):
                return arch
        return None

    def _ask_new(self, optuna):
        """Like ``_ask_valid``, but a re-proposed evaluated cell is told its known result again
        (not evaluated); after ``duplicate_retries`` in a row, a random unevaluated cell."""
        for _ in range(self.duplicate_retries):
            ot, arch = self._ask_valid(optuna)
            if arch not in self._known:
                return ot, arch
            self._tell_value(optuna, ot.number, self._known[arch])
            self._skipped += 1
        arch = self._unevaluated()
        if arch is None:  # every cell evaluated: a duplicate is all there is
            return self._ask_valid(optuna)
        self._fallbacks += 1
        self._study.enqueue_trial(self.arch_to_params(arch), skip_if_exists=False)
        return self._ask_valid(optuna)

    def ask(self):
        optuna = _import_optuna(self.name)
        t0 = time.perf_counter()
        with _quiet(optuna):
            ot, arch = self._ask_new(optuna) if self.skip_duplicates else self._ask_valid(optuna)
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
        if self.skip_duplicates:
            self._known[tuple(trial.arch)] = value
        with _quiet(optuna):
            self._tell_value(optuna, number, value)

    def stats(self) -> dict:
        """Wall-clock seconds of ``study.ask()`` + suggestions (the sampler's compute) per ask."""
        s = getattr(self, "_ask_seconds", [])
        out = {
            "ask_seconds_mean": sum(s) / len(s) if s else 0.0,
            "ask_seconds_max": max(s) if s else 0.0,
            "asks": len(s),
        }
        if self.skip_duplicates:
            out.update(duplicates_skipped=getattr(self, "_skipped", 0), duplicate_fallbacks=getattr(self, "_fallbacks", 0))
        return out


@register_strategy("tpe")
class TPE(OptunaStrategy):
    """Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio & Kegl, NeurIPS 2011)
    through Optuna's ``TPESampler`` (the adapter ``optuna`` with ``sampler="tpe"``).

    ``preset`` picks the sampler's settings (``TPE_PRESETS``); ``sampler_kwargs`` overrides
    any of them. Both presets use Optuna's ``n_startup_trials=10`` random trials first,
    ``n_ei_candidates=24`` candidates drawn from l(x), gamma(n) = min(ceil(0.1 n), 25)
    observations in the "good" density, flat weights up to 25 observations and prior
    weight 1.0 (optuna/samplers/_tpe/sampler.py).

    * ``"default"``: Optuna >= 5's ``TPESampler()`` defaults for a single objective:
      ``multivariate=True`` (one joint Parzen estimator over all decisions, Falkner et al.
      2018, which Optuna made its default) and ``constant_liar=True`` (pending trials count
      as bad results, so parallel workers do not all propose the same cell). Pinned here so
      the behaviour does not change with the installed Optuna version. On nb201
      (cifar10-valid, 150 evaluations, 100 runs) it is the strongest TPE setting and as
      strong as Optuna's own ``TPESampler()`` (``scripts/bench_vs_libraries.py``).
    * ``"paper"``: the paper's independent per-decision densities (``multivariate=False``)
      with pending evaluations ignored (``constant_liar=False``), as Optuna implements them;
      ``tpe`` defaulted to these settings before, and paper reproductions pin them. (The
      paper's Hyperopt used gamma=0.25 and 20 startup trials; these are Optuna's values.)

    ``skip_duplicates`` and ``duplicate_retries`` are the adapter's (see ``optuna``).
    """

    description = "TPE via Optuna's TPESampler: multivariate + constant liar (Optuna 5 defaults); preset=paper: Bergstra et al. 2011"
    # skip_duplicates is the adapter's code, checked once on `optuna` (random sampler: cheap);
    # here TPE's re-proposals on the suite's tiny spaces would make it the slowest case.
    # (the paper preset is other TPESampler arguments: tests/test_optuna_presets.py)
    conformance_cases = [{}] if _has_optuna() else []
    sampler = "tpe"

    parameters = {
        "preset": Param(str, choices=tuple(TPE_PRESETS), doc="default (Optuna 5 TPESampler defaults) or paper (Bergstra et al. 2011, univariate)"),
        "sampler_kwargs": Param(dict, none=True, doc="TPESampler keyword arguments overriding the preset's (no seed)"),
        "skip_duplicates": OptunaStrategy.parameters["skip_duplicates"],
        "duplicate_retries": OptunaStrategy.parameters["duplicate_retries"],
    }

    def __init__(self, preset: str = "default", sampler_kwargs: dict | None = None, skip_duplicates: bool = False,
                 duplicate_retries: int = _DUPLICATE_RETRIES) -> None:  # fmt: skip
        self.preset = preset
        self.sampler_kwargs = sampler_kwargs
        self.skip_duplicates = skip_duplicates
        self.duplicate_retries = duplicate_retries

    def _sampler_spec(self) -> tuple[str, dict]:
        if self.preset not in TPE_PRESETS:  # check_params catches this first; direct construction too
            raise InvalidConfig(f"{self.name}: preset {self.preset!r} is unknown: use one of {sorted(TPE_PRESETS)}")
        kwargs = dict(TPE_PRESETS[self.preset])
        kwargs.update(self.sampler_kwargs or {})
        return "tpe", kwargs
