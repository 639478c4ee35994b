"""NB201/NB101 networks in torch, their closed-form costs and the FLOP counter (benchlab.nn)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from benchlab import InvalidArchitecture, InvalidConfig, UnknownName
from benchlab.nn import (
    nb101_param_count,
    nb101_prune,
    nb201_arch,
    nb201_flops,
    nb201_param_count,
)

torch = pytest.importorskip("torch")

from benchlab.nn import (
    NB101Network,
    NB201Network,
    ResNetBasicBlock,
    count_flops,
    make_op,
)
from benchlab.nn._ops import OPS

NONE, SKIP, C1, C3, POOL = range(5)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_import_does_not_import_torch():
    code = (
        "import sys, benchlab.nn; benchlab.nn.nb201_param_count((3,)*6); benchlab.nn.nb101_prune([[0, 1], [0, 0]], "
        "['input', 'output']); sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_ops_and_edges_match_the_nb201_space():
    """The torch layer knows no search space; its op and edge order are the NB201 space's."""
    from benchlab.benchmarks.nb201 import EDGES
    from benchlab.benchmarks.nb201 import OPS as SPACE_OPS
    from benchlab.nn import NB201_EDGES, NB201_OPS

    assert OPS == NB201_OPS == SPACE_OPS
    assert NB201_EDGES == EDGES


# ---------------------------------------------------------------- NB201 parameter counts


def test_design_anchors():
    """DESIGN section 4: 0.073306 M without convolutions, 1.531546 M with six 3x3 convs."""
    for arch in [(NONE,) * 6, (SKIP,) * 6, (POOL,) * 6, (SKIP, NONE, POOL, SKIP, POOL, NONE)]:
        assert nb201_param_count(arch) == 73_306
    assert nb201_param_count((C3,) * 6) == 1_531_546
    assert n_params(NB201Network((NONE,) * 6)) == 73_306
    assert n_params(NB201Network((C3,) * 6)) == 1_531_546


def _archs_by_conv_count():
    """One arch per (number of 3x3, number of 1x1) pair: 28 pairs; the other edges cycle none/skip/pool."""
    fill = (NONE, SKIP, POOL)
    for n3 in range(7):
        for n1 in range(7 - n3):
            ops = [C3] * n3 + [C1] * n1 + [fill[i % 3] for i in range(6 - n3 - n1)]
            rot = (n3 + 2 * n1) % 6  # move the convs around the cell
            yield tuple(ops[rot:] + ops[:rot])


def test_torch_count_equals_closed_form_for_every_conv_mix():
    archs = list(_archs_by_conv_count())
    assert len(archs) == 28 and len({(a.count(C3), a.count(C1)) for a in archs}) == 28
    for arch in archs:
        assert n_params(NB201Network(arch)) == nb201_param_count(arch), arch


@pytest.mark.parametrize("kw", [{"num_classes": 100}, {"num_classes": 120}, {"C": 4, "N": 1, "in_channels": 1}, {"C": 8, "N": 2, "num_classes": 3}])  # fmt: skip
def test_torch_count_equals_closed_form_other_sizes(kw):
    for arch in [(C3, C1, POOL, SKIP, NONE, C3), (C1,) * 6, (NONE,) * 6]:
        assert n_params(NB201Network(arch, **kw)) == nb201_param_count(arch, **kw)


def _table(shared_data, dataset: str):
    """(archs as benchlab tuples, num_param) in official index order.

    The MONET files carry no arch string: row i is official index i, whose string is row i
    of nb201_test_200ep_mean.csv (shared data README; benchmarks/nb201/_build.py aligns the
    files the same way).
    """
    import pandas as pd

    strings = pd.read_csv(shared_data / "nb201" / "nb201_test_200ep_mean.csv")["ArchitectureString"]
    frame = pd.read_csv(shared_data / "nb201" / f"nb201_valid_200ep_{dataset}.csv")
    assert len(frame) == len(strings) == 15625
    assert np.array_equal(frame["index"].to_numpy(), np.arange(15625))
    from benchlab.benchmarks.nb201 import NB201Space

    space = NB201Space()
    return [space.from_str(s) for s in strings], frame["num_param"].to_numpy()


