"""Datasets for live training: official file formats (written here as tiny fixtures), splits, errors."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from benchlab import DataError, InvalidConfig, UnknownName
from benchlab.nn import ImageData, load_dataset
from benchlab.nn._data import FASHION_MNIST_SYSTEM_DIR


def _batch(path: Path, n: int, classes: int, side: int, seed: int, label_key="labels", protocol=2, offset=0) -> None:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3 * side * side), dtype=np.uint8)
    labels = [int(v) for v in (np.arange(n) % classes + offset)]
    path.write_bytes(pickle.dumps({"batch_label": "fixture", "data": data, label_key: labels}, protocol=protocol))


def _cifar10(root: Path, per_batch: int = 40, protocol=2) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        _batch(folder / f"data_batch_{i}", per_batch, 10, 32, i, protocol=protocol)
    _batch(folder / "test_batch", 20, 10, 32, 9, protocol=protocol)
    return folder


def _idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    path.write_bytes(gzip.compress(header + arr.astype(np.uint8).tobytes()))


def _fashion(root: Path, n: int = 120, nt: int = 30) -> Path:
    folder = root / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    _idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
    _idx(folder / "train-labels-idx1-ubyte.gz", np.arange(n) % 10)
    _idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (nt, 28, 28)))
    _idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(nt) % 10)
    return folder


def _check(data: ImageData) -> None:
    for part in ("train", "valid", "test"):
        x, y = getattr(data, f"x_{part}"), getattr(data, f"y_{part}")
        assert x.dtype == np.uint8 and x.ndim == 4 and y.dtype == np.int64 and len(x) == len(y) > 0
        assert not x.flags.writeable
    d = data.describe()
    assert d["n_train"] == len(data.x_train) and d["num_classes"] == data.num_classes and d["notes"]


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_valid_split_is_stratified_halves(tmp_path, protocol):
    _cifar10(tmp_path, protocol=protocol)
    data = load_dataset("cifar10-valid", root=tmp_path)
    _check(data)
    assert data.image_shape == (3, 32, 32) and data.num_classes == 10
    assert len(data.x_train) == len(data.x_valid) == 100 and len(data.x_test) == 20
    assert np.bincount(data.y_train).tolist() == np.bincount(data.y_valid).tolist() == [10] * 10
    # the two halves are disjoint and together are the 200 training images
    rows = {r.tobytes() for r in np.concatenate([data.x_train, data.x_valid]).reshape(200, -1)}
    assert len(rows) == 200
    assert data.mean[0] == pytest.approx(125.3 / 255) and "NOT the official" in data.notes
    # the image layout: data rows are 1024 R, 1024 G, 1024 B values (CIFAR's layout) -> NCHW
    raw = pickle.loads((tmp_path / "cifar-10-batches-py" / "test_batch").read_bytes())["data"]
    assert np.array_equal(data.x_test[0, 1].ravel(), raw[0, 1024:2048])
    # same split every time (a fixed seed), also in a fresh cache
    from benchlab.nn import _data

    _data._CACHE.clear()
    again = load_dataset("cifar10-valid", root=tmp_path)
    assert np.array_equal(again.y_train, data.y_train) and np.array_equal(again.x_valid, data.x_valid)


def test_cifar10_and_nb101_split(tmp_path):
    _cifar10(tmp_path)
    plain = load_dataset("cifar10", root=tmp_path)
    assert (len(plain.x_train), len(plain.x_valid), len(plain.x_test)) == (200, 10, 10)
    nb101 = load_dataset("cifar10", root=tmp_path, split="nb101")
    assert (len(nb101.x_train), len(nb101.x_valid), len(nb101.x_test)) == (160, 40, 20)
    raw5 = pickle.loads((tmp_path / "cifar-10-batches-py" / "data_batch_5").read_bytes())["data"]
    assert np.array_equal(nb101.x_valid.reshape(40, -1), raw5)  # NB101 validates on data_batch_5
    with pytest.raises(InvalidConfig, match="nb101"):
        load_dataset("cifar10-valid", root=tmp_path, split="nb101")


def test_cifar100_and_imagenet16(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    _batch(folder / "train", 300, 100, 32, 1, label_key="fine_labels")
    _batch(folder / "test", 200, 100, 32, 2, label_key="fine_labels")
    c100 = load_dataset("cifar100", root=tmp_path)
    _check(c100)
    assert c100.num_classes == 100 and len(c100.x_valid) == len(c100.x_test) == 100

    folder = tmp_path / "ImageNet16"
    folder.mkdir()
    for i in range(1, 11):  # labels 1..200: only 1..120 are kept
        _batch(folder / f"train_data_batch_{i}", 200, 200, 16, i, offset=1)
    _batch(folder / "val_data", 480, 240, 16, 11, offset=1)
    in16 = load_dataset("ImageNet16-120", root=tmp_path)
    _check(in16)
    assert in16.image_shape == (3, 16, 16) and in16.num_classes == 120
    assert len(in16.x_train) == 10 * 120 and in16.y_train.max() == 119 and in16.y_train.min() == 0
    assert len(in16.x_valid) == len(in16.x_test) == 120  # 240 kept val images, halved per class


def test_fashion_mnist_idx(tmp_path):
    _fashion(tmp_path)
    data = load_dataset("fashion-mnist", root=tmp_path)
    _check(data)
    assert data.image_shape == (1, 28, 28)
    assert (len(data.x_train), len(data.x_valid), len(data.x_test)) == (100, 20, 30)
    assert 0 < data.mean[0] < 1 and 0 < data.std[0] < 1


@pytest.mark.skipif(
    not (FASHION_MNIST_SYSTEM_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason="dataset-fashion-mnist not installed",
)
def test_fashion_mnist_system_files(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCHLAB_DATASETS", str(tmp_path))  # nothing there: falls back to the Debian folder
    data = load_dataset("fashion-mnist")
    assert (len(data.x_train), len(data.x_valid), len(data.x_test)) == (50000, 10000, 10000)
    assert np.bincount(data.y_valid).tolist() == [1000] * 10
    assert data.mean[0] == pytest.approx(0.286, abs=0.002)


def test_digits():
    data = load_dataset("digits")
    _check(data)
    assert data.image_shape == (1, 8, 8) and data.x_train.max() == 255
    assert len(data.x_train) + len(data.x_valid) + len(data.x_test) == 1797
    small = data.take(train=50, valid=10)
    assert len(small.x_train) == 50 and len(small.x_valid) == 10 and len(small.x_test) == len(data.x_test)


def test_errors(tmp_path):
    with pytest.raises(UnknownName, match="did you mean 'cifar100'"):
        load_dataset("cifar1000")
    with pytest.raises(DataError, match=r"data_batch_1 is missing; get it from https://www.cs.toronto.edu"):
        load_dataset("cifar10-valid", root=tmp_path)
    with pytest.raises(DataError, match="fashion-mnist.*missing"):
        load_dataset("fashion-mnist", root=tmp_path)
    # wrong magic number / truncated IDX
    folder = _fashion(tmp_path / "bad")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20))
    with pytest.raises(DataError, match="not an IDX file"):
        load_dataset("fashion-mnist", root=tmp_path / "bad")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 120) + b"\x00" * 5)
    )
    with pytest.raises(DataError, match="header says"):
        load_dataset("fashion-mnist", root=tmp_path / "bad")
    # a CIFAR batch of the wrong shape, and a pickle that tries to call something else
    folder = _cifar10(tmp_path / "shape")
    (folder / "test_batch").write_bytes(pickle.dumps({"data": np.zeros((3, 100), np.uint8), "labels": [0, 1, 2]}))
    with pytest.raises(DataError, match=r"expected uint8 \(N, 3072\)"):
        load_dataset("cifar10", root=tmp_path / "shape")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({"data": Evil(), "labels": []}))
    with pytest.raises(DataError, match="builtins.print, which this reader does not allow"):
        load_dataset("cifar10", root=tmp_path / "shape")


def test_importing_the_live_packages_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, benchlab.nn, benchlab.nn._export, benchlab.nn._benchmark, benchlab.nn._data, benchlab.nn._flops, "
        "benchlab.nn._trainer, benchlab.nn._scoring, benchlab.nn._cli_live, benchlab.nn._cli_proxies, "
        "benchlab.benchmarks.live, benchlab.strategies.oneshot, benchlab.strategies.proxy_search; "
        "benchlab.BENCHMARKS.names(); benchlab.ext.COMMANDS.names(); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
