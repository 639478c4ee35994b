"""Spaces whose categorical view (``choices()``) can spell invalid architectures.

On a ``CategoricalSpace`` every tuple of option indices is an architecture. NAS-Bench-101's
graph space (``benchlab.benchmarks.nb101.NB101Space``) also offers a categorical view whose tuple IS
the architecture (21 edge bits + 5 ops), but some tuples are not valid cells (disconnected,
or more than 9 edges after pruning). Strategies that build architectures decision by
decision (REINFORCE, the Optuna adapter, BOHB's KDE) redraw such tuples: the NB101 paper's
baselines (automl/nas_benchmarks) scored them as a failed, free query instead, which a
strategy sees the same way (no result, no cost) without wasting a benchmark call.
"""

from __future__ import annotations

from benchlab import CategoricalSpace, InvalidArchitecture, InvalidConfig

__all__ = ["MAX_DRAWS", "categorical_view", "is_valid"]

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
