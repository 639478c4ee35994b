"""Public sources of the NAS-Bench-Macro and Channel-Bench-Macro tables.

The JSON files are byte-identical to their originals (no conversion): ``--download``
fetches them from the pinned commits and checks the sha256. See
:class:`benchlab.ext.Source` for the meaning of each field.
"""

from __future__ import annotations

from benchlab.ext import Source

__all__ = ["MACRO_SOURCES", "CHANNEL_SOURCES"]

MACRO_SOURCES = {
    s.key: s
    for s in (
        Source("nas-bench-macro", "macro/nas-bench-macro_cifar10.json", "xiusu/NAS-Bench-Macro",
               "61a2bfc2ca0dce04d0997e6cf498047c27d6acf2", "data/nas-bench-macro_cifar10.json",
               "686dee8363cc21cca8c1f321ad5749454f2d9b9ca5972682e137e539bc522297", "Apache-2.0"),
    )
}  # fmt: skip

CHANNEL_SOURCES = {
    s.key: s
    for s in (
        Source("mobilenet", "macro/channel-bench-macro_mobilenet.json", "xiusu/Channel-Bench-Macro",
               "4ff596e814cc88cc9add77ff83fc1a2f05ee1fef", "Results_MobileNet.json",
               "f640474d8ff3ff2231d0c45986bb0f10af291545316342fb009952e7641908e0", "no license file"),
        Source("resnet", "macro/channel-bench-macro_resnet.json", "xiusu/Channel-Bench-Macro",
               "4ff596e814cc88cc9add77ff83fc1a2f05ee1fef", "Results_ResNet.json",
               "bf13bcaea3f2076f2c1bfbf5c2fee044aafe0385fae6a0d64c433b1d7f5a7520", "no license file"),
    )
}  # fmt: skip
