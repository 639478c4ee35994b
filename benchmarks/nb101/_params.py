"""Parameter count of the NAS-Bench-101 network of a cell, in closed form (no torch).

The network of Ying et al. (ICML 2019), as the official model builder writes it
(google-research/nasbench ``nasbench/lib/model_builder.py``): a 3x3 conv-BN-ReLU stem with
128 channels; 3 stacks of 3 cells, channels doubled (and a 2x2 max-pool) before stacks 2
and 3; global average pooling and a dense layer to 10 classes. Inside a cell, the output
channels are split among the vertices that feed the output (``compute_vertex_channels``),
every vertex fed by the input gets a 1x1 conv-BN-ReLU projection, ``conv3x3``/``conv1x1``
vertices a conv-BN-ReLU, max-pool vertices nothing, and an input -> output edge a 1x1
projection to the output channels. Convolutions have no bias; BatchNorm has a scale and a
shift; the dense layer has a bias. The count is the dataset's ``trainable_parameters``.
"""

from __future__ import annotations

__all__ = ["param_count", "vertex_channels"]

_CONV = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}


def vertex_channels(c_in: int, c_out: int, matrix) -> list[int]:
    """Channels of every vertex of a pruned cell (official ``compute_vertex_channels``)."""
    m = [[int(v) for v in row] for row in matrix]
    n = len(m)
    ch = [0] * n
    ch[0], ch[-1] = c_in, c_out
    if n == 2:
        return ch
    feeders = [v for v in range(1, n - 1) if m[v][n - 1]]
    base, extra = divmod(c_out, len(feeders))
    for rank, v in enumerate(feeders):
        ch[v] = base + (1 if rank < extra else 0)
    for v in range(n - 3, 0, -1):
        if not m[v][n - 1]:
            ch[v] = max([ch[v]] + [ch[d] for d in range(v + 1, n - 1) if m[v][d]])
    return ch


def _conv_bn(c_in: int, c_out: int, k: int) -> int:
    return k * k * c_in * c_out + 2 * c_out


def param_count(matrix, ops, num_classes: int = 10, stem_channels: int = 128, num_stacks: int = 3,
                modules_per_stack: int = 3) -> int:  # fmt: skip
    """Trainable parameters of the NB101 network of the **pruned** cell ``(matrix, ops)``.

    ``ops`` are names (``"input"``, ..., ``"output"``). E.g. 8,555,530 for the cell
    ``00005c142e6f48ac74fdcf73e3439874``; 227,274 for the input -> output cell.
    """
    m = [[int(v) for v in row] for row in matrix]
    n = len(m)

    def cell(c_in: int, c_out: int) -> int:
        ch = vertex_channels(c_in, c_out, m)
        total = 0
        for v in range(1, n - 1):
            if m[0][v]:
                total += _conv_bn(c_in, ch[v], 1)
            k = _CONV.get(ops[v])
            if k:
                total += _conv_bn(ch[v], ch[v], k)
        if m[0][n - 1]:
            total += _conv_bn(c_in, c_out, 1)
        return total

    total = _conv_bn(3, stem_channels, 3)
    c_prev = c = stem_channels
    for stack in range(num_stacks):
        if stack:
            c *= 2
        for _ in range(modules_per_stack):
            total += cell(c_prev, c)
            c_prev = c
    return total + c * num_classes + num_classes
