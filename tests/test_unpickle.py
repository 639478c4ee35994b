"""``benchlab.ext.restricted_load``: the one unpickler for third-party pickles."""

from __future__ import annotations

import collections
import io
import os
import pickle

import numpy as np
import pytest

from benchlab.ext import restricted_load


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


class _Stand:
    """Stand-in for a foreign record class."""


class _Record:
    def __init__(self, x):
        self.x = x


def test_plain_values_need_no_global():
    value = {"a": [1, 2.5, None, True], ("t", 3): b"bytes", "s": {1, 2}}
    for protocol in (4, 5):
        assert restricted_load(pickle.dumps(value, protocol=protocol)) == value
    value = {"a": [1, 2.5, None, True], ("t", 3): "text"}  # protocol 2 names globals for bytes and sets
    assert restricted_load(pickle.dumps(value, protocol=2)) == value


@pytest.mark.parametrize("payload", [_Evil(), [1, io.BytesIO], collections.OrderedDict(a=1)])
def test_any_global_not_listed_is_refused_before_it_runs(payload):
    with pytest.raises(pickle.UnpicklingError, match=r"it refers to \S+, which this reader does not allow; refusing"):
        restricted_load(pickle.dumps(payload, protocol=2))


def test_pairs_stand_ins_aliases_and_the_refusal_wording():
    data = pickle.dumps(collections.OrderedDict(a=1), protocol=2)
    assert restricted_load(data, {("collections", "OrderedDict")}) == {"a": 1}
    assert restricted_load(data, {("collections", "OrderedDict"): "builtins:dict"}) == {"a": 1}
    rec = pickle.dumps(_Record(3))
    got = restricted_load(rec, {(__name__, "_Record"): _Stand})
    assert type(got) is _Stand and got.x == 3
    with pytest.raises(pickle.UnpicklingError, match="_Record, which is not a record; refusing to load it"):
        restricted_load(rec, refuse="is not a record")


def test_numpy_arrays_of_numpy_1_and_2_module_names():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    data = pickle.dumps(arr, protocol=2)
    allowed = {(m, n) for m in ("numpy.core.multiarray", "numpy._core.multiarray") for n in ("_reconstruct",)}
    allowed |= {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}
    assert np.array_equal(restricted_load(data, allowed), arr)
    legacy = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")  # as numpy 1 wrote it
    assert np.array_equal(restricted_load(legacy, allowed), arr)


def test_fallback_persistent_ids_and_sequences_from_a_file():
    class WithIds(pickle.Pickler):
        def persistent_id(self, obj):
            return "storage-0" if obj is _Stand else None

    buf = io.BytesIO()
    WithIds(buf, protocol=2).dump([_Stand, 1])
    with pytest.raises(pickle.UnpicklingError, match="persistent ids"):
        restricted_load(buf.getvalue())
    assert restricted_load(buf.getvalue(), persistent=lambda pid: pid) == ["storage-0", 1]

    fam = pickle.dumps([_Record], protocol=2)
    assert restricted_load(fam, fallback=lambda m, n: "family" if n.startswith("_Rec") else None) == ["family"]
    with pytest.raises(pickle.UnpicklingError):
        restricted_load(fam, fallback=lambda m, n: None)

    f = io.BytesIO(pickle.dumps(1) + pickle.dumps("two") + pickle.dumps([3]))
    assert [restricted_load(f) for _ in range(3)] == [1, "two", [3]]
    with pytest.raises(EOFError):
        restricted_load(f)


@pytest.mark.parametrize("length", [1 << 33, 1 << 40])
def test_a_length_field_larger_than_the_file_is_refused_without_allocating(tmp_path, length):
    """A corrupt BINBYTES8 asking for 8 GiB or 1 TiB: one UnpicklingError, from bytes and from a file."""
    import struct

    bomb = b"\x80\x04\x8e" + struct.pack("<Q", length) + b"xx"
    (tmp_path / "bomb.pkl").write_bytes(bomb)
    with pytest.raises(pickle.UnpicklingError, match="corrupt"):
        restricted_load(bomb)
    with open(tmp_path / "bomb.pkl", "rb") as f, pytest.raises(pickle.UnpicklingError, match="corrupt"):
        restricted_load(f)
