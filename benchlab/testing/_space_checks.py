"""The search-space conformance suite.

Every check takes a ``SearchSpace`` instance, or a benchmark (registry name, class or
instance, plus its constructor keyword arguments) whose ``space`` is checked.
"""

from __future__ import annotations

import math
import pickle

import numpy as np

from .._errors import InvalidArchitecture
from .._registry import BENCHMARKS
from .._rng import RandomStream
from .._space import CategoricalSpace
from ._common import (
    Case,
    ConformanceError,
    case_id,
    global_rng_state,
    limited,
    resolve_space,
    same_global_rng_state,
    short,
)
from ._toy import ToySpace

__all__ = [
    "SPACE_CHECKS",
    "check_space",
    "space_cases",
    "check_space_sample",
    "check_space_mutate",
    "check_space_neighbors",
    "check_space_strings",
    "check_space_ids",
    "check_space_encode",
    "check_space_choices",
    "check_space_pickle",
    "check_space_read_only",
]

#: Spaces at most this large are enumerated in full by the id and string checks.
ENUMERATE_LIMIT = 20_000


def space_cases() -> list[Case]:
    """The toy spaces and the space of every registered benchmark (default arguments)."""
    cases = [
        Case("ToySpace", ToySpace(), {}),
        Case("ToySpace-2x2", ToySpace((2, 2)), {}),
        Case("ToySpace-nb201-like", ToySpace.nb201_like(), {}),
    ]
    for name in BENCHMARKS.names():
        cases.append(Case(f"{case_id(name, {})}.space", name, {}))
    return cases


def _fail(label: str, message: str) -> None:
    raise ConformanceError(f"{label}: {message}")


def _archs(space, n: int, seed: int = 0) -> list:
    """All architectures of a small space, else ``n`` distinct samples."""
    if math.isfinite(space.size) and space.size <= n:
        try:
            return list(space.enumerate())
        except NotImplementedError:
            pass
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    for _ in range(4 * n):
        a = space.sample(rng)
        if a not in seen:
            seen.add(a)
            out.append(a)
            if len(out) >= n:
                break
    return out


def _expect_invalid(label: str, what: str, fn, *args) -> InvalidArchitecture:
    try:
        result = fn(*args)
    except InvalidArchitecture as exc:
        if not isinstance(exc, ValueError):
            _fail(label, "InvalidArchitecture must subclass ValueError")
        msg = str(exc)
        if not msg or "\n" in msg:
            _fail(label, f"{what} raised InvalidArchitecture with a message that is empty or spans lines: {msg!r}")
        return exc
    except Exception as exc:
        _fail(label, f"{what} raised {type(exc).__name__}: {exc}; expected benchlab.InvalidArchitecture (a ValueError)")
    _fail(label, f"{what} returned {short(result)}; expected benchlab.InvalidArchitecture")


@limited
def check_space_sample(space, **kwargs) -> None:
    """``sample`` gives valid hashable architectures, from a numpy Generator or a
    RandomStream, deterministically per seed, without touching the global RNG."""
    space, label = resolve_space(space, kwargs)
    size = space.size
    if not (size == math.inf or (isinstance(size, (int, np.integer)) and size >= 1)):
        _fail(label, f"size must be a positive int or math.inf, got {size!r}")
    before = global_rng_state()
    for make in (np.random.default_rng, RandomStream):
        r1, r2 = make(2), make(2)
        a = [space.sample(r1) for _ in range(200)]
        b = [space.sample(r2) for _ in range(200)]
        if a != b:
            _fail(label, f"sample() with {make.__name__} is not deterministic for a fixed seed")
        for arch in a:
            hash(arch)
            if space.validate(arch) != arch:
                _fail(label, f"validate({short(arch)}) must return the architecture")
        if size > 1 and len(set(a)) == 1:
            _fail(label, f"200 samples with {make.__name__} were all {short(a[0])}")
    if not all(same_global_rng_state(before, global_rng_state())):
        _fail(label, "sample() changed the global random/numpy.random state")


