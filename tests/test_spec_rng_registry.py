"""RunSpec (canonical JSON, run ids, validation), seeding helpers and the registries."""

from __future__ import annotations

import copy
import json
import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

import benchlab
from benchlab import (
    BenchlabError,
    InvalidConfig,
    RandomStream,
    Registry,
    RunSpec,
    UnknownName,
    run_seed_sequence,
    stable_hash,
)
from benchlab import _registry

# --------------------------------------------------------------------------- RunSpec


def _spec(**kw) -> RunSpec:
    base = dict(benchmark="analognas", strategy="random_search", max_evaluations=100)
    base.update(kw)
    return RunSpec(**base)


def test_canonical_json_is_compact_sorted_and_key_order_independent():
    a = _spec(benchmark_kwargs={"b": 2, "a": 1}, strategy_kwargs={"y": [1, 2], "x": {"q": 1, "p": 2}})
    b = _spec(strategy_kwargs={"x": {"p": 2, "q": 1}, "y": [1, 2]}, benchmark_kwargs={"a": 1, "b": 2})
    assert a.to_json() == b.to_json()
    assert a.run_id == b.run_id
    text = a.to_json()
    assert " " not in text
    assert text.index('"a"') < text.index('"b"')
    assert json.loads(text) == a.to_dict()
    assert RunSpec.from_dict(json.loads(text)) == a
    assert a.to_json() == a.to_json()


def test_run_id_is_pinned():
    # Pins the canonical-JSON format and the run-id hash: if this changes, every stored
    # results folder of every user changes identity. Computed once from the code at the
    # time the test was written; change it only with a migration note.
    spec = _spec()
    assert spec.to_json() == (
        '{"benchmark":"analognas","benchmark_kwargs":{},"max_evaluations":100,"max_seconds":null,'
        '"n_workers":1,"repeat":0,"seed":0,"strategy":"random_search","strategy_kwargs":{}}'
    )
    assert spec.run_id == "bdc0197aeaa822e3"
    assert len(spec.run_id) == 16 and int(spec.run_id, 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"repeat": 1},
        {"n_workers": 2},
        {"max_evaluations": 101},
        {"max_seconds": 5.0},
        {"strategy": "regularized_evolution"},
        {"benchmark": "other"},
        {"strategy_kwargs": {"replace": False}},
        {"benchmark_kwargs": {"objective": "ptq_accuracy"}},
    ],
)
def test_every_field_changes_the_run_id(change):
    assert _spec(**change).run_id != _spec().run_id
    assert _spec(**change) != _spec()


def test_max_seconds_int_and_float_are_one_spec():
    # The CLI parses --max-seconds as a float; the Python API takes 12000 as well. The
    # same budget must give the same spec and run id, else resuming an experiment started
    # from Python with the CLI (or the other way round) raises ResultsConflict.
    a = _spec(max_evaluations=None, max_seconds=12000)
    b = _spec(max_evaluations=None, max_seconds=12000.0)
    assert a == b
    assert a.run_id == b.run_id


def test_hash_and_equality():
    a = _spec(strategy_kwargs={"x": 1, "y": 2})
    b = _spec(strategy_kwargs={"y": 2, "x": 1})
    assert a == b and hash(a) == hash(b)
    assert len({a, b, _spec(seed=3)}) == 2
    assert a != _spec(seed=3)
    assert a != a.to_dict()
    c = copy.deepcopy(a)
    assert c == a and c.run_id == a.run_id
    assert pickle.loads(pickle.dumps(a)) == a


@pytest.mark.parametrize(
    "kw",
    [
        {"max_evaluations": None, "max_seconds": None},
        {"max_evaluations": 0},
        {"max_evaluations": -5},
        {"max_evaluations": True},
        {"max_evaluations": 10.0},
        {"max_evaluations": "10"},
        {"max_evaluations": None, "max_seconds": 0},
        {"max_evaluations": None, "max_seconds": -1.0},
        {"max_evaluations": None, "max_seconds": math.nan},
        {"max_evaluations": None, "max_seconds": math.inf},
        {"max_evaluations": None, "max_seconds": True},
        {"max_seconds": "12000"},
        {"seed": -1},
        {"seed": 1.5},
        {"seed": True},
        {"repeat": -1},
        {"n_workers": 0},
        {"n_workers": False},
        {"strategy_kwargs": [1, 2]},
        {"strategy_kwargs": {"f": math.nan}},
        {"strategy_kwargs": {"f": object()}},
    ],
)
def test_invalid_specs_raise_invalid_config(kw):
    with pytest.raises(InvalidConfig) as info:
        _spec(**kw)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_budget_message_says_what_to_set():
    with pytest.raises(InvalidConfig, match="max_evaluations.*max_seconds"):
        _spec(max_evaluations=None)


def test_unknown_fields_in_from_dict():
    data = _spec().to_dict()
    data["colour"] = "red"
    with pytest.raises(InvalidConfig, match="colour"):
        RunSpec.from_dict(data)


# --------------------------------------------------------------------------- seeding

