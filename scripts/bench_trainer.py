"""Training throughput: benchlab's live loop vs nasbench-pytorch's ``trainer.train``.

Same NB101 cell, same batch size, same device, one process. Three measurements, in
images per second of training (augmentation + forward + backward + update):

* ``baseline``: ``nasbench_pytorch.trainer.train`` on ``nasbench_pytorch.model.Network``,
  fed by a ``torch.utils.data.DataLoader`` whose dataset crops and flips each image on the
  CPU (what torchvision's ``RandomCrop(pad) + RandomHorizontalFlip + ToTensor + Normalize``
  do; torchvision itself is not needed), ``--workers`` loader processes, its default
  RMSprop optimizer and gradient clipping at 5;
* ``ours/their-net``: benchlab's loop (``benchlab.nn.images_per_second``) on the same
  ``nasbench_pytorch`` network, isolating the loop;
* ``ours/our-net``: benchlab's loop on ``benchlab.nn.NB101Network``.

benchlab's loop runs with the NB101 recipe (RMSprop) and ``grad_clip=5`` for the same
work per step, ``deterministic=False`` (cuDNN autotuning on CUDA), bf16 autocast and
channels_last on CUDA (``amp``/``channels_last`` "auto"), ``--compile`` optional.

Usage (prints figures; asserts nothing)::

    python scripts/bench_trainer.py                       # CPU: tiny stem, a few batches
    python scripts/bench_trainer.py --device cuda --stem 128 --steps 50 --workers 4

``--data`` is a benchlab dataset (default ``fashion-mnist``: Debian's
``dataset-fashion-mnist`` files; carry them to a GPU machine with
``BENCHLAB_DATASETS=DIR``, DIR/fashion-mnist/*.gz).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time

import numpy as np

#: The Inception-like cell of the NAS-Bench-101 README (google-research/nasbench).
CELL_MATRIX = [
    [0, 1, 1, 1, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
]
CELL_OPS = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"]


def _baseline_dataset(data, n: int, pad: int, flip: bool, seed: int):
    """A map-style dataset of ``n`` images (cycling through the training split when it is
    smaller) doing per-image CPU augmentation, as a torchvision pipeline does."""
    import torch

    class Augmented(torch.utils.data.Dataset):
        def __init__(self) -> None:
            self.x = data.x_train
            self.y = data.y_train
            self.n = n
            self.mean = np.asarray(data.mean, dtype=np.float32).reshape(-1, 1, 1)
            self.std = np.asarray(data.std, dtype=np.float32).reshape(-1, 1, 1)
            self.rng = np.random.default_rng(seed)

        def __len__(self) -> int:
            return self.n

        def __getitem__(self, i):
            i = i % len(self.x)
            img = self.x[i]
            _, h, w = img.shape
            padded = np.pad(img, ((0, 0), (pad, pad), (pad, pad)))
            oy, ox = self.rng.integers(0, 2 * pad + 1, size=2)
            img = padded[:, oy : oy + h, ox : ox + w]
            if flip and self.rng.random() < 0.5:
                img = img[:, :, ::-1]
            x = (img.astype(np.float32) / 255.0 - self.mean) / self.std
            return torch.from_numpy(np.ascontiguousarray(x)), int(self.y[i])

    return Augmented()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="fashion-mnist", help="benchlab dataset name (default fashion-mnist)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, auto (default cpu)")
    ap.add_argument("--batch-size", type=int, default=256, help="batch size of both loops (default 256, NB101's)")
    ap.add_argument("--steps", type=int, default=5, help="timed batches (default 5)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed batches first (default 2)")
    ap.add_argument("--stem", type=int, default=16, help="stem channels (NB101: 128; default 16 for a CPU)")
    ap.add_argument("--stacks", type=int, default=3, help="stacks (default 3, NB101's)")
    ap.add_argument("--modules", type=int, default=3, help="modules per stack (default 3, NB101's)")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes of the baseline (default 0)")
    ap.add_argument("--compile", action="store_true", help="torch.compile benchlab's model")
    ap.add_argument("--repeats", type=int, default=1, help="repeat each measurement, report the best (default 1)")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    args = ap.parse_args()

    import torch
    from nasbench_pytorch import trainer as nb_trainer
    from nasbench_pytorch.model import Network as NBNetwork

    from benchlab.nn import (
        NB101_RECIPE,
        NB101Network,
        images_per_second,
        load_dataset,
        resolve_device,
    )

    device = resolve_device(args.device)
    data = load_dataset(args.data)
    bs = args.batch_size
    config = NB101_RECIPE.replace(
        batch_size=bs, device=device, grad_clip=5.0, deterministic=False, compile=args.compile
    )
    pad = max(1, min(data.image_shape[1:]) // 8)
    flip = data.name != "digits"
    kw = {"num_labels": data.num_classes, "in_channels": data.channels, "stem_out_channels": args.stem,
          "num_stacks": args.stacks, "num_modules_per_stack": args.modules}  # fmt: skip

    def their_net():
        return NBNetwork((np.array(CELL_MATRIX), list(CELL_OPS)), **kw)

    def our_net():
        return NB101Network(CELL_MATRIX, CELL_OPS, num_classes=data.num_classes, stem_channels=args.stem,
                            num_stacks=args.stacks, modules_per_stack=args.modules, in_channels=data.channels)  # fmt: skip

    def baseline() -> float:
        torch.manual_seed(0)  # nasbench-pytorch draws from the global generator; this script owns its process
        net = their_net().to(device)
        loader_kw = {"batch_size": bs, "shuffle": True, "num_workers": args.workers, "drop_last": True,
                     "pin_memory": device.startswith("cuda"), "persistent_workers": args.workers > 0}  # fmt: skip
        warm = torch.utils.data.DataLoader(_baseline_dataset(data, bs * max(1, args.warmup), pad, flip, 1), **loader_kw)
        timed = torch.utils.data.DataLoader(_baseline_dataset(data, bs * args.steps, pad, flip, 2), **loader_kw)
        optimizer = torch.optim.RMSprop(net.parameters(), lr=0.2, momentum=0.9, weight_decay=1e-4, eps=1.0)
        with contextlib.redirect_stdout(io.StringIO()):
            nb_trainer.train(net, warm, optimizer=optimizer, num_epochs=1, device=device, print_frequency=10**9)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            nb_trainer.train(net, timed, optimizer=optimizer, num_epochs=1, device=device, print_frequency=10**9)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            secs = time.perf_counter() - t0
        return bs * args.steps / secs

    def ours(model_fn) -> float:
        return images_per_second(model_fn, data, config, steps=args.steps, warmup=args.warmup, seed=0)

    results = {}
    for label, fn in (
        ("baseline", baseline),
        ("ours/their-net", lambda: ours(their_net)),
        ("ours/our-net", lambda: ours(our_net)),
    ):
        results[label] = max(fn() for _ in range(args.repeats))
    ratio = results["ours/their-net"] / results["baseline"]
    ratio_ours = results["ours/our-net"] / results["baseline"]
    name = (
        torch.cuda.get_device_name(device) if device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    )
    setup = {"device": name, "data": data.name, "image": list(data.image_shape), "batch_size": bs, "steps": args.steps,
             "stem": args.stem, "stacks": args.stacks, "modules": args.modules, "workers": args.workers,
             "compile": args.compile, "torch": torch.__version__}  # fmt: skip
    if args.json:
        print(json.dumps({**setup, "images_per_second": results, "ratio_loop": ratio, "ratio_ours": ratio_ours}))
        return
    print("setup: " + ", ".join(f"{k}={v}" for k, v in setup.items()))
    for label, ips in results.items():
        print(f"  {label:<16} {ips:12,.0f} images/s")
    print(f"  ratio ours/baseline, same network: {ratio:.2f}x;  our network: {ratio_ours:.2f}x")


if __name__ == "__main__":
    main()
