"""NAS-Bench-201 search space: official strings, ids, neighbours, mutation, encodings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import benchlab
from benchlab import InvalidArchitecture, RandomStream
from benchlab.benchmarks.nb201 import EDGES, OPS, NB201Space

# (official string, tuple in NB201 edge order with NB201 op ids)
KNOWN = [
    (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        (3, 3, 3, 1, 3, 3),
    ),
    # best CIFAR-10 cell of AnalogNAS-Bench
    (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
        (3, 3, 3, 1, 2, 3),
    ),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", (0, 0, 0, 0, 0, 0)),
    # first row of the official data files
    (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
        (4, 2, 1, 2, 1, 1),
    ),
    # every edge a different op: pins the edge order (1<-0),(2<-0),(2<-1),(3<-0),(3<-1),(3<-2)
    (
        "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|",
        (0, 1, 2, 3, 4, 0),
    ),
]

VALID = KNOWN[0][0]


@pytest.fixture(scope="module")
def space() -> NB201Space:
    return NB201Space()


def test_constants_follow_the_official_order():
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert EDGES == ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")


def test_size_and_choices(space):
    assert space.size == 15625 == 5**6
    choices = space.choices()
    assert len(choices) == 6
    assert all(options == OPS for _, options in choices)
    assert isinstance(space, benchlab.SearchSpace)


@pytest.mark.parametrize("text, arch", KNOWN)
def test_known_strings(space, text, arch):
    assert space.from_str(text) == arch
    assert space.to_str(arch) == text
    assert space.validate(arch) == arch


def test_describe_arch_names_edges(space):
    assert space.describe_arch((0, 1, 2, 3, 4, 0)) == {
        "edge 1<-0": "none",
        "edge 2<-0": "skip_connect",
        "edge 2<-1": "nor_conv_1x1",
        "edge 3<-0": "nor_conv_3x3",
        "edge 3<-1": "avg_pool_3x3",
        "edge 3<-2": "none",
    }


def test_every_architecture_round_trips(space):
    archs = list(space.enumerate())
    assert len(archs) == 15625
    assert len(set(archs)) == 15625
    assert set(archs) == set(itertools.product(range(5), repeat=6))
    strings = [space.to_str(a) for a in archs]
    assert len(set(strings)) == 15625
    for i, (a, s) in enumerate(zip(archs, strings)):
        assert space.from_str(s) == a
        assert space.to_id(a) == i
        assert space.from_id(i) == a


def test_ids_are_base5_with_first_edge_most_significant(space):
    assert space.to_id((0, 0, 0, 0, 0, 0)) == 0
    assert space.to_id((0, 0, 0, 0, 0, 1)) == 1
    assert space.to_id((1, 0, 0, 0, 0, 0)) == 5**5
    assert space.to_id((4, 4, 4, 4, 4, 4)) == 15624
    # numpy integers are accepted as ids (tables index with them)
    assert space.from_id(np.int64(7)) == space.from_id(7) == (0, 0, 0, 0, 1, 2)


def test_neighbors(space):
    for arch in [(0,) * 6, (3, 3, 3, 1, 3, 3), (4, 2, 1, 2, 1, 1)]:
        nbrs = space.neighbors(arch)
        assert len(nbrs) == 24
        assert len(set(nbrs)) == 24
        assert arch not in nbrs
        for n in nbrs:
            space.validate(n)
            assert sum(x != y for x, y in zip(arch, n)) == 1
        assert space.neighbors(arch) == nbrs  # fixed order


@pytest.mark.parametrize("rng_factory", [np.random.default_rng, RandomStream], ids=["Generator", "RandomStream"])
def test_mutate_changes_exactly_one_edge(space, rng_factory):
    rng = rng_factory(7)
    arch = (3, 3, 3, 1, 3, 3)
    seen = set()
    for _ in range(2000):
        child = space.mutate(arch, rng)
        space.validate(child)
        assert sum(x != y for x, y in zip(arch, child)) == 1
        seen.add(child)
    # every neighbour is reachable by one mutation, and nothing else is
    assert seen == set(space.neighbors(arch))
    for _ in range(500):
        a = space.sample(rng)
        b = space.mutate(a, rng)
        assert sum(x != y for x, y in zip(a, b)) == 1


def test_sample_is_valid_and_seeded(space):
    first = space.sample(RandomStream(3))
    r1, r2 = RandomStream(3), RandomStream(3)
    s1 = [space.sample(r1) for _ in range(300)]
    s2 = [space.sample(r2) for _ in range(300)]
    assert s1 == s2
    assert s1[0] == first
    assert len(set(s1)) > 290  # 300 draws from 15,625 rarely collide
    for arch in s1:
        space.validate(arch)


def test_onehot_encoding(space):
    for arch in [(0,) * 6, (3, 3, 3, 1, 3, 3), (0, 1, 2, 3, 4, 0)]:
        vec = space.encode(arch, "onehot")
        assert vec.shape == (30,)
        assert vec.sum() == 6
        assert set(np.unique(vec).tolist()) == {0.0, 1.0}
        assert np.flatnonzero(vec).tolist() == [5 * e + op for e, op in enumerate(arch)]
    assert space.encode((0, 1, 2, 3, 4, 0)).shape == (30,)  # one-hot is the default
    assert space.encode((0, 1, 2, 3, 4, 0), "categorical").tolist() == [0, 1, 2, 3, 4, 0]


BAD_STRINGS = [
    # (text, fragment the message must contain)
    (VALID.replace("skip_connect", "conv_5x5"), "conv_5x5"),  # wrong op
    (VALID.replace("|nor_conv_3x3~0|+", "|nor_conv_3x3~1|+", 1), "nor_conv_3x3~1"),  # wrong source
    ("|skip_connect~0|+|none~1|none~0|+|none~0|none~1|none~2|", "none~1"),  # sources swapped
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "2 node groups"),  # 2 nodes
    (VALID + "+|none~0|none~1|none~2|none~3|", "4 node groups"),  # 4 nodes
    ("|nor_conv_3x3~0|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "node 1"),  # too many inputs
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2"),  # too few inputs
    (VALID.replace("|", ""), "nor_conv_3x3~0"),  # missing pipes
    ("nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", "nor_conv_3x3~0|"),
    ("|nor_conv_3x3|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", "nor_conv_3x3"),  # no ~
    ("", "''"),
    ("|none~0|\n+|none~0|none~1|+|none~0|none~1|none~2|", "node 1"),  # embedded newline
]


@pytest.mark.parametrize("text, fragment", BAD_STRINGS)
def test_invalid_strings_raise_one_line_errors(space, text, fragment):
    with pytest.raises(InvalidArchitecture) as info:
        space.from_str(text)
    msg = str(info.value)
    assert "\n" not in msg
    assert repr(text) in msg  # names the bad value
    assert fragment in msg  # ... and what is wrong with it
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [123, None, (3, 3, 3, 1, 3, 3), b"|none~0|", 1.5])
def test_non_string_raises(space, value):
    with pytest.raises(InvalidArchitecture) as info:
        space.from_str(value)
    msg = str(info.value)
    assert "\n" not in msg
    assert repr(value) in msg


@pytest.mark.parametrize("index", [-1, 15625, 1.5, True, "3", None, np.int64(15625)])
def test_invalid_ids_raise(space, index):
    with pytest.raises(InvalidArchitecture) as info:
        space.from_id(index)
    msg = str(info.value)
    assert "\n" not in msg
    assert repr(index) in msg
    assert "15624" in msg  # says what the valid range is


@pytest.mark.parametrize(
    "arch",
    [(5, 0, 0, 0, 0, 0), (-1, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0,) * 7, [3, 3, 3, 1, 3, 3], "abc", None],
)
def test_invalid_tuples_raise(space, arch):
    for method in (space.validate, space.to_str, space.to_id):
        with pytest.raises(InvalidArchitecture) as info:
            method(arch)
        msg = str(info.value)
        assert "\n" not in msg
        assert repr(arch) in msg


@pytest.mark.data
def test_official_strings_of_the_shared_data(space, shared_data):
    import pandas as pd

    df = pd.read_csv(shared_data / "nb201" / "nb201_test_200ep_mean.csv")
    strings = df["ArchitectureString"].tolist()
    assert len(strings) == 15625
    parsed = []
    for text in strings:
        arch = space.from_str(text)
        assert space.to_str(arch) == text  # identical string back
        parsed.append(arch)
    assert set(parsed) == set(space.enumerate())


def test_path_encoding_bananas():
    space = NB201Space()
    best = space.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    vec = space.encode(best, "path")
    assert vec.shape == (84,) and vec.sum() == 3  # four routes; 0->1->3 and 0->2->3 share a sequence
    # op letters for the path alphabet: skip=0, c1=1, c3=2, avg=3
    assert vec[0] == 1  # 0->3: skip
    assert vec[4 + 2 * 4 + 2] == 1  # 0->1->3 and 0->2->3: c3, c3 (one shared bit)
    assert vec[20 + 2 * 16 + 2 * 4 + 2] == 1  # 0->1->2->3: c3, c3, c3
    empty = space.from_str("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert space.encode(empty, "path").sum() == 0
    # a none on edge 1<-0 cuts the two routes through node 1
    cut = space.from_str("|none~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|")
    assert space.encode(cut, "path").sum() == 2
    # the encoding separates cells that differ on a route
    codes = {space.encode(a, "path").tobytes() for a in space.enumerate()}
    assert 1000 < len(codes) < 15625  # cells with the same routes share a code
