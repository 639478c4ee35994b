"""Public sources of the NATS-Bench size-space table.

The three CSV files are byte-identical to their originals in vilhess/MONET (no
conversion): ``--download`` fetches them from the pinned commit and checks the sha256.
See :class:`benchlab.ext.Source` for the meaning of each field.
"""

from __future__ import annotations

from benchlab.ext import Source

__all__ = ["SOURCES"]

_MONET = ("vilhess/MONET", "fc27444dd8311882e4ad0f9c1159622445a413ef")

SOURCES = {
    s.key: s
    for s in (
        Source("cifar10", "nats-sss/nats_sss_cifar10.csv", *_MONET, "benchmark_scores/Cifar10-NATS.csv",
               "96983219294bc264d01df9534deba04e99a0acddc337e4651c72cee6799322db", "no license file"),
        Source("cifar100", "nats-sss/nats_sss_cifar100.csv", *_MONET, "benchmark_scores/Cifar100-NATS.csv",
               "ca6f73356f2deabf9ab919e320a63e4ffa2c91a110e08abf9bf49062fe6de806", "no license file"),
        Source("ImageNet16-120", "nats-sss/nats_sss_ImageNet16-120.csv", *_MONET, "benchmark_scores/ImageNet-NATS.csv",
               "8a0cfdfa164ba6718789c9dc900a6aefa7965282586aff8a7de9768e5ff2af64", "no license file"),
    )
}  # fmt: skip
