"""Image datasets for live training, read from their official files (no torchvision).

``load_dataset(name, root=None, split="nb201")`` returns an :class:`ImageData`: uint8 NCHW
images and int64 labels for the train, validation and test splits, plus the per-channel
normalisation constants. Nothing here imports torch.

Datasets, their files and their splits
--------------------------------------
``cifar10-valid`` (NAS-Bench-201's search split; Dong & Yang, ICLR 2020)
    CIFAR-10 python pickles (``cifar-10-batches-py/data_batch_1..5``, ``test_batch``; from
    https://www.cs.toronto.edu/~kriz/cifar.html). Train on 25,000 of the 50,000 training
    images, validate on the other 25,000, test on the 10,000 test images. NAS-Bench-201
    fixes the halves with the index list ``cifar-split.txt`` of its repository, which is
    not available here: benchlab uses a class-stratified seeded split instead (2,500 images
    of every class on each side, ``split_seed`` 0). Same sizes and class balance, **not the
    official indices**: accuracies are comparable in distribution, not image for image.
``cifar10``
    Train on all 50,000 training images. NAS-Bench-201 has no validation split for plain
    CIFAR-10 (only ``ori-test``); benchlab splits the test set into a validation and a test
    half (5,000 + 5,000, stratified, seeded) as NAS-Bench-201 does for CIFAR-100.
    With ``split="nb101"``: NAS-Bench-101's split (Ying et al., ICML 2019): 40,000 training
    images (``data_batch_1..4``) for training, ``data_batch_5`` (10,000) as validation, test
    = the 10,000 test images (nasbench's ``generate_cifar10_tfrecords.py`` does the same).
``cifar100``
    CIFAR-100 python pickles (``cifar-100-python/train``, ``test``; fine labels). Train on
    50,000; validation and test are the two halves of the 10,000 test images, as
    NAS-Bench-201's ``x-valid``/``x-test`` (its ``cifar100-test-split.txt`` is replaced by a
    stratified seeded split: 50 + 50 per class).
``ImageNet16-120``
    Downsampled ImageNet 16x16 (Chrabaszcz et al., 2017) in its pickle format
    (``ImageNet16/train_data_batch_1..10`` and ``val_data``, from
    https://image-net.org/download-images, "Downsampled ImageNet 16x16"). As NAS-Bench-201,
    only classes 1..120 are kept (labels become 0..119): about 151,700 training images, and
    the 6,000 validation images split into validation and test halves (stratified, seeded;
    NB201's ``imagenet-16-120-test-split.txt`` is not available here).
``fashion-mnist``
    Fashion-MNIST IDX files (Xiao et al., 2017; ``train-images-idx3-ubyte.gz`` etc.), by
    default from ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``
    package). 28x28 grey images. The 60,000 training images are split 50,000 train +
    10,000 validation (stratified, seeded, 1,000 per class); test = the 10,000 test images.
``digits``
    scikit-learn's 8x8 digits (1,797 images, the UCI optical digits test set), scaled from
    0..16 to 0..255. Stratified seeded split: 1,079 train, 359 validation, 359 test. Tiny:
    meant for tests and smoke runs.

Where files are looked up: the ``root`` argument, else ``$BENCHLAB_DATASETS``, else
``<benchlab data dir>/datasets`` (``$BENCHLAB_DATA/datasets``); each dataset lives in its
usual sub-folder (``cifar-10-batches-py``, ``cifar-100-python``, ``ImageNet16``,
``fashion-mnist``) or directly in ``root``. A missing file raises :class:`DataError`
naming the file and where to get it; a file of the wrong shape, size or magic number raises
:class:`DataError` too.

The CIFAR and ImageNet16 pickles are read with benchlab's restricted unpickler
(:func:`benchlab.ext.restricted_load`), allowed to resolve only the numpy array
reconstruction callables and numeric dtypes (never a bare ``pickle.load``).
"""

from __future__ import annotations

import gzip
import os
import pickle
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchlab import DataError, InvalidConfig, UnknownName, data_dir
from benchlab.ext import restricted_load

__all__ = ["DATASETS", "DATASETS_ENV", "FASHION_MNIST_SYSTEM_DIR", "ImageData", "dataset_root", "load_dataset"]