@pytest.mark.data
@pytest.mark.parametrize("dataset, classes", [("cifar10-valid", 10), ("cifar100", 100), ("ImageNet16-120", 120)])
def test_closed_form_equals_benchmark_params_for_all_cells(shared_data, dataset, classes):
    archs, params = _table(shared_data, dataset)
    assert len(set(archs)) == 15625
    ours = np.array([nb201_param_count(a, num_classes=classes) for a in archs])
    assert np.array_equal(ours, params), f"{int((ours != params).sum())} cells differ"


@pytest.mark.slow
@pytest.mark.data
def test_every_torch_model_matches_the_benchmark(shared_data):
    """Builds all 15,625 CIFAR-10 networks (806 s, 52 ms each, measured on a busy 2-core machine)."""
    archs, params = _table(shared_data, "cifar10-valid")
    start = time.perf_counter()
    bad = [a for a, p in zip(archs, params) if n_params(NB201Network(a)) != p]
    seconds = time.perf_counter() - start
    print(f"built 15625 NB201 networks in {seconds:.1f} s ({seconds / 15625 * 1e3:.1f} ms each)")
    assert not bad, f"{len(bad)} cells differ, e.g. {bad[:3]}"


# ---------------------------------------------------------------- architectures


def test_cells_are_op_names_or_ids_per_edge():
    """The networks take a cell as 6 op names (or ids) per edge; strings are the space's business."""
    from benchlab.benchmarks.nb201 import NB201Space

    space = NB201Space()
    options = [opts for _, opts in space.choices()]
    for arch in space.enumerate():
        names = [opts[v] for opts, v in zip(options, arch)]
        assert nb201_arch(names) == nb201_arch(arch) == arch
    cell = (C3, SKIP, C1, NONE, POOL, C3)
    net = NB201Network([OPS[v] for v in cell], C=2, N=1)
    assert net.arch == cell
    assert nb201_arch(np.array([1, 2, 3, 4, 0, 1])) == (1, 2, 3, 4, 0, 1)
    with pytest.raises(InvalidArchitecture, match="from_str"):
        nb201_arch(space.to_str(cell))


@pytest.mark.parametrize("bad", [(0, 1, 2), (0, 1, 2, 3, 4, 5), (0.0, 1, 2, 3, 4, 0), (True,) * 6, 7, "|nor_conv_3x3~0|+|x~0|",
                                 "|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|",
                                 ("none",) * 5 + ("sep_conv_3x3",), ("none",) * 5 + (None,)])  # fmt: skip
def test_bad_arch_is_rejected(bad):
    with pytest.raises(InvalidArchitecture, match="NB201|op"):
        nb201_arch(bad)


def test_bad_sizes_are_rejected():
    with pytest.raises(InvalidConfig, match="C must be a positive integer"):
        nb201_param_count((0,) * 6, C=0)
    with pytest.raises(InvalidConfig, match="multiples of 4"):
        nb201_flops((0,) * 6, input_size=30)
    net = NB201Network((C3,) * 6, C=2, N=1)
    with pytest.raises(InvalidConfig, match="multiples of 4"):
        net(torch.zeros(1, 3, 30, 30))
    with pytest.raises(InvalidConfig, match=r"\(batch, 3, H, W\)"):
        net(torch.zeros(1, 1, 32, 32))
    with pytest.raises(InvalidConfig, match="init_seed"):
        NB201Network((C3,) * 6, init_seed=-1)