_HASH_SCRIPT = (
    "import benchlab; "
    "print(benchlab.stable_hash('analognas', 'random_search', 3)); "
    "print(benchlab.run_seed_sequence(7, 'b', 's', 2).generate_state(2).tolist()); "
    "print(hash('analognas'))"
)


def _hash_in_subprocess(hashseed: str) -> list[str]:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    out = subprocess.run([sys.executable, "-c", _HASH_SCRIPT], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split("\n")


def test_stable_hash_is_the_same_in_every_process():
    one = _hash_in_subprocess("1")
    two = _hash_in_subprocess("2")
    # control: Python's own hash really differs between these processes
    assert one[2] != two[2]
    assert one[0] == two[0] == str(stable_hash("analognas", "random_search", 3))
    assert one[1] == two[1] == str(run_seed_sequence(7, "b", "s", 2).generate_state(2).tolist())


def test_stable_hash_properties():
    h = stable_hash("a", "b")
    assert isinstance(h, int) and 0 <= h < 2**64
    assert h == stable_hash("a", "b")
    assert h != stable_hash("b", "a")
    assert stable_hash("ab") != stable_hash("a", "b")  # parts are separated


def _state(seq: np.random.SeedSequence) -> list[int]:
    return seq.generate_state(4).tolist()


def test_run_seed_sequence_differs_across_components():
    base = _state(run_seed_sequence(0, "bench", "strat", 0))
    assert base == _state(run_seed_sequence(0, "bench", "strat", 0))
    others = [
        run_seed_sequence(1, "bench", "strat", 0),
        run_seed_sequence(0, "bench2", "strat", 0),
        run_seed_sequence(0, "bench", "strat2", 0),
        run_seed_sequence(0, "bench", "strat", 1),
        run_seed_sequence(0, "strat", "bench", 0),  # roles are not interchangeable
    ]
    states = [_state(s) for s in others]
    assert all(s != base for s in states)
    assert len({tuple(s) for s in states}) == len(states)


def test_run_spec_key_feeds_the_seed():
    a, b = _spec(strategy_kwargs={"replace": True}), _spec(strategy_kwargs={"replace": False})
    sa = run_seed_sequence(a.seed, a.benchmark_key, a.strategy_key, a.repeat)
    sb = run_seed_sequence(b.seed, b.benchmark_key, b.strategy_key, b.repeat)
    assert _state(sa) != _state(sb)


# --------------------------------------------------------------------------- RandomStream


def test_random_stream_matches_its_generator_in_blocks():
    stream = RandomStream(5)
    draws = [stream.random() for _ in range(2500)]
    assert draws == np.random.default_rng(5).random(3 * 1024)[:2500].tolist()
    # the same for SeedSequence and Generator inputs
    assert RandomStream(np.random.SeedSequence(5)).random() == draws[0]
    assert RandomStream(np.random.default_rng(5)).random() == draws[0]


@pytest.mark.parametrize("drawn", [0, 10, 1023, 1024, 1500])
def test_random_stream_pickle_continues_the_same_stream(drawn):
    stream = RandomStream(11)
    for _ in range(drawn):
        stream.random()
    clone = pickle.loads(pickle.dumps(stream))
    twin = copy.deepcopy(stream)
    a = [stream.integers(0, 1000) for _ in range(3000)]
    b = [clone.integers(0, 1000) for _ in range(3000)]
    c = [twin.integers(0, 1000) for _ in range(3000)]
    assert a == b == c
    # the clone's generator is its own: drawing from it does not advance the original
    assert stream.random() == clone.random()


def test_random_stream_integer_ranges():
    stream = RandomStream(1)
    vals = [stream.integers(3, 7) for _ in range(4000)]
    assert set(vals) == {3, 4, 5, 6}
    assert all(type(v) is int for v in vals)
    vals = [stream.integers(5) for _ in range(4000)]
    assert set(vals) == {0, 1, 2, 3, 4}
    vals = [stream.index(3) for _ in range(3000)]
    assert set(vals) == {0, 1, 2}
    assert stream.integers(4, 5) == 4
    u = [stream.random() for _ in range(5000)]
    assert min(u) >= 0.0 and max(u) < 1.0
    perm = stream.shuffle_indices(50)
    assert sorted(perm.tolist()) == list(range(50))


def test_random_stream_is_uniform():
    stream = RandomStream(2024)
    n, k = 100_000, 10
    counts = np.bincount([stream.integers(k) for _ in range(n)], minlength=k)
    assert stats.chisquare(counts).pvalue > 1e-3
    # a biased mapping would fail the same check
    biased = np.bincount([min(int(stream.random() * (k + 0.5)), k - 1) for _ in range(n)], minlength=k)
    assert stats.chisquare(biased).pvalue < 1e-6
    # and uniform doubles fill 20 bins evenly
    u = np.array([stream.random() for _ in range(n)])
    assert stats.chisquare(np.histogram(u, bins=20, range=(0, 1))[0]).pvalue > 1e-3


def test_random_stream_seeds_differ():
    a, b = RandomStream(1), RandomStream(2)
    assert [a.random() for _ in range(5)] != [b.random() for _ in range(5)]


# --------------------------------------------------------------------------- Registry


def _fresh(group="benchlab.test_widgets") -> Registry:
    # the builtin package is imported on first lookup: a module that registers nothing
    return Registry(kind="widget", plural="widgets", builtin="benchlab._errors", group=group)


def _cls(name: str, module: str = "thirdparty.widgets") -> type:
    return type(name, (), {"__module__": module, "name": "unnamed"})


def test_register_and_get(monkeypatch):
    monkeypatch.setattr(_registry, "entry_points", lambda group: [])
    reg = _fresh()
    A = _cls("Alpha")

    @reg.register("alpha")
    class _Deco:  # noqa: N801
        pass

    reg.add("a-1", A)
    reg.add("a-1", A)  # the same class again is fine
    assert reg.get("a-1") is A
    assert A.name == "a-1"
    assert reg.names() == ["a-1", "alpha"]
    assert "alpha" in reg and "beta" not in reg
    assert list(reg) == ["a-1", "alpha"]


def test_collision_names_both_classes():
    reg = _fresh()
    A, B = _cls("Alpha", "pkg_one.mod"), _cls("Beta", "pkg_two.mod")
    reg.add("widget", A)
    with pytest.raises(BenchlabError) as info:
        reg.add("widget", B)
    msg = str(info.value)
    assert "pkg_one.mod.Alpha" in msg and "pkg_two.mod.Beta" in msg
    assert "'widget'" in msg


@pytest.mark.parametrize("bad", ["", "has space", "semi;colon", "a/b"])
def test_bad_names_are_refused(bad):
    with pytest.raises(BenchlabError):
        _fresh().add(bad, _cls("X"))


def test_unknown_name_suggests_a_near_miss():
    with pytest.raises(UnknownName) as info:
        benchlab.STRATEGIES.get("random_serch")
    assert isinstance(info.value, KeyError)
    msg = str(info.value)
    assert "did you mean 'random_search'?" in msg
    assert "'random_serch'" in msg
    assert not msg.startswith('"')  # plain, not KeyError's quoted repr
    with pytest.raises(KeyError):
        benchlab.BENCHMARKS.get("analognass")
    with pytest.raises(UnknownName) as info:
        benchlab.STRATEGIES.get("zzzzzzzz")
    assert "did you mean" not in str(info.value)
    assert "random_search" in str(info.value)  # lists what exists


def test_builtins_are_registered():
    assert {"random_search", "regularized_evolution"} <= set(benchlab.STRATEGIES.names())
    assert "analognas" in benchlab.BENCHMARKS.names()
    from benchlab.strategies import RandomSearch

    assert benchlab.STRATEGIES.get("random_search") is RandomSearch


class _FakeEntryPoint:
    def __init__(self, name, obj):
        self.name = name
        self._obj = obj
        self.loaded = 0

    def load(self):
        self.loaded += 1
        return self._obj


def test_entry_points_are_loaded_lazily(monkeypatch):
    Third = _cls("ThirdParty")
    ep = _FakeEntryPoint("third_party", Third)
    asked = []

    def fake_entry_points(*, group):
        asked.append(group)
        return [ep] if group == "benchlab.test_widgets" else []

    monkeypatch.setattr(_registry, "entry_points", fake_entry_points)
    reg = _fresh()
    assert ep.loaded == 0  # nothing happens at construction
    assert reg.get("third_party") is Third
    assert Third.name == "third_party"
    assert asked == ["benchlab.test_widgets"]
    assert reg.names() == ["third_party"]
    assert ep.loaded == 1  # loaded once, not on every lookup


def test_entry_point_colliding_with_a_registered_name(monkeypatch):
    A, B = _cls("Builtin", "builtin.mod"), _cls("Intruder", "evil.mod")
    monkeypatch.setattr(_registry, "entry_points", lambda *, group: [_FakeEntryPoint("shared", B)])
    reg = _fresh()
    reg.add("shared", A)
    with pytest.raises(BenchlabError) as info:
        reg.get("shared")
    assert "builtin.mod.Builtin" in str(info.value) and "evil.mod.Intruder" in str(info.value)


@pytest.mark.parametrize("kind", ["TABLES", "PROTOCOLS", "IMPORTERS", "COMMANDS"])
def test_every_kind_has_the_same_collision_rule(kind):
    """Tables, protocols, importers and commands live in the same Registry class as strategies
    and benchmarks: one object again is a no-op, another object under a taken name is an error."""
    import dataclasses

    from benchlab import ext

    reg = getattr(ext, kind)
    name = reg.names()[0]
    existing = reg.get(name)
    reg.add(name, existing)  # the same object again: fine
    other = dataclasses.replace(existing, description="an impostor") if hasattr(existing, "description") else None
    if other is None or other == existing:
        other = dataclasses.replace(existing, run=print) if hasattr(existing, "run") else dataclasses.replace(existing, build=print)
    with pytest.raises(BenchlabError, match="already registered"):
        reg.add(name, other)
    assert reg.get(name) is existing
