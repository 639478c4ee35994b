"""The NAS-Bench-Macro and Channel-Bench-Macro benchmarks over benchlab's tables."""

from __future__ import annotations

import numpy as np

from benchlab import Benchmark, Evaluation, InvalidArchitecture, InvalidConfig, Objective, register_benchmark
from benchlab._tables import open_table

from ._build import CHANNEL_EPOCHS, CHANNEL_NAME, MACRO_EPOCHS, MACRO_NAME, N_SEEDS
from ._space import CHANNEL_MODELS, ChannelSpace, MacroSpace

__all__ = ["NASBenchMacro", "ChannelBenchMacro", "OBJECTIVES", "SEED_MODES"]

#: Objectives a run may optimise: name -> (direction, unit, description).
OBJECTIVES = {
    "test_acc": ("max", "%", "CIFAR-10 test accuracy, best epoch of a training run (seed mean or one run, see seed_mode)"),
    "params": ("min", "", "parameter count"),
    "flops": ("min", "", "multiply-accumulates at 32x32 input"),
}
SEED_MODES = ("mean", "one")


class _MacroTable(Benchmark):
    """Shared implementation: a table with per-seed best-epoch test accuracies, params and FLOPs."""

    report_split = "test"
    cost_unit = "evaluation"
    _table = ""
    _prefix = ""
    _epochs = 0

    def _setup(self, space, objective, seed_mode: str) -> None:
        label = self.name
        names = [objective] if isinstance(objective, str) else list(objective)
        if not names:
            raise InvalidConfig(f"{label}: objective must name at least one metric")
        for n in names:
            if n not in OBJECTIVES:
                raise InvalidConfig(f"{label} has no objective {n!r}; choose from {', '.join(OBJECTIVES)}")
        if len(set(names)) != len(names):
            raise InvalidConfig(f"{label}: objectives {names} repeat a metric")
        if seed_mode not in SEED_MODES:
            raise InvalidConfig(f"{label}: seed_mode must be 'mean' (seed mean) or 'one' (one training run drawn with "
                                f"the run's rng), not {seed_mode!r}")  # fmt: skip
        self.space = space
        self.objectives = tuple(Objective(n, *OBJECTIVES[n]) for n in names)
        self.fidelity = None
        table = open_table(self._table)  # DataError naming the build command when absent
        self.provenance = table.meta.get("provenance", [])
        p, e = self._prefix, self._epochs
        self._cols = {
            "test_acc": np.array(table.column(f"{p}test_acc_best@{e}"), dtype=np.float64),
            "test_acc_std": np.array(table.column(f"{p}test_acc_best_std@{e}"), dtype=np.float64),
            "params": np.array(table.column(f"{p}params"), dtype=np.float64),
            "flops": np.array(table.column(f"{p}flops"), dtype=np.float64),
        }
        self._per_seed = np.array(table.column(f"{p}test_acc_best_per_seed@{e}"), dtype=np.float64)
        if self._per_seed.shape != (space.size, N_SEEDS):
            raise InvalidConfig(f"table {self._table} has per-seed shape {self._per_seed.shape}; rebuild it")
        self._names = names
        self._one = seed_mode == "one"
        self._lists = {n: self._cols[n].tolist() for n in self._cols}
        self._seed_lists = self._per_seed.tolist()
        self._ids = space.ids

    def _row(self, arch) -> int:
        try:
            return self._ids[arch]
        except (KeyError, TypeError):
            self.space.validate(arch)
            raise InvalidArchitecture(f"{arch!r} is not in the {self.name} table") from None

    def _check(self, fidelity, rng) -> None:
        if fidelity is not None:
            raise InvalidConfig(f"{self.name} has a single fidelity ({self._epochs} epochs); ask with fidelity=None, "
                                f"not {fidelity!r}")  # fmt: skip
        if self._one and rng is None:
            raise InvalidConfig(f"{self.name} with seed_mode='one' draws a training run with the run's rng: pass "
                                "rng=<numpy Generator>")  # fmt: skip

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        self._check(fidelity, rng)
        row = self._row(arch)
        lists = self._lists
        metrics = {n: lists[n][row] for n in self._names}
        if not self._one:
            return Evaluation(metrics, 1.0)
        k = int(rng.random() * N_SEEDS)
        if "test_acc" in metrics:
            metrics["test_acc"] = self._seed_lists[row][k]
        return Evaluation(metrics, 1.0, None, k)

    def evaluate_many(self, archs, fidelity=None, *, rng=None) -> list[Evaluation]:
        self._check(fidelity, rng)
        rows = np.fromiter((self._row(a) for a in archs), dtype=np.int64, count=len(archs))
        names = self._names
        if not self._one:
            cols = [self._cols[n][rows].tolist() for n in names]
            return [Evaluation(dict(zip(names, vals)), 1.0) for vals in zip(*cols)]
        # one uniform double per query, exactly as evaluate() draws them
        if isinstance(rng, np.random.Generator):
            u = rng.random(len(rows))
        else:
            u = np.array([rng.random() for _ in range(len(rows))])
        ks = (u * N_SEEDS).astype(np.int64)
        cols = [(self._per_seed[rows, ks] if n == "test_acc" else self._cols[n][rows]).tolist() for n in names]
        return [Evaluation(dict(zip(names, vals)), 1.0, None, k) for k, vals in zip(ks.tolist(), zip(*cols))]

    def report(self, arch) -> dict[str, float]:
        """Seed-mean test accuracy and its std (%), params and FLOPs, whatever the seed_mode."""
        row = self._row(arch)
        return {n: values[row] for n, values in self._lists.items()}

    def optimum(self, metric: str) -> float:
        if metric == "test_acc_std":
            raise InvalidConfig(f"{metric} is an uncertainty, not something to optimise")
        if metric not in OBJECTIVES:
            raise InvalidConfig(f"{self.name} has no report metric {metric!r}; choose from {', '.join(OBJECTIVES)}")
        col = self._cols[metric]
        return float(col.max() if OBJECTIVES[metric][0] == "max" else col.min())