@limited
def check_space_mutate(space, **kwargs) -> None:
    """``mutate`` returns a valid architecture different from its input, one of
    ``neighbors`` (unless the space declares ``local_mutation = False``: a paper's mutation
    that may change several decisions at once, as NB101's); for categorical spaces exactly
    one decision changes."""
    space, label = resolve_space(space, kwargs)
    if space.size < 2:
        return
    rng = np.random.default_rng(3)
    stream = RandomStream(4)
    for arch in _archs(space, 100, seed=1):
        neighbors = set(space.neighbors(arch))
        for r in (rng, stream):
            m = space.mutate(arch, r)
            try:
                space.validate(m)
            except InvalidArchitecture as exc:
                _fail(label, f"mutate({short(arch)}) returned an invalid architecture {short(m)}: {exc}")
            if m == arch:
                _fail(label, f"mutate({short(arch)}) returned its input; it must change the architecture")
            if isinstance(space, CategoricalSpace):
                diff = sum(x != y for x, y in zip(arch, m))
                if len(m) != len(arch) or diff != 1:
                    _fail(label, f"mutate({short(arch)}) = {short(m)} changes {diff} decisions; expected exactly one")
            if getattr(space, "local_mutation", True) and m not in neighbors:
                _fail(label, f"mutate({short(arch)}) = {short(m)} is not one of neighbors({short(arch)})")
    a = [space.mutate(x, np.random.default_rng(9)) for x in _archs(space, 20, seed=2)]
    b = [space.mutate(x, np.random.default_rng(9)) for x in _archs(space, 20, seed=2)]
    if a != b:
        _fail(label, "mutate() is not deterministic for a fixed seed")


@limited
def check_space_neighbors(space, **kwargs) -> None:
    """``neighbors`` are valid, distinct, exclude the architecture itself, come in a fixed
    order, and for categorical spaces number sum(options - 1) (24 for NAS-Bench-201)."""
    space, label = resolve_space(space, kwargs)
    for arch in _archs(space, 60, seed=5):
        nb = space.neighbors(arch)
        if list(nb) != list(space.neighbors(arch)):
            _fail(label, f"neighbors({short(arch)}) changes between calls; it must be in a fixed order")
        if len(set(nb)) != len(nb):
            _fail(label, f"neighbors({short(arch)}) has duplicates")
        if arch in set(nb):
            _fail(label, f"neighbors({short(arch)}) includes the architecture itself")
        for x in nb:
            try:
                space.validate(x)
            except InvalidArchitecture as exc:
                _fail(label, f"neighbors({short(arch)}) includes an invalid architecture {short(x)}: {exc}")
        if isinstance(space, CategoricalSpace):
            radix = [len(o) for _, o in space.choices()]
            expected = {arch[:i] + (v,) + arch[i + 1:] for i, r in enumerate(radix) for v in range(r) if v != arch[i]}
            if len(nb) != sum(r - 1 for r in radix) or set(nb) != expected:
                _fail(label, f"neighbors({short(arch)}) has {len(nb)} architectures; expected the "
                      f"{sum(r - 1 for r in radix)} that differ in exactly one decision")