#: Environment variable naming the folder that holds the dataset folders.
DATASETS_ENV = "BENCHLAB_DATASETS"
#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX files.
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
#: Seed of the fixed, documented split permutations (not a run seed: splits never change).
SPLIT_SEED = 0

# Per-channel normalisation constants in [0, 1] units. CIFAR and ImageNet16: the constants
# of the NAS-Bench-201 code (xautodl ``get_datasets``: mean 125.3/123.0/113.9 and std
# 63.0/62.1/66.7 for CIFAR-10, in 0..255 units). Fashion-MNIST and digits: computed from
# their training split at load time.
_MEAN_STD = {
    "cifar10": ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)),
    "cifar100": ((129.3, 124.1, 112.4), (68.2, 65.4, 70.4)),
    "ImageNet16-120": ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09)),
}

#: Dataset names accepted by :func:`load_dataset`.
DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120", "fashion-mnist", "digits")

_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html (the 'CIFAR-10 python version' tarball)"
_CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar.html (the 'CIFAR-100 python version' tarball)"
_IN16_URL = "https://image-net.org/download-images ('Downsampled ImageNet 16x16', Chrabaszcz et al. 2017)"
_FMNIST_URL = (
    "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu) or "
    "https://github.com/zalandoresearch/fashion-mnist (data/fashion/*.gz)"
)


@dataclass(frozen=True, eq=False)
class ImageData:
    """One image classification dataset, split into train / validation / test.

    Images are ``uint8`` arrays of shape ``(N, C, H, W)`` (NCHW, 0..255), labels ``int64``
    class ids ``0..num_classes-1``. ``mean`` and ``std`` are per-channel normalisation
    constants in [0, 1] units (a trainer computes ``(x / 255 - mean) / std``). ``notes``
    says how the splits were made. Arrays are read-only.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    split: str = "nb201"
    notes: str = ""
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for part in ("train", "valid", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x.dtype != np.uint8 or x.ndim != 4:
                raise DataError(f"{self.name}: x_{part} must be uint8 NCHW images, got {x.dtype} {x.shape}")
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise DataError(
                    f"{self.name}: y_{part} must be int64 labels of length {x.shape[0]}, got {y.dtype} {y.shape}"
                )
            if y.size and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
                raise DataError(f"{self.name}: y_{part} has labels outside 0..{self.num_classes - 1}")
            if x.shape[1:] != self.x_train.shape[1:]:
                raise DataError(
                    f"{self.name}: x_{part} images are {x.shape[1:]}, x_train's are {self.x_train.shape[1:]}"
                )
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise DataError(f"{self.name}: mean/std need {self.channels} channel values")

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        return tuple(int(s) for s in self.x_train.shape[1:])  # type: ignore[return-value]

    def describe(self) -> dict:
        """JSON-able summary: sizes, image shape, classes, normalisation, how it was split."""
        return {
            "name": self.name,
            "split": self.split,
            "image_shape": list(self.image_shape),
            "num_classes": self.num_classes,
            "n_train": int(self.x_train.shape[0]),
            "n_valid": int(self.x_valid.shape[0]),
            "n_test": int(self.x_test.shape[0]),
            "mean": [float(m) for m in self.mean],
            "std": [float(s) for s in self.std],
            "notes": self.notes,
            "source": self.source,
        }

    def take(self, train: int | None = None, valid: int | None = None, test: int | None = None) -> ImageData:
        """The first ``train``/``valid``/``test`` examples of each split (None keeps a split
        whole); for quick tests on a slice of a dataset. The splits are already shuffled
        where :func:`load_dataset` made them."""
        parts = {}
        for part, n in (("train", train), ("valid", valid), ("test", test)):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if n is not None:
                if int(n) < 1:
                    raise InvalidConfig(f"take({part}={n}): keep at least one example")
                x, y = x[: int(n)], y[: int(n)]
            parts[f"x_{part}"], parts[f"y_{part}"] = x, y
        notes = (
            self.notes + f" Sliced to {train}/{valid}/{test} examples."
            if (train, valid, test) != (None,) * 3
            else self.notes
        )
        return ImageData(self.name, **parts, num_classes=self.num_classes, mean=self.mean, std=self.std,
                         split=self.split, notes=notes, source=self.source)  # fmt: skip


# --------------------------------------------------------------------------- locations
def dataset_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding the dataset folders: ``root``, ``$BENCHLAB_DATASETS`` or
    ``<benchlab data dir>/datasets``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATASETS_ENV)
    if env:
        return Path(env).expanduser()
    return data_dir() / "datasets"


def _folder(root: Path, sub: str, probe: str, extra: tuple[Path, ...] = ()) -> Path:
    """``root/sub`` if it holds ``probe``, else ``root`` itself if it does, else the first
    of ``extra`` that does; ``root/sub`` when none does (the error then names it)."""
    for folder in (root / sub, root, *extra):
        if (folder / probe).is_file():
            return folder
    return root / sub


def _need(path: Path, what: str, where: str) -> Path:
    if not path.is_file():
        raise DataError(
            f"{what}: file {path} is missing; get it from {where} and put it there "
            f"(or pass root=DIR / set ${DATASETS_ENV} to the folder holding the dataset folders)"
        )
    return path


# --------------------------------------------------------------------------- restricted unpickling
def _checked_dtype(*args):
    dt = np.dtype(*args)
    if dt.kind not in "biuf":
        raise pickle.UnpicklingError(f"numpy dtype {dt} is not allowed, expected a numeric array")
    return dt


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """``_codecs.encode`` as protocol-2 pickles written by Python 3 use it for bytes."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1", errors)