# ---------------------------------------------------------------- operations


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("c_in, c_out, stride", [(4, 4, 1), (4, 4, 2), (4, 6, 1), (4, 6, 2)])
def test_make_op_shapes(name, c_in, c_out, stride):
    op = make_op(name, c_in, c_out, stride)
    y = op(torch.randn(2, c_in, 8, 8, generator=torch.Generator().manual_seed(0)))
    assert y.shape == (2, c_out, 8 // stride, 8 // stride)
    if name == "none":
        assert not y.any()


def test_make_op_parameters_and_supernet_variant():
    assert n_params(make_op("nor_conv_3x3", 4, 4, 1)) == 9 * 16 + 8  # weights + BN scale/shift
    assert n_params(make_op("nor_conv_1x1", 4, 4, 1)) == 16 + 8
    assert n_params(make_op("skip_connect", 4, 4, 1)) == n_params(make_op("avg_pool_3x3", 4, 4, 1)) == 0
    assert n_params(make_op("skip_connect", 4, 8, 2)) == 2 * 4 * 4 + 16  # FactorizedReduce
    # affine=False (DARTS/GDAS supernet): no BN parameters, conv bias instead (reference: bias=not affine)
    op = make_op("nor_conv_3x3", 4, 4, 1, affine=False, track_running_stats=False)
    assert n_params(op) == 9 * 16 + 4 and op.op[2].running_mean is None
    with pytest.raises(UnknownName, match="sep_conv_3x3"):
        make_op("sep_conv_3x3", 4, 4, 1)
    with pytest.raises(InvalidConfig, match="stride"):
        make_op("nor_conv_3x3", 4, 4, 3)


def test_reduction_block():
    block = ResNetBasicBlock(4, 8, 2)
    assert block(torch.zeros(1, 4, 8, 8)).shape == (1, 8, 4, 4)
    assert n_params(block) == 9 * 4 * 8 + 16 + 9 * 8 * 8 + 16 + 4 * 8
    assert ResNetBasicBlock(4, 4, 1).downsample is None
    assert n_params(ResNetBasicBlock(4, 8, 1).downsample) == 4 * 8 + 16


def _reference_cell_output(cell, x):
    """A cell evaluated the reference way: every edge, `none` as x * 0, all nodes computed."""
    nodes = [x]
    for node, edges in ((1, (0,)), (2, (1, 2)), (3, (3, 4, 5))):
        srcs = (0, 0, 1, 0, 1, 2)
        nodes.append(sum(cell.edges[e](nodes[srcs[e]]) for e in edges))
    return nodes[3]


@pytest.mark.parametrize("arch", [(C3, NONE, NONE, SKIP, C1, NONE), (NONE, NONE, NONE, NONE, NONE, NONE), (NONE, C3, C1, NONE, POOL, NONE),
                                  (C3, C1, POOL, SKIP, C3, C1), (C1, NONE, NONE, NONE, NONE, C3)])  # fmt: skip
def test_skipping_none_edges_changes_nothing(arch):
    net = NB201Network(arch, C=4, N=1).eval()
    cell = net.cells[0]
    x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(cell(x), _reference_cell_output(cell, x), rtol=0, atol=0)


# ---------------------------------------------------------------- forward, init


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28), (1, 8, 8), (3, 16, 16)])
def test_forward_shapes(shape):
    net = NB201Network((C3, SKIP, C1, NONE, POOL, C3), num_classes=7, C=4, N=1, in_channels=shape[0])
    out = net(torch.zeros(3, *shape))
    assert out.shape == (3, 7) and out.dtype == torch.float32
    out.sum().backward()
    assert net.classifier.weight.grad is not None


def test_init_is_seeded_and_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    a = NB201Network((C3, C1, POOL, SKIP, C3, C1), C=4, N=1, init_seed=3)
    b = NB201Network((C3, C1, POOL, SKIP, C3, C1), C=4, N=1, init_seed=3)
    c = NB201Network((C3, C1, POOL, SKIP, C3, C1), C=4, N=1, init_seed=4)
    assert torch.equal(state, torch.get_rng_state())
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["classifier.weight"], sc["classifier.weight"])
    # BN starts at scale 1, shift 0, fresh running statistics; conv weights in +-1/sqrt(fan_in)
    assert torch.equal(sa["stem.1.weight"], torch.ones(4)) and torch.equal(sa["stem.1.running_var"], torch.ones(4))
    assert int(sa["stem.1.num_batches_tracked"]) == 0
    assert sa["stem.0.weight"].abs().max() <= 1 / 27**0.5
    # a generator the caller owns is used as given
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    w1 = NB201Network((C3,) * 6, C=2, N=1, init_seed=g1).classifier.weight
    w2 = NB201Network((C3,) * 6, C=2, N=1, init_seed=g2).classifier.weight
    assert torch.equal(w1, w2)