@limited
def check_space_strings(space, **kwargs) -> None:
    """``from_str(to_str(a)) == a`` for many architectures, strings are distinct one-liners,
    and garbage strings raise ``InvalidArchitecture`` with a one-line message."""
    space, label = resolve_space(space, kwargs)
    archs = _archs(space, ENUMERATE_LIMIT if space.size <= ENUMERATE_LIMIT else 1000, seed=7)
    seen: dict = {}
    for arch in archs:
        s = space.to_str(arch)
        if not isinstance(s, str) or "\n" in s or not s:
            _fail(label, f"to_str({short(arch)}) = {short(s)}; expected a non-empty one-line string")
        if s in seen:
            _fail(label, f"to_str gives {s!r} for both {short(seen[s])} and {short(arch)}")
        seen[s] = arch
        try:
            back = space.from_str(s)
        except Exception as exc:
            _fail(label, f"from_str(to_str({short(arch)})) raised {type(exc).__name__}: {exc}")
        if back != arch:
            _fail(label, f"from_str({s!r}) = {short(back)}, expected {short(arch)}")
    example = space.to_str(archs[0])
    for garbage in ("", "garbage", "\x00\n|+~", None, 42):
        _expect_invalid(label, f"from_str({garbage!r})", space.from_str, garbage)
    for derived in (example + "|x", example + "+", "x" + example, example[: len(example) // 2], example[:-1], example.upper()):
        if derived == example:
            continue
        try:
            parsed = space.from_str(derived)
        except InvalidArchitecture as exc:
            if "\n" in str(exc) or not str(exc):
                _fail(label, f"from_str({derived!r}) raised InvalidArchitecture with a message that is empty or spans lines")
            continue
        except Exception as exc:
            _fail(label, f"from_str({derived!r}) raised {type(exc).__name__}: {exc}; expected benchlab.InvalidArchitecture")
        # Accepted: only fine if it really is the canonical string of a valid architecture.
        space.validate(parsed)
        if space.to_str(parsed) != derived:
            _fail(label, f"from_str({derived!r}) accepted a non-canonical string as {short(parsed)}")
    if isinstance(space, CategoricalSpace):
        bad = tuple([len(space.choices()[0][1])] + list(archs[0][1:]))
        _expect_invalid(label, f"to_str({bad!r})", space.to_str, bad)


@limited
def check_space_ids(space, **kwargs) -> None:
    """Finite spaces: ``from_id(to_id(a)) == a``, ids in ``range(size)``, out-of-range ids
    raise ``InvalidArchitecture``, numpy integer ids work, and ``enumerate()`` yields exactly
    ``size`` distinct architectures in id order (when at most 20,000)."""
    space, label = resolve_space(space, kwargs)
    size = space.size
    if not math.isfinite(size):
        return
    size = int(size)
    archs = _archs(space, 500, seed=11)
    try:
        ids = [space.to_id(a) for a in archs]
    except NotImplementedError:
        ids = None
    if ids is not None:
        for a, i in zip(archs, ids):
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < size:
                _fail(label, f"to_id({short(a)}) = {i!r}; expected an int in [0, {size})")
            if space.from_id(i) != a:
                _fail(label, f"from_id(to_id({short(a)})) = {short(space.from_id(i))}")
        if len(set(ids)) != len(ids):
            _fail(label, "to_id maps distinct architectures to the same id")
        for i in {0, size - 1, size // 2}:
            a = space.from_id(i)
            space.validate(a)
            if space.to_id(a) != i or space.from_id(np.int64(i)) != a:
                _fail(label, f"id {i}: to_id(from_id({i})) = {space.to_id(a)}, or from_id(numpy.int64({i})) differs")
        for bad in (-1, size, size + 10):
            _expect_invalid(label, f"from_id({bad})", space.from_id, bad)
    if size <= ENUMERATE_LIMIT:
        try:
            every = list(space.enumerate())
        except NotImplementedError:
            _fail(label, f"a finite space of {size} architectures must implement enumerate()")
        if len(every) != size or len(set(every)) != size:
            _fail(label, f"enumerate() yielded {len(every)} architectures ({len(set(every))} distinct); size is {size}")
        for k in range(0, size, max(1, size // 200)):
            space.validate(every[k])
            if ids is not None and space.to_id(every[k]) != k:
                _fail(label, f"enumerate() is not in id order: item {k} has id {space.to_id(every[k])}")


@limited
def check_space_encode(space, **kwargs) -> None:
    """``encode(a, 'onehot')`` is a finite 1-D float vector of fixed length, deterministic and
    distinct for distinct architectures; an unknown kind raises ValueError."""
    space, label = resolve_space(space, kwargs)
    archs = _archs(space, 80, seed=13)
    length, seen = None, {}
    for a in archs:
        v = space.encode(a, "onehot")
        if not isinstance(v, np.ndarray) or v.ndim != 1 or not np.issubdtype(v.dtype, np.number):
            _fail(label, f"encode({short(a)}, 'onehot') must be a 1-D numeric numpy array, got {short(v)}")
        if length is None:
            length = v.size
        if v.size != length:
            _fail(label, f"encode(..., 'onehot') lengths differ: {length} and {v.size}")
        if not np.all(np.isfinite(v)) or not np.array_equal(v, space.encode(a, "onehot")):
            _fail(label, f"encode({short(a)}, 'onehot') is not finite or not deterministic")
        key = v.tobytes()
        if key in seen and seen[key] != a:
            _fail(label, f"{short(seen[key])} and {short(a)} have the same one-hot encoding")
        seen[key] = a
        if isinstance(space, CategoricalSpace):
            radix = [len(o) for _, o in space.choices()]
            if v.size != sum(radix) or v.sum() != len(radix) or set(np.unique(v).tolist()) - {0.0, 1.0}:
                _fail(label, f"encode({short(a)}, 'onehot') is not a concatenation of one-hot blocks of sizes {radix}")
    try:
        space.encode(archs[0], "no-such-encoding")
    except ValueError:
        pass
    except Exception as exc:
        _fail(label, f"encode(a, 'no-such-encoding') raised {type(exc).__name__}; expected a ValueError naming the kinds")
    else:
        _fail(label, "encode(a, 'no-such-encoding') did not raise; expected a ValueError naming the kinds")


@limited
def check_space_choices(space, **kwargs) -> None:
    """``choices()`` is a list of ``(name, options)`` with distinct names; for categorical
    spaces it matches the architecture tuples and the size."""
    space, label = resolve_space(space, kwargs)
    ch = space.choices()
    if not isinstance(ch, list) or not all(isinstance(c, tuple) and len(c) == 2 and isinstance(c[0], str) for c in ch):
        _fail(label, f"choices() must be a list of (name, options) tuples, got {short(ch)}")
    if len({n for n, _ in ch}) != len(ch):
        _fail(label, "choices() has duplicate decision names")
    for name, opts in ch:
        if len(tuple(opts)) < 1:
            _fail(label, f"decision {name!r} has no options")
    if isinstance(space, CategoricalSpace):
        prod = 1
        for _, o in ch:
            prod *= len(o)
        if prod != space.size:
            _fail(label, f"choices() spans {prod} architectures but size is {space.size}")
        for a in _archs(space, 50, seed=17):
            if len(a) != len(ch) or not all(0 <= v < len(o) for v, (_, o) in zip(a, ch)):
                _fail(label, f"{short(a)} does not index into choices() {[(n, len(o)) for n, o in ch]}")


@limited
def check_space_pickle(space, **kwargs) -> None:
    """The space pickles (strategies hold it) and the copy behaves identically."""
    space, label = resolve_space(space, kwargs)
    try:
        copy = pickle.loads(pickle.dumps(space))
    except Exception as exc:
        _fail(label, f"cannot be pickled: {type(exc).__name__}: {exc}")
    if copy.size != space.size:
        _fail(label, "the unpickled copy has another size")
    for a in _archs(space, 30, seed=19):
        copy.validate(a)
        if copy.to_str(a) != space.to_str(a) or copy.neighbors(a) != space.neighbors(a):
            _fail(label, f"the unpickled copy treats {short(a)} differently")
    if [copy.sample(np.random.default_rng(1)) for _ in range(5)] != [space.sample(np.random.default_rng(1)) for _ in range(5)]:
        _fail(label, "the unpickled copy samples differently")


_MUTABLE = (list, dict, set, bytearray)


def _shared_mutable(value) -> str:
    """What is mutable about ``value`` ("" when nothing): a list/dict/set, or a writeable array."""
    if isinstance(value, np.ndarray):
        return "a writeable numpy array" if value.flags.writeable else ""
    if isinstance(value, _MUTABLE):
        return f"a {type(value).__name__}"
    if isinstance(value, tuple):
        for v in value[:64]:
            inner = _shared_mutable(v)
            if inner:
                return f"a tuple holding {inner}"
    return ""


def _scribble(value) -> bool:
    """Change a returned container in place, as a careless strategy would; False if it cannot be."""
    try:
        if isinstance(value, np.ndarray) and value.size and value.flags.writeable:
            value.reshape(-1)[0] = value.reshape(-1)[-1] + 1 if value.dtype.kind in "iuf" else value.reshape(-1)[-1]
            return True
        if isinstance(value, list) and value:
            value.reverse()
            value.append(value[0])
            return True
        if isinstance(value, dict):
            value["__scribbled__"] = None
            return True
    except (TypeError, ValueError):
        return False
    return False


@limited
def check_space_read_only(space, **kwargs) -> None:
    """A space hands strategies nothing they could change for the others: every public
    attribute or property holding a collection (``all_archs`` included) is a tuple or a
    read-only numpy array, and what ``neighbors``, ``choices`` and ``encode`` return is
    the caller's own (changing it in place changes nothing the space gives out next).

    Strategies of one process share a space: a strategy that shuffles ``all_archs`` in
    place would otherwise silently change every later strategy's results.
    """
    space, label = resolve_space(space, kwargs)
    for name in sorted(dir(space)):
        if name.startswith("_"):
            continue
        try:
            value = getattr(space, name)
        except Exception:  # a property that needs data or arguments: not a collection handed out
            continue
        if callable(value):
            continue
        what = _shared_mutable(value)
        if what:
            _fail(
                label,
                f"space.{name} is {what}: a strategy could change it for every other strategy; "
                "hand out a tuple or a read-only array (arr.setflags(write=False))",
            )
    archs = _archs(space, 3, seed=23)
    calls = [("choices()", space.choices)]
    if archs:
        a = archs[0]
        calls += [(f"neighbors({short(a)})", lambda: space.neighbors(a))]
        calls += [(f"encode({short(a)})", lambda: space.encode(a))]
    for what, call in calls:
        try:
            first = call()
        except (NotImplementedError, ValueError):
            continue
        reference = pickle.dumps(call())
        if _scribble(first) and pickle.dumps(call()) != reference:
            _fail(label, f"{what} returns a shared object: changing the result in place changes the next call's result")


SPACE_CHECKS = (
    check_space_sample,
    check_space_mutate,
    check_space_neighbors,
    check_space_strings,
    check_space_ids,
    check_space_encode,
    check_space_choices,
    check_space_pickle,
    check_space_read_only,
)


def check_space(space, **kwargs) -> dict[str, str]:
    """Run every search-space check; returns ``{check: status}``, raises one ConformanceError."""
    from ._strategy_checks import run_checks

    _, label = resolve_space(space, kwargs)
    return run_checks(SPACE_CHECKS, space, kwargs, label)
