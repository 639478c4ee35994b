"""Spaces whose categorical view (``choices()``) can spell invalid architectures.

On a ``CategoricalSpace`` every tuple of option indices is an architecture. NAS-Bench-101's
graph space (``benchlab.benchmarks.nb101.NB101Space``) also offers a categorical view whose tuple IS
the architecture (21 edge bits + 5 ops), but some tuples are not valid cells (disconnected,
or more than 9 edges after pruning). Strategies that build architectures decision by
decision (REINFORCE, the Optuna adapter, BOHB's KDE) redraw such tuples: the NB101 paper's
baselines (automl/nas_benchmarks) scored them as a failed, free query instead, which a
strategy sees the same way (no result, no cost) without wasting a benchmark call.

A *restricted* space (an NB101 space over the cells of a partial table, e.g. 20,001 of
423,624) would reject most such draws. Factorised policies (REINFORCE) sample inside the
allowed set instead (:class:`RestrictedSampler`: the policy conditioned on the set, no
redraws); the others redraw, which stays cheap because the space memoises cell hashes.
"""

from __future__ import annotations

import numpy as np

from benchlab import CategoricalSpace, InvalidArchitecture, InvalidConfig

__all__ = ["MAX_DRAWS", "RestrictedSampler", "categorical_view", "give_up", "is_valid", "restricted_sampler"]

MAX_DRAWS = 10_000  # about 27% of uniform NB101 tuples are invalid: 10,000 redraws never run out in practice


def categorical_view(space, who: str) -> list:
    """``space.choices()`` when its tuples are architectures; else a clear ``InvalidConfig``."""
    if not (isinstance(space, CategoricalSpace) or getattr(space, "choices_are_archs", False)):
        raise InvalidConfig(
            f"{who}: {space.name} is a {type(space).__name__}, whose choices() tuples are not architectures; "
            f"{who} needs a benchlab.CategoricalSpace or a space with choices_are_archs = True (e.g. NB101Space)"
        )
    choices = space.choices()
    if not choices:
        raise InvalidConfig(f"{who}: the space {space!r} has no categorical decisions (choices())")
    return choices


def is_valid(space, arch) -> bool:
    """Whether ``arch`` (a tuple of option indices) is an architecture of ``space``."""
    if isinstance(space, CategoricalSpace):
        return True
    try:
        space.validate(arch)
    except InvalidArchitecture:
        return False
    return True


def give_up(space, who: str):
    """The error after ``MAX_DRAWS`` invalid draws in a row."""
    if getattr(space, "restricted", False):
        return InvalidConfig(
            f"{who}: {MAX_DRAWS} draws in a row from its policy missed the {space.size} cells of this partial "
            f"{space.name} table: a strategy that builds cells decision by decision rarely lands on a small subset. "
            "Use the full table (`benchlab data import nb101 nasbench_only108.tfrecord`) or a strategy that samples "
            "and mutates through the space (random_search, regularized_evolution, local_search, bananas, ...)"
        )
    return InvalidConfig(
        f"{who}: {MAX_DRAWS} draws in a row from its policy were invalid architectures of {space.name}; "
        "the policy has collapsed onto invalid cells (lower the learning rate) or the space rejects most tuples"
    )


# -- restricted spaces: sampling a factorised policy inside the allowed set ----------------
_GROUP_SIZE = 4096  # largest number of option combinations tabulated per group of decisions


class RestrictedSampler:
    """Draws from a factorised categorical policy conditioned on a restricted space.

    A restricted space (e.g. ``NB101Space`` over the 20,001 cells of a partial table)
    lists its architectures as rows of option indices (``space.allowed_choices()``). The
    policy ``p(arch) = prod_i p_i(arch_i)`` conditioned on that set draws row ``r`` with
    probability ``p(row r) / sum_s p(row s)``: one architecture per call, never a
    rejected draw, one uniform number from the caller's generator. Each cell has one row
    (its stored representative), so the policy is scored on that spelling of the cell.

    Cost: decisions are grouped so that each group has at most 4,096 option combinations;
    a draw tabulates the log-probability of every combination of every group and sums one
    lookup per group and row (about 0.3 ms for 20,001 NB101 cells).
    """

    def __init__(self, rows: np.ndarray, radix) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        radix = [int(r) for r in radix]
        if rows.ndim != 2 or rows.shape[1] != len(radix) or rows.shape[0] == 0:
            raise InvalidConfig(f"restricted sampling: expected a non-empty (n, {len(radix)}) array of option indices")
        self.rows = rows
        self._archs = [tuple(r) for r in rows.tolist()]
        self._groups: list[tuple[list[int], np.ndarray, np.ndarray]] = []
        start = 0
        while start < len(radix):
            stop, size = start, 1
            while stop < len(radix) and size * radix[stop] <= _GROUP_SIZE:
                size *= radix[stop]
                stop += 1
            stop = max(stop, start + 1)
            decisions = list(range(start, stop))
            # mixed-radix code of each row's options in this group, and the options of every code
            code = np.zeros(len(rows), dtype=np.int64)
            combos = np.zeros((int(np.prod([radix[d] for d in decisions])), len(decisions)), dtype=np.int64)
            base = 1
            for j in range(len(decisions) - 1, -1, -1):
                d = decisions[j]
                code += rows[:, d] * base
                combos[:, j] = (np.arange(len(combos)) // base) % radix[d]
                base *= radix[d]
            self._groups.append((decisions, code, combos))
            start = stop

    def __len__(self) -> int:
        return len(self._archs)

    def draw_index(self, probs, u: float) -> int:
        """Row drawn for the per-decision probability vectors ``probs`` and uniform ``u``."""
        total = np.zeros(len(self._archs))
        with np.errstate(divide="ignore"):
            for decisions, code, combos in self._groups:
                table = np.zeros(len(combos))
                for j, d in enumerate(decisions):
                    table += np.log(np.asarray(probs[d], dtype=np.float64))[combos[:, j]]
                total += table[code]
        top = total.max()
        if not np.isfinite(top):  # every allowed row has probability 0: uniform
            return min(int(u * len(self._archs)), len(self._archs) - 1)
        cdf = np.cumsum(np.exp(total - top))
        return min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), len(self._archs) - 1)

    def draw(self, probs, u: float) -> tuple:
        """The architecture (tuple of option indices) of :meth:`draw_index`."""
        return self._archs[self.draw_index(probs, u)]


def restricted_sampler(space, radix) -> RestrictedSampler | None:
    """A :class:`RestrictedSampler` for a space that lists its architectures
    (``space.allowed_choices()`` not None, e.g. an ``NB101Space`` built from a partial
    table); None for every other space (decision-by-decision draws with redraws apply)."""
    fn = getattr(space, "allowed_choices", None)
    rows = fn() if callable(fn) else None
    if rows is None:
        return None
    return RestrictedSampler(rows, radix)
