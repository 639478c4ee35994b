"""Parameter count of the NAS-Bench-101 network of a cell, in closed form (no torch).

One implementation serves the tables and the live network: :func:`benchlab.nn.nb101_param_count`
(torch-free; tests compare it with the torch ``NB101Network`` and with the official
``trainable_parameters``). The network is that of Ying et al. (ICML 2019), as the official
model builder writes it (google-research/nasbench ``nasbench/lib/model_builder.py``).
"""

from __future__ import annotations

from benchlab.nn import nb101_param_count, nb101_vertex_channels

__all__ = ["param_count", "vertex_channels"]


def vertex_channels(c_in: int, c_out: int, matrix) -> list[int]:
    """Channels of every vertex of a pruned cell (official ``compute_vertex_channels``)."""
    return nb101_vertex_channels(c_in, c_out, matrix)


def param_count(matrix, ops, num_classes: int = 10, stem_channels: int = 128, num_stacks: int = 3,
                modules_per_stack: int = 3) -> int:  # fmt: skip
    """Trainable parameters of the NB101 network of the cell ``(matrix, ops)`` (pruned first).

    ``ops`` are names (``"input"``, ..., ``"output"``). E.g. 8,555,530 for the cell
    ``00005c142e6f48ac74fdcf73e3439874``; 882,570 for the input -> output cell.
    """
    return nb101_param_count(matrix, ops, num_classes=num_classes, stem_channels=stem_channels,
                             num_stacks=num_stacks, modules_per_stack=modules_per_stack)  # fmt: skip