# ---------------------------------------------------------------- FLOPs


def test_count_flops_by_hand():
    """A tiny network: C=2, N=1, 1 input channel, 8x8 images, 3 classes, arch with one 3x3 and one 1x1."""
    arch = (C3, NONE, C1, SKIP, NONE, POOL)  # node 1 = 3x3(x), node 2 = 1x1(node 1), out = x + pool(node 2)
    net = NB201Network(arch, num_classes=3, C=2, N=1, in_channels=1)
    stem = 9 * 1 * 2 * 64
    cells = (9 * 2 * 2 + 2 * 2) * 64 + (9 * 4 * 4 + 4 * 4) * 16 + (9 * 8 * 8 + 8 * 8) * 4
    red1 = (9 * 2 * 4 + 9 * 4 * 4 + 2 * 4) * 16  # conv_a, conv_b, 1x1 shortcut at 4x4
    red2 = (9 * 4 * 8 + 9 * 8 * 8 + 4 * 8) * 4  # at 2x2
    fc = 8 * 3 + 3
    expected = stem + cells + red1 + red2 + fc
    assert expected == 16_027
    assert count_flops(net, (1, 8, 8)) == count_flops(net, (1, 1, 8, 8)) == expected
    assert nb201_flops(arch, num_classes=3, C=2, N=1, in_channels=1, input_size=8) == expected
    assert net.training  # the training flag is restored
    # Node 2 feeding only a `none` edge is not computed, so its 1x1 conv does not run: the hooks
    # count what runs, the closed form (like the reference, which computes every node) counts it.
    dead = (C3, NONE, C1, SKIP, POOL, NONE)
    net = NB201Network(dead, num_classes=3, C=2, N=1, in_channels=1)
    conv1x1 = 2 * 2 * 64 + 4 * 4 * 16 + 8 * 8 * 4
    assert count_flops(net, (1, 8, 8)) == expected - conv1x1
    assert nb201_flops(dead, num_classes=3, C=2, N=1, in_channels=1, input_size=8) == expected


def test_count_flops_counts_biases_like_the_reference():
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(3 * 16, 5))
    assert count_flops(net, (2, 4, 4)) == (18 * 3 + 3) * 16 + (48 * 5 + 5)


def test_nb201_flops_closed_form_equals_hooks():
    for arch in [(NONE,) * 6, (C3,) * 6, (C1, C3, SKIP, POOL, NONE, C1)]:
        net = NB201Network(arch)
        assert count_flops(net, (3, 32, 32)) == nb201_flops(arch)
    # Min/max of the `flop` field (millions) of the official NAS-Bench-201 v1_1 files per dataset,
    # as printed by public scripts that read them (e.g. HPOBench-based bounds scripts, EvoXBench's
    # c10mop ideal/nadir points): cifar10-valid 7.78305/220.11969, cifar100 7.78890/220.12554,
    # ImageNet16-120 1.95340/55.03756.
    for classes, size, low, high in [(10, 32, 7.78305, 220.11969), (100, 32, 7.78890, 220.12554),
                                     (120, 16, 1.95340, 55.03756)]:  # fmt: skip
        assert nb201_flops((NONE,) * 6, num_classes=classes, input_size=size) / 1e6 == pytest.approx(low, abs=5e-6)
        assert nb201_flops((C3,) * 6, num_classes=classes, input_size=size) / 1e6 == pytest.approx(high, abs=5e-6)
    net = NB201Network((C1,) * 6, num_classes=120, C=4, N=2)
    assert count_flops(net, (3, 16, 16)) == nb201_flops((C1,) * 6, num_classes=120, C=4, N=2, input_size=16)


def test_count_flops_rejects_bad_shapes():
    with pytest.raises(InvalidConfig, match="input_shape"):
        count_flops(torch.nn.Linear(2, 2), (4, 3, 8, 8))