def _frombuffer(buf, dtype, shape, order):
    """numpy's own ``_frombuffer`` (how numpy >= 1.26 pickles arrays), numeric dtypes only."""
    try:
        from numpy._core.numeric import _frombuffer as frombuffer
    except ImportError:  # numpy 1
        from numpy.core.numeric import _frombuffer as frombuffer
    _checked_dtype(dtype)
    return frombuffer(buf, dtype, shape, order)


#: The globals a CIFAR / downsampled-ImageNet batch file may name: numeric numpy arrays only.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): "numpy.core.multiarray:_reconstruct",  # numpy._core under numpy 2
    ("numpy._core.multiarray", "_reconstruct"): "numpy.core.multiarray:_reconstruct",
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _checked_dtype,
    ("_codecs", "encode"): _latin1_encode,
}


def _read_batch(path: Path, what: str) -> dict:
    """A dict-of-arrays batch pickle (Python 2 or 3) with str keys."""
    try:
        with open(path, "rb") as fh:
            obj = restricted_load(fh, _ALLOWED, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            ImportError, MemoryError, UnicodeDecodeError) as exc:  # fmt: skip
        raise DataError(f"{what}: {path} cannot be read as a batch pickle ({exc}); re-download it") from None
    if not isinstance(obj, dict):
        raise DataError(f"{what}: {path} holds a {type(obj).__name__}, expected a dict of arrays; re-download it")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _images(data, labels, path: Path, what: str, side: int, n_classes_max: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(data)
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3 * side * side:
        raise DataError(
            f"{what}: {path} 'data' is {x.dtype} {x.shape}, expected uint8 (N, {3 * side * side}); re-download it"
        )
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (x.shape[0],):
        raise DataError(f"{what}: {path} has {x.shape[0]} images but {y.shape} labels; re-download it")
    if y.size and (int(y.min()) < 0 or int(y.max()) > n_classes_max):
        raise DataError(f"{what}: {path} has labels outside 0..{n_classes_max}; re-download it")
    return x.reshape(-1, 3, side, side), y


# --------------------------------------------------------------------------- splits
def _stratified(labels: np.ndarray, take: float, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(kept, held_out)``: ``take`` examples of every class held out (a fraction
    when a float), chosen by a seeded permutation per class; both sorted."""
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels).tolist():
        idx = np.flatnonzero(labels == c)
        n = round(take * idx.size) if isinstance(take, float) else int(take)
        held.append(rng.permutation(idx)[:n])
    held_idx = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
    mask = np.ones(labels.size, dtype=bool)
    mask[held_idx] = False
    return np.flatnonzero(mask), held_idx


def _shuffled(idx: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(idx)


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _make(name, split, xs, ys, num_classes, mean, std, notes, source) -> ImageData:
    parts = {}
    for part, x, y in zip(("train", "valid", "test"), xs, ys):
        parts[f"x_{part}"], parts[f"y_{part}"] = _ro(x), _ro(y.astype(np.int64, copy=False))
    return ImageData(name, **parts, num_classes=num_classes, mean=tuple(mean), std=tuple(std), split=split,
                     notes=notes, source=str(source))  # fmt: skip


def _nb_constants(key: str) -> tuple[tuple, tuple]:
    m, s = _MEAN_STD[key]
    return tuple(v / 255.0 for v in m), tuple(v / 255.0 for v in s)


def _computed_constants(x: np.ndarray) -> tuple[tuple, tuple]:
    f = x.astype(np.float64) / 255.0
    return tuple(f.mean(axis=(0, 2, 3)).tolist()), tuple(f.std(axis=(0, 2, 3)).tolist())


# --------------------------------------------------------------------------- readers
def _cifar10_files(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, Path]:
    folder = _folder(root, "cifar-10-batches-py", "data_batch_1")
    xs, ys = [], []
    for i in range(1, 6):
        path = _need(folder / f"data_batch_{i}", "cifar10", _CIFAR_URL)
        d = _read_batch(path, "cifar10")
        if "data" not in d or "labels" not in d:
            raise DataError(f"cifar10: {path} lacks 'data'/'labels' (keys {sorted(d)}); is it a CIFAR-10 batch?")
        x, y = _images(d["data"], d["labels"], path, "cifar10", 32, 9)
        xs.append(x)
        ys.append(y)
    path = _need(folder / "test_batch", "cifar10", _CIFAR_URL)
    d = _read_batch(path, "cifar10")
    if "data" not in d or "labels" not in d:
        raise DataError(f"cifar10: {path} lacks 'data'/'labels' (keys {sorted(d)}); is it a CIFAR-10 batch?")
    xt, yt = _images(d["data"], d["labels"], path, "cifar10", 32, 9)
    return np.concatenate(xs), np.concatenate(ys), xt, yt, xs[-1].shape[0], folder


def _load_cifar10(name: str, root: Path, split: str) -> ImageData:
    x, y, xt, yt, last, folder = _cifar10_files(root)
    mean, std = _nb_constants("cifar10")
    if split == "nb101":
        if name != "cifar10":
            raise InvalidConfig(f"split='nb101' applies to 'cifar10' only, not {name!r}")
        n = x.shape[0]
        tr, va = np.arange(n - last), np.arange(n - last, n)
        notes = ("NAS-Bench-101 split (Ying et al. 2019): train = data_batch_1..4 (40,000), valid = data_batch_5 "
                 "(10,000), test = test_batch (10,000).")  # fmt: skip
        return _make(name, split, (x[tr], x[va], xt), (y[tr], y[va], yt), 10, mean, std, notes, folder)
    if name == "cifar10-valid":
        tr, va = _stratified(y, 0.5)
        tr, va = _shuffled(tr, 1), _shuffled(va, 2)
        notes = ("NAS-Bench-201 cifar10-valid: train 25,000 / valid 25,000 halves of the CIFAR-10 training set, "
                 "test = test_batch. The halves are a class-stratified seeded split (seed 0), NOT the official "
                 "cifar-split.txt indices (not available here).")  # fmt: skip
        return _make(name, split, (x[tr], x[va], xt), (y[tr], y[va], yt), 10, mean, std, notes, folder)
    te, va = _stratified(yt, 0.5)
    tr = _shuffled(np.arange(x.shape[0]), 1)
    notes = ("CIFAR-10: train = all 50,000 training images; valid/test = halves of test_batch (class-stratified, "
             "seed 0). NAS-Bench-201 itself reports plain CIFAR-10 on the whole test set and has no validation "
             "split for it.")  # fmt: skip
    return _make(name, split, (x[tr], xt[va], xt[te]), (y[tr], yt[va], yt[te]), 10, mean, std, notes, folder)


def _load_cifar100(root: Path) -> ImageData:
    folder = _folder(root, "cifar-100-python", "train")
    parts = []
    for fname in ("train", "test"):
        path = _need(folder / fname, "cifar100", _CIFAR100_URL)
        d = _read_batch(path, "cifar100")
        if "data" not in d or "fine_labels" not in d:
            raise DataError(f"cifar100: {path} lacks 'data'/'fine_labels' (keys {sorted(d)}); is it a CIFAR-100 file?")
        parts.append(_images(d["data"], d["fine_labels"], path, "cifar100", 32, 99))
    (x, y), (xt, yt) = parts
    te, va = _stratified(yt, 0.5)
    tr = _shuffled(np.arange(x.shape[0]), 1)
    mean, std = _nb_constants("cifar100")
    notes = ("NAS-Bench-201 cifar100: train 50,000; valid/test = halves of the 10,000 test images (x-valid/x-test), "
             "class-stratified seeded split (seed 0), NOT the official cifar100-test-split.txt indices.")  # fmt: skip
    return _make("cifar100", "nb201", (x[tr], xt[va], xt[te]), (y[tr], yt[va], yt[te]), 100, mean, std, notes, folder)


def _load_imagenet16(root: Path, n_classes: int = 120) -> ImageData:
    folder = _folder(root, "ImageNet16", "val_data")
    xs, ys = [], []
    for i in range(1, 11):
        path = _need(folder / f"train_data_batch_{i}", "ImageNet16-120", _IN16_URL)
        d = _read_batch(path, "ImageNet16-120")
        if "data" not in d or "labels" not in d:
            raise DataError(f"ImageNet16-120: {path} lacks 'data'/'labels' (keys {sorted(d)})")
        x, y = _images(d["data"], d["labels"], path, "ImageNet16-120", 16, 1000)
        keep = (y >= 1) & (y <= n_classes)
        xs.append(x[keep])
        ys.append(y[keep] - 1)
    path = _need(folder / "val_data", "ImageNet16-120", _IN16_URL)
    d = _read_batch(path, "ImageNet16-120")
    if "data" not in d or "labels" not in d:
        raise DataError(f"ImageNet16-120: {path} lacks 'data'/'labels' (keys {sorted(d)})")
    xv, yv = _images(d["data"], d["labels"], path, "ImageNet16-120", 16, 1000)
    keep = (yv >= 1) & (yv <= n_classes)
    xv, yv = xv[keep], yv[keep] - 1
    x, y = np.concatenate(xs), np.concatenate(ys)
    te, va = _stratified(yv, 0.5)
    tr = _shuffled(np.arange(x.shape[0]), 1)
    mean, std = _nb_constants("ImageNet16-120")
    notes = ("NAS-Bench-201 ImageNet16-120: downsampled ImageNet 16x16, classes 1..120 (labels 0..119); valid/test "
             "= halves of val_data, class-stratified seeded split (seed 0), NOT the official "
             "imagenet-16-120-test-split.txt indices.")  # fmt: skip
    return _make("ImageNet16-120", "nb201", (x[tr], xv[va], xv[te]), (y[tr], yv[va], yv[te]), n_classes, mean, std,
                 notes, folder)  # fmt: skip


def _read_idx(path: Path, what: str, ndim: int) -> np.ndarray:
    """An IDX file (optionally gzipped) of unsigned bytes with ``ndim`` dimensions."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{what}: {path} cannot be read ({exc}); re-download it") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != ndim:
        raise DataError(
            f"{what}: {path} is not an IDX file of unsigned bytes with {ndim} dimensions "
            f"(magic {raw[:4].hex() if len(raw) >= 4 else 'missing'}, expected 000008{ndim:02x}); re-download it"
        )
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(dims)):
        raise DataError(
            f"{what}: {path} holds {len(raw) - header} bytes of data, its header says {dims}; re-download it"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_fashion_mnist(root: Path, explicit_root: bool) -> ImageData:
    extra = () if explicit_root else (FASHION_MNIST_SYSTEM_DIR,)
    folder = _folder(root, "fashion-mnist", "train-images-idx3-ubyte.gz", extra)
    arrays = {}
    for key, base, ndim in (("x", "train-images-idx3-ubyte", 3), ("y", "train-labels-idx1-ubyte", 1),
                            ("xt", "t10k-images-idx3-ubyte", 3), ("yt", "t10k-labels-idx1-ubyte", 1)):  # fmt: skip
        path = folder / f"{base}.gz"
        if not path.is_file() and (folder / base).is_file():
            path = folder / base
        arrays[key] = _read_idx(_need(path, "fashion-mnist", _FMNIST_URL), "fashion-mnist", ndim)
    x, y, xt, yt = arrays["x"], arrays["y"].astype(np.int64), arrays["xt"], arrays["yt"].astype(np.int64)
    if x.shape[0] != y.shape[0] or xt.shape[0] != yt.shape[0] or x.shape[1:] != (28, 28) or xt.shape[1:] != (28, 28):
        raise DataError(f"fashion-mnist: images {x.shape}/{xt.shape} and labels {y.shape}/{yt.shape} do not match")
    if int(max(y.max(), yt.max())) > 9:
        raise DataError("fashion-mnist: labels outside 0..9; re-download the files")
    tr, va = _stratified(y, 1000 if x.shape[0] >= 20000 else 1 / 6)
    tr, va = _shuffled(tr, 1), _shuffled(va, 2)
    x, xt = x[:, None], xt[:, None]
    mean, std = _computed_constants(x[tr])
    notes = (f"Fashion-MNIST: the {y.size:,} training images split into {tr.size:,} train + {va.size:,} valid "
             "(class-stratified, seed 0); test = the 10,000 t10k images. mean/std from the train split.")  # fmt: skip
    return _make("fashion-mnist", "nb201", (x[tr], x[va], xt), (y[tr], y[va], yt), 10, mean, std, notes, folder)


def _load_digits() -> ImageData:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("digits: needs scikit-learn (`pip install scikit-learn`)") from None
    d = load_digits()
    x = np.clip(np.rint(np.asarray(d.images, dtype=np.float64) * (255.0 / 16.0)), 0, 255).astype(np.uint8)[:, None]
    y = np.asarray(d.target, dtype=np.int64)
    rest, te = _stratified(y, 0.2)
    tr_local, va_local = _stratified(y[rest], 0.25)
    tr, va = rest[tr_local], rest[va_local]
    tr, va, te = _shuffled(tr, 1), _shuffled(va, 2), _shuffled(te, 3)
    mean, std = _computed_constants(x[tr])
    notes = (f"scikit-learn digits (8x8, 0..16 scaled to 0..255): class-stratified seeded split into {tr.size} train, "
             f"{va.size} valid, {te.size} test. For tests and smoke runs.")  # fmt: skip
    return _make("digits", "nb201", (x[tr], x[va], x[te]), (y[tr], y[va], y[te]), 10, mean, std, notes, "sklearn")


# --------------------------------------------------------------------------- entry point
_CACHE: dict[tuple, ImageData] = {}
_LOCK = threading.Lock()


def load_dataset(name: str, root: str | os.PathLike | None = None, split: str = "nb201") -> ImageData:
    """Load dataset ``name`` (one of :data:`DATASETS`) with its train/valid/test split.

    ``split`` is ``"nb201"`` (NAS-Bench-201's splits, the default) or ``"nb101"``
    (NAS-Bench-101's CIFAR-10 split; ``cifar10`` only). Results are cached per process
    (the arrays are read-only). See the module docstring for the files and the splits.
    """
    if name not in DATASETS:
        import difflib

        close = difflib.get_close_matches(name, DATASETS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownName(f"unknown dataset {name!r}: {hint}choose one of {', '.join(DATASETS)}")
    if split not in ("nb201", "nb101"):
        raise InvalidConfig(f"dataset split must be 'nb201' or 'nb101', got {split!r}")
    if split == "nb101" and name != "cifar10":
        raise InvalidConfig(f"split='nb101' is NAS-Bench-101's CIFAR-10 split: use it with 'cifar10', not {name!r}")
    base = dataset_root(root)
    key = (name, str(base.resolve()) if name != "digits" else "", split, root is None)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    if name in ("cifar10-valid", "cifar10"):
        data = _load_cifar10(name, base, split)
    elif name == "cifar100":
        data = _load_cifar100(base)
    elif name == "ImageNet16-120":
        data = _load_imagenet16(base)
    elif name == "fashion-mnist":
        data = _load_fashion_mnist(base, explicit_root=root is not None)
    else:
        data = _load_digits()
    with _LOCK:
        _CACHE[key] = data
    return data
