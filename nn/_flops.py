"""Costs of the live networks: closed-form parameter and FLOP counts, and a FLOP counter.

Everything here except :func:`count_flops` is pure Python (no torch), so tables, search
strategies and cost models can use it without the ``train`` extra. Cells come in neutral
forms, never as a search space's own objects (a caller converts its architectures):

- :func:`nb201_arch` reads an NB201 cell given as 6 op names or 6 op ids, one per edge.
- :func:`nb201_param_count` / :func:`nb201_flops`: closed forms for
  :class:`~benchlab.nn.NB201Network`, equal to what torch counts on the built model.
- :func:`nb101_prune`, :func:`nb101_vertex_channels`, :func:`nb101_param_count`: the
  NAS-Bench-101 cell arithmetic of :class:`~benchlab.nn.NB101Network` on an adjacency
  matrix and one op name per vertex.
- :func:`count_flops`: forward hooks on a real model (imports torch when called).

FLOPs convention (that of NAS-Bench-201's ``get_model_infos`` in the authors' ``xautodl``
package, whose ``flops`` column is this number / 1e6): per image, the multiply-accumulates
of every ``Conv2d`` (``k_h * k_w * C_in / groups * C_out * H_out * W_out``) and ``Linear``
(``in * out``), plus one addition per output element for a layer with a bias. BatchNorm,
ReLU, pooling, element-wise sums and concatenations are NOT counted (the reference hooks
pooling layers but leaves them out of its sum). One multiply-accumulate counts as one FLOP.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from benchlab import InvalidArchitecture, InvalidConfig

__all__ = [
    "NB101_OPS",
    "NB201_EDGES",
    "NB201_OPS",
    "count_flops",
    "nb101_param_count",
    "nb101_prune",
    "nb101_vertex_channels",
    "nb201_arch",
    "nb201_edge_options",
    "nb201_flops",
    "nb201_param_count",
]

#: The NB201 operations, in the order of their ids (the official order: none=0 ... avg_pool_3x3=4).
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: The NB201 cell's edges, in the order of an architecture's entries (the official string's order).
NB201_EDGES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")
_NB201_INDEX = {op: i for i, op in enumerate(NB201_OPS)}
_NB201_FIX = (
    "give 6 op names (or op ids 0..4) of " + ", ".join(NB201_OPS) + " in edge order "
    "(1<-0),(2<-0),(2<-1),(3<-0),(3<-1),(3<-2); convert an official string with the space's from_str first"
)

# NB101 op labels as in the official nasbench ModelSpec.
NB101_OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")


# ----------------------------------------------------------------------------- NB201


def nb201_arch(arch) -> tuple:
    """The 6-tuple of op ids of an NB201 cell given as 6 op names or 6 op ids, one per edge.

    Edges in :data:`NB201_EDGES` order, op ids in :data:`NB201_OPS` order (the order of
    ``benchlab.benchmarks.nb201``'s space, whose architectures are therefore accepted as
    they are). A string (e.g. the official ``|op~0|+...`` form) is refused: parse it with
    the search space first. Raises :class:`~benchlab.InvalidArchitecture`.
    """
    if isinstance(arch, (str, bytes)):
        raise InvalidArchitecture(f"{arch!r} is not an NB201 cell here; {_NB201_FIX}")
    try:
        items = tuple(arch)
    except TypeError:
        raise InvalidArchitecture(f"{arch!r} is not an NB201 cell; {_NB201_FIX}") from None
    if len(items) != 6:
        raise InvalidArchitecture(f"{arch!r} is not an NB201 cell (it has {len(items)} entries, not 6); {_NB201_FIX}")
    ops = []
    for item in items:
        if isinstance(item, str):
            op = _NB201_INDEX.get(item)
            if op is None:
                raise InvalidArchitecture(f"{arch!r} has an unknown op {item!r}; {_NB201_FIX}")
        else:
            if isinstance(item, bool):
                raise InvalidArchitecture(f"{arch!r} is not an NB201 cell; {_NB201_FIX}")
            try:
                op = operator.index(item)  # ints and numpy ints; not floats
            except TypeError:
                raise InvalidArchitecture(f"{arch!r} is not an NB201 cell; {_NB201_FIX}") from None
            if not 0 <= op < 5:
                raise InvalidArchitecture(f"{arch!r} has an op id outside 0..4; {_NB201_FIX}")
        ops.append(op)
    return tuple(ops)


def nb201_edge_options(space, who: str = "this strategy") -> list[tuple[str, ...]]:
    """The options of each decision of ``space`` when it is an NB201 cell space, else an error.

    An NB201 cell space has 6 decisions (the edges, in :data:`NB201_EDGES` order), each
    offering exactly the operations of :data:`NB201_OPS`, in any order (read through the
    public ``space.choices()``). A strategy that builds NB201 networks maps its
    architectures to op names with it: ``[opts[v] for opts, v in zip(options, arch)]``.
    Raises :class:`~benchlab.InvalidConfig` naming ``who`` for another space.
    """
    try:
        choices = space.choices()
    except (AttributeError, NotImplementedError, TypeError):  # not a categorical space
        choices = None
    if not choices or len(choices) != 6 or any(sorted(map(str, opts)) != sorted(NB201_OPS) for _, opts in choices):
        raise InvalidConfig(
            f"{who}: searches the NAS-Bench-201 cell (6 edges x {', '.join(NB201_OPS)}); space "
            f"{getattr(space, 'name', space)!r} is not it; run it on --benchmark nb201"
        )
    return [tuple(map(str, opts)) for _, opts in choices]


def _check_positive(**values) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidConfig(f"{name} must be a positive integer, got {value!r}")


def nb201_param_count(arch, num_classes: int = 10, C: int = 16, N: int = 5, in_channels: int = 3) -> int:
    """Number of parameters of ``NB201Network(arch, num_classes, C, N, in_channels)``, in closed form.

    Equals ``sum(p.numel() for p in NB201Network(...).parameters())`` (tested on every cell).
    Defaults are the benchmark's (NB201 paper, section 2.1: C=16, N=5; 10 classes for
    CIFAR-10), where it gives the ``params`` of the benchmark: 73,306 for a cell without
    convolutions, 1,531,546 for six 3x3 convolutions. Only ``nor_conv_1x1`` and
    ``nor_conv_3x3`` edges carry parameters (weights + BatchNorm scale and shift).
    """
    ops = nb201_arch(arch)
    _check_positive(num_classes=num_classes, C=C, N=N, in_channels=in_channels)
    n1, n3 = ops.count(2), ops.count(3)
    total = 9 * in_channels * C + 2 * C  # stem conv 3x3 (no bias) + BN
    for c in (C, 2 * C, 4 * C):  # N cells per stage
        total += N * (n1 * (c * c + 2 * c) + n3 * (9 * c * c + 2 * c))
    for c in (C, 2 * C):  # residual reduction blocks c -> 2c
        total += 9 * c * 2 * c + 2 * 2 * c  # conv_a + BN
        total += 9 * 2 * c * 2 * c + 2 * 2 * c  # conv_b + BN
        total += c * 2 * c  # 1x1 shortcut conv, no bias, no BN
    total += 2 * 4 * C  # last BN
    total += 4 * C * num_classes + num_classes  # classifier
    return total


def _hw(input_size) -> tuple[int, int]:
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        h = w = input_size
    else:
        try:
            h, w = (int(v) for v in input_size)
        except (TypeError, ValueError):
            raise InvalidConfig(f"input_size must be an int or (height, width), got {input_size!r}") from None
    if h < 4 or w < 4 or h % 4 or w % 4:
        raise InvalidConfig(
            f"NB201 networks halve the image twice: height and width must be multiples of 4, got {h}x{w}; "
            "pad or resize the images (CIFAR 32, ImageNet16 16, Fashion-MNIST 28 and digits 8 work)"
        )
    return h, w


def nb201_flops(arch, num_classes: int = 10, C: int = 16, N: int = 5, in_channels: int = 3,
                input_size=32) -> int:  # fmt: skip
    """FLOPs per image of ``NB201Network(...)`` on ``input_size`` images, in closed form.

    The convention of :func:`count_flops` and of the NB201 benchmark's ``flops`` (reported
    there in millions: divide by 1e6; equal to its minimum 7.78305 and maximum 220.11969 on
    CIFAR-10). Like the reference network, it counts every convolution of the cell, even
    one on a node whose output feeds only ``none`` edges; :class:`NB201Network` skips such a
    node, so :func:`count_flops` on it is lower for those cells and equal otherwise.
    ``input_size`` is an int or (height, width), multiples of 4.
    """
    ops = nb201_arch(arch)
    _check_positive(num_classes=num_classes, C=C, N=N, in_channels=in_channels)
    h, w = _hw(input_size)
    n1, n3 = ops.count(2), ops.count(3)
    pixels = h * w
    total = 9 * in_channels * C * pixels
    for stage, c in enumerate((C, 2 * C, 4 * C)):
        p = pixels // 4**stage
        total += N * (n1 * c * c + n3 * 9 * c * c) * p
    for stage, c in enumerate((C, 2 * C)):
        p = pixels // 4 ** (stage + 1)
        total += (9 * c * 2 * c + 9 * 2 * c * 2 * c + c * 2 * c) * p
    total += 4 * C * num_classes + num_classes
    return total


# ----------------------------------------------------------------------------- NB101


def _as_matrix(matrix) -> list[list[int]]:
    """``matrix`` as a square list of 0/1 int rows."""
    try:
        rows = [list(r) for r in (matrix.tolist() if hasattr(matrix, "tolist") else matrix)]
    except TypeError:
        raise InvalidArchitecture(f"NB101 matrix must be a square 0/1 array, got {matrix!r}") from None
    n = len(rows)
    if n < 1 or any(len(r) != n for r in rows):
        raise InvalidArchitecture(
            f"NB101 matrix must be square, got {n} rows of lengths {sorted({len(r) for r in rows})}; "
            "pass an n x n upper-triangular 0/1 array"
        )
    if any(isinstance(v, bool) or v not in (0, 1) for r in rows for v in r):
        raise InvalidArchitecture("NB101 matrix entries must be 0 or 1; found other values")
    return [[int(v) for v in r] for r in rows]


def nb101_prune(matrix, ops: Sequence[str]) -> tuple[list[list[int]], list[str]]:
    """Validate an NB101 cell and drop the vertices not on an input -> output path.

    The cell is an adjacency matrix (edge ``i -> j`` when ``matrix[i][j] == 1``) and one op
    name per vertex, the form of the official ``nasbench`` ``ModelSpec`` (Ying et al., ICML
    2019): a square, strictly upper-triangular 0/1 matrix; ``ops[0] == "input"``,
    ``ops[-1] == "output"``, interior ops in :data:`NB101_OPS`. A vertex that the input does
    not reach, or that does not reach the output, is removed with its edges (the network
    would never compute it; ``ModelSpec`` prunes the same way). Raises
    :class:`~benchlab.InvalidArchitecture` for a malformed cell or when the output is not
    connected to the input. Returns ``(matrix, ops)`` as lists. (The NB101 space's limits of
    7 vertices and 9 edges are the space's business: any such DAG builds.)
    """
    rows = _as_matrix(matrix)
    if isinstance(ops, str) or not isinstance(ops, Sequence):
        raise InvalidArchitecture(f"NB101 ops must be a list of op names, got {ops!r}")
    ops = list(ops)
    if ops and (ops[0] != "input" or ops[-1] != "output"):
        raise InvalidArchitecture(f"NB101 ops must start with 'input' and end with 'output', got {ops!r}")
    bad = [o for o in ops[1:-1] if o not in NB101_OPS]
    if bad:
        raise InvalidArchitecture(f"unknown NB101 op(s) {bad!r}; interior ops are {', '.join(NB101_OPS)}")
    n = len(rows)
    if len(ops) != n:
        raise InvalidArchitecture(f"NB101 cell has {len(ops)} ops for a {n}x{n} matrix; give one op per vertex")
    for i, r in enumerate(rows):
        if any(r[: i + 1]):
            raise InvalidArchitecture(
                "NB101 matrix must be strictly upper triangular (edges i -> j with i < j, vertices in "
                f"topological order); row {i} has an entry on or below the diagonal"
            )
    succ = [[v for v in range(u + 1, n) if rows[u][v]] for u in range(n)]
    reached = [u == 0 for u in range(n)]
    for u in range(n):  # topological order: u's reachability from the input is final here
        if reached[u]:
            for v in succ[u]:
                reached[v] = True
    reaches = [u == n - 1 for u in range(n)]
    for u in range(n - 1, -1, -1):
        if any(reaches[v] for v in succ[u]):
            reaches[u] = True
    keep = [v for v in range(n) if reached[v] and reaches[v]]
    if n < 2 or len(keep) < 2:
        raise InvalidArchitecture("NB101 cell: the output is not connected to the input; add an input -> output path")
    return [[rows[u][v] for v in keep] for u in keep], [ops[v] for v in keep]


def nb101_vertex_channels(in_channels: int, out_channels: int, matrix) -> list[int]:
    """Channels of every vertex of a pruned NB101 cell (official ``compute_vertex_channels``).

    The output channels are split as evenly as possible among the vertices feeding the
    output (the first ``out % k`` of them, in vertex order, get one extra); every other
    interior vertex takes the maximum channel count of the interior vertices it feeds.
    """
    m = _as_matrix(matrix)
    v = len(m)
    channels = [0] * v
    channels[0], channels[-1] = in_channels, out_channels
    if v == 2:
        return channels
    feeders = [t for t in range(1, v - 1) if m[t][v - 1]]
    base, extra = divmod(out_channels, len(feeders))
    for rank, t in enumerate(feeders):
        channels[t] = base + (1 if rank < extra else 0)
    for t in range(v - 3, 0, -1):
        if not m[t][v - 1]:
            channels[t] = max(channels[d] for d in range(t + 1, v - 1) if m[t][d])
    if min(channels[1:-1]) < 1:
        raise InvalidConfig(
            f"{out_channels} output channels cannot be split among {len(feeders)} vertices feeding the output; "
            "use more stem channels"
        )
    return channels


def nb101_param_count(matrix, ops: Sequence[str], num_classes: int = 10, stem_channels: int = 128,
                      num_stacks: int = 3, modules_per_stack: int = 3, in_channels: int = 3) -> int:  # fmt: skip
    """Number of parameters of ``NB101Network(matrix, ops, ...)`` in closed form.

    The count the official TensorFlow model reports as ``trainable_parameters`` (conv
    weights without bias, BatchNorm scale and shift, dense weights and bias), e.g. 8,555,530
    for the first cell of ``nasbench_only108.tfrecord``. The cell is pruned first.
    """
    m, ops = nb101_prune(matrix, ops)
    _check_positive(num_classes=num_classes, stem_channels=stem_channels, num_stacks=num_stacks,
                    modules_per_stack=modules_per_stack, in_channels=in_channels)  # fmt: skip
    v = len(m)

    def conv_bn(c_in, c_out, k):
        return k * k * c_in * c_out + 2 * c_out

    def module(c_in, c_out):
        ch = nb101_vertex_channels(c_in, c_out, m)
        total = 0
        for t in range(1, v - 1):
            if m[0][t]:
                total += conv_bn(c_in, ch[t], 1)  # projection of the input
            if ops[t] == "conv3x3-bn-relu":
                total += conv_bn(ch[t], ch[t], 3)
            elif ops[t] == "conv1x1-bn-relu":
                total += conv_bn(ch[t], ch[t], 1)
        if m[0][v - 1]:
            total += conv_bn(c_in, c_out, 1)
        return total

    total = conv_bn(in_channels, stem_channels, 3)
    c_prev = c = stem_channels
    for stack in range(num_stacks):
        if stack > 0:
            c *= 2
        for _ in range(modules_per_stack):
            total += module(c_prev, c)
            c_prev = c
    return total + c * num_classes + num_classes


# ----------------------------------------------------------------------------- hooks


def count_flops(model, input_shape) -> int:
    """FLOPs per image of ``model`` on inputs of ``input_shape`` = (C, H, W) or (1, C, H, W).

    Runs one forward pass of zeros (batch 1, the model's device and dtype, eval mode, no
    grad; the training flag is restored) with forward hooks on every ``Conv2d`` and
    ``Linear``. Convention in the module docstring: conv/linear multiply-accumulates plus
    bias additions; BatchNorm, activations and pooling not counted — the NB201 benchmark's
    ``flops`` times 1e6. Needs torch.
    """
    import torch
    from torch import nn

    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or shape[0] != 1:
        raise InvalidConfig(f"input_shape must be (C, H, W) or (1, C, H, W), got {tuple(input_shape)!r}")
    counts: list[int] = []

    def conv_hook(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        per_pixel = k * module.in_channels // module.groups * module.out_channels
        pixels = output.shape[2] * output.shape[3]
        counts.append(per_pixel * pixels + (module.out_channels * pixels if module.bias is not None else 0))

    def linear_hook(module, inputs, output):
        rows = output.numel() // output.shape[-1]
        counts.append(
            rows * (module.in_features * module.out_features + (module.out_features if module.bias is not None else 0))
        )

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                model(torch.zeros(shape, device=device, dtype=dtype))
        finally:
            model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return int(sum(counts))