# ---------------------------------------------------------------- NB101

INCEPTION = (
    [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
     [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"],
)  # fmt: skip
FIRST_RECORD = (
    [[0, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0],
     [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"],
)  # fmt: skip


def test_nb101_official_parameter_counts():
    """Official `trainable_parameters`: the first record of nasbench_only108.tfrecord (8,555,530,
    as printed by nasbench's get_metrics_from_hash and quoted in public code using it) and the
    Inception-like cell of the google-research/nasbench README (2,694,282, the README's query
    output as reproduced e.g. in gary9987/tensorflow-get-started gcn/NAS_BENCH_101.md)."""
    assert nb101_param_count(*FIRST_RECORD) == 8_555_530
    assert nb101_param_count(*INCEPTION) == 2_694_282
    assert n_params(NB101Network(*FIRST_RECORD)) == 8_555_530


def _random_nb101_cells(n, seed=0):
    """Random valid NB101 cells (7 vertices, at most 9 edges), from a seeded generator."""
    rng = np.random.default_rng(seed)
    inner = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]
    cells = []
    while len(cells) < n:
        m = np.triu(rng.integers(0, 2, size=(7, 7)), 1)
        if m.sum() > 9:
            continue
        ops = ["input", *(inner[i] for i in rng.integers(0, 3, size=5)), "output"]
        try:
            nb101_prune(m, ops)
        except InvalidArchitecture:
            continue
        cells.append((m, ops))
    return cells


def _nasbench_pytorch_count(nbp, matrix, ops, **kw) -> int:
    """nasbench_pytorch's parameter count without its 1-element `Placeholder.a` parameters
    (registered for every unused slot of a cell; the TF model has no such variables)."""
    net = nbp.Network((np.array(matrix), list(ops)), **kw)
    placeholders = sum(p.numel() for name, p in net.named_parameters() if name.endswith(".a"))
    assert placeholders > 0  # if a later version drops them, this helper should too
    return n_params(net) - placeholders


def test_nb101_counts_equal_nasbench_pytorch():
    nbp = pytest.importorskip("nasbench_pytorch.model")
    cells = _random_nb101_cells(10)
    for matrix, ops in cells:
        ours = NB101Network(matrix, ops, stem_channels=16)
        assert n_params(ours) == nb101_param_count(matrix, ops, stem_channels=16)
        assert n_params(ours) == _nasbench_pytorch_count(nbp, matrix, ops, stem_out_channels=16), (matrix, ops)
    for matrix, ops in [FIRST_RECORD, INCEPTION]:  # the paper's 128 stem channels (our torch count: official test)
        assert nb101_param_count(matrix, ops) == _nasbench_pytorch_count(nbp, matrix, ops)


def _copy_from_nasbench_pytorch(ours, theirs):
    """Copy nasbench_pytorch's weights into our network, module by module."""

    def conv_bn(dst, src):  # our ConvBNReLU <- their nn.Sequential(conv, bn, relu)
        dst.load_state_dict(src.state_dict())

    conv_bn(ours.layers[0], theirs.layers[0].conv_bn_relu)
    for mine, cell in zip(ours.layers[1:], theirs.layers[1:]):
        if isinstance(mine, torch.nn.MaxPool2d):
            continue
        for key, proj in mine.proj.items():
            conv_bn(proj, cell.input_op[int(key)].conv_bn_relu)
        for key, op in mine.vertex.items():
            if len(op.state_dict()):
                inner = cell.vertex_op[int(key)]
                conv_bn(op, (inner.conv3x3 if hasattr(inner, "conv3x3") else inner.conv1x1).conv_bn_relu)
    ours.classifier.load_state_dict(theirs.classifier.state_dict())


def test_nb101_forward_equals_nasbench_pytorch():
    """Same weights, same outputs: the graph wiring (projections, truncation, concatenation) matches."""
    nbp = pytest.importorskip("nasbench_pytorch.model")
    gen = torch.Generator().manual_seed(0)
    for matrix, ops in [FIRST_RECORD, INCEPTION, *_random_nb101_cells(4, seed=1)]:
        theirs = nbp.Network((np.array(matrix), list(ops)), stem_out_channels=16).eval()
        ours = NB101Network(matrix, ops, stem_channels=16).eval()
        _copy_from_nasbench_pytorch(ours, theirs)
        x = torch.randn(2, 3, 32, 32, generator=gen)
        with torch.no_grad():
            torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-6)


@pytest.mark.data
def test_nb101_counts_equal_naslib_params(shared_data):
    """NASLib's 500 NB101 cells carry `params` (millions) of the 128-channel network; keys are
    the flattened 7x7 matrix then op indices in NASLib's order (conversions.all_ops)."""
    data = json.loads((shared_data / "nb101" / "naslib_zc_nasbench101_500.json").read_text())["nasbench101"]["cifar10"]
    names = ["input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu"]
    assert len(data) == 500
    for key, row in data.items():
        code = [int(v) for v in key.strip("()").split(",")]
        matrix, ops = np.array(code[:49]).reshape(7, 7), [names[i] for i in code[49:]]
        assert nb101_param_count(matrix, ops) == round(row["params"] * 1e6), key


def test_nb101_forward_and_pruning():
    matrix, ops = FIRST_RECORD
    net = NB101Network(matrix, ops, stem_channels=8, num_classes=5)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 5)
    fm = NB101Network(matrix, ops, stem_channels=8, in_channels=1)
    assert fm(torch.zeros(2, 1, 28, 28)).shape == (2, 10)  # 28 -> 14 -> 7 (TF 'same' pooling)
    # a vertex off every input -> output path is pruned away (vertex 2 feeds nothing)
    dangling = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
    ops4 = ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "output"]
    assert nb101_prune(dangling, ops4) == ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    assert nb101_param_count(dangling, ops4) == nb101_param_count(*nb101_prune(dangling, ops4))
    # input straight to output: a projection only
    net = NB101Network([[0, 1], [0, 0]], ["input", "output"], stem_channels=4, num_stacks=1, modules_per_stack=1)
    assert net(torch.zeros(1, 3, 8, 8)).shape == (1, 10)
    state = torch.get_rng_state()
    a, b = (NB101Network(matrix, ops, stem_channels=8, init_seed=1) for _ in range(2))
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_nb101_pruning_equals_the_official_rules():
    """The torch layer prunes cells itself (it imports no benchmark); it must agree with the
    NB101 space's implementation of ModelSpec._prune on valid and invalid random cells."""
    from benchlab.benchmarks.nb101 import prune

    rng = np.random.default_rng(3)
    inner = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]
    disconnected = 0
    for _ in range(2000):
        n = int(rng.integers(2, 8))
        m = np.triu(rng.integers(0, 2, size=(n, n)), 1)
        ops = ["input", *(inner[i] for i in rng.integers(0, 3, size=n - 2)), "output"]
        theirs = prune(m, ops)
        if theirs is None:
            disconnected += 1
            with pytest.raises(InvalidArchitecture, match="not connected"):
                nb101_prune(m, ops)
        else:
            assert nb101_prune(m, ops) == (theirs[0].tolist(), list(theirs[1]))
    assert 100 < disconnected < 1900  # both kinds were exercised


@pytest.mark.parametrize(
    "matrix, ops, match",
    [
        ([[0, 1], [0, 0]], ["input", "conv3x3-bn-relu"], "start with 'input' and end with 'output'"),
        ([[0, 0, 1], [0, 0, 0], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown NB101 op"),
        ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "maxpool3x3", "output"], "not connected"),
        ([[0, 1], [1, 0]], ["input", "output"], "upper triangular"),
        ([[0, 1, 1]], ["input", "output"], "square"),
    ],
)
def test_nb101_bad_cells(matrix, ops, match):
    with pytest.raises(InvalidArchitecture, match=match):
        nb101_prune(matrix, ops)


def test_nn_exports_what_it_says():
    import benchlab.nn

    assert [n for n in benchlab.nn.__all__ if not hasattr(benchlab.nn, n)] == []