@register_benchmark("nas-bench-macro")
class NASBenchMacro(_MacroTable):
    """NAS-Bench-Macro (Su et al., CVPR 2021): 6,561 macro architectures on CIFAR-10.

    Parameters
    ----------
    objective:
        ``"test_acc"`` (default, maximised), ``"params"`` or ``"flops"`` (minimised); a
        list makes a multi-objective benchmark with the first one primary.
    seed_mode:
        ``"mean"`` (default): a query sees the mean of the 3 training runs. ``"one"``: it sees
        one run drawn with the ``rng`` passed to ``evaluate`` (the run's generator), and
        ``Evaluation.seed`` is that run's index (0, 1, 2).

    The table has CIFAR-10 test accuracies only, each the best epoch of a 50-epoch run
    (selected on the test set by the authors' script), and no validation split: strategies
    see the test accuracy the report uses (``visible_split`` says so). It has no training
    times: every query costs one unit (``cost_unit = "evaluation"``). ``report`` gives the
    seed-mean ``test_acc`` and ``test_acc_std`` (%), ``params`` and ``flops`` whatever the
    seed_mode. Build the table first with ``benchlab data build nas-bench-macro --source DIR``.
    """

    description = "NAS-Bench-Macro (public file): 6,561 macro archs, CIFAR-10 best-epoch test acc (3 runs), params, FLOPs; cost 1/eval"
    visible_split = ("test (NAS-Bench-Macro publishes CIFAR-10 test accuracies only, each the best epoch of a run: "
                     "strategies see the test accuracy)")  # fmt: skip
    conformance_cases = [{}, {"seed_mode": "one"}, {"objective": ["test_acc", "flops"], "seed_mode": "one"}]
    _table = MACRO_NAME
    _prefix = "cifar10/"
    _epochs = MACRO_EPOCHS

    def __init__(self, objective: str | list = "test_acc", seed_mode: str = "mean") -> None:
        self.objective = objective
        self.seed_mode = seed_mode
        self._setup(MacroSpace(), objective, seed_mode)


@register_benchmark("channel-bench-macro")
class ChannelBenchMacro(_MacroTable):
    """Channel-Bench-Macro (Su et al., 2021): 16,384 width configurations of a MobileNet or a ResNet.

    Parameters
    ----------
    model:
        ``"mobilenet"`` (default) or ``"resnet"``: the network whose 7 widths are searched.
    objective:
        ``"test_acc"`` (default, maximised), ``"params"`` or ``"flops"`` (minimised); a list
        makes a multi-objective benchmark with the first one primary.
    seed_mode:
        ``"mean"`` (default) or ``"one"``: one of the 3 training runs, drawn with the ``rng``
        passed to ``evaluate``; ``Evaluation.seed`` is the run's index (0, 1, 2).

    CIFAR-10 test accuracies only (best epoch of 60-epoch runs, selected on the test set),
    no validation split, no training times: strategies see the test accuracy and every query
    costs one unit. ``report`` gives the seed-mean ``test_acc`` and ``test_acc_std`` (the
    file's sample std), ``params`` and ``flops``. Build the table first with
    ``benchlab data build channel-bench-macro --source DIR``.
    """

    description = "Channel-Bench-Macro (public files): 16,384 widths of a MobileNet/ResNet, CIFAR-10 best-epoch test acc (3 runs); cost 1/eval"
    visible_split = ("test (Channel-Bench-Macro publishes CIFAR-10 test accuracies only, each the best epoch of a run: "
                     "strategies see the test accuracy)")  # fmt: skip
    conformance_cases = [{}, {"model": "resnet", "seed_mode": "one"}, {"objective": ["test_acc", "params"]}]
    _table = CHANNEL_NAME
    _epochs = CHANNEL_EPOCHS

    def __init__(self, model: str = "mobilenet", objective: str | list = "test_acc", seed_mode: str = "mean") -> None:
        self.model = model
        self.objective = objective
        self.seed_mode = seed_mode
        if model not in CHANNEL_MODELS:
            raise InvalidConfig(f"channel-bench-macro has no model {model!r}; choose from {', '.join(CHANNEL_MODELS)}")
        self._prefix = f"{model}/"
        self._setup(ChannelSpace(model), objective, seed_mode)
