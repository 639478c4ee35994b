"""TFRecord files without TensorFlow: streaming reader and writer with CRC32C checks.

A TFRecord file is a sequence of records, each framed as (TensorFlow's
``core/lib/io/record_writer.cc``, documented in the ``tf.io.TFRecordWriter`` guide)::

    uint64  length            little-endian
    uint32  masked_crc32c(length bytes)
    byte    data[length]
    uint32  masked_crc32c(data)

with ``masked_crc32c(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8  (mod 2**32)`` and
``crc`` the CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78, initial and
final XOR 0xFFFFFFFF) of the bytes.

:func:`iter_record_batches` reads a file in fixed-size chunks (memory is bounded by the
chunk, whatever the file size) and checks every CRC in batches, vectorised with numpy
across the records of a chunk: the CRC registers of all records advance one byte per
step in lock-step (records sorted by length, so the records still running are always a
prefix). If the ``google-crc32c`` or ``crc32c`` package is installed, its C implementation
is used instead (``CRC_BACKEND`` says which one is active). A bad CRC or a truncated file
raises :class:`benchlab.DataError` naming the file, the record, its byte offset and the
fix (re-download; the official NAS-Bench-101 files' sha256 are in ``KNOWN_FILES``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from benchlab import DataError

__all__ = [
    "CRC_BACKEND",
    "KNOWN_FILES",
    "crc32c",
    "crc32c_many",
    "iter_record_batches",
    "iter_records",
    "masked_crc32c",
    "write_records",
]

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), bit-reflected
_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_LOCKSTEP_MAX = 1 << 16  # longer records are checked one at a time (NB101 records are < 1 KB)
_MAX_RECORD = 1 << 30  # larger lengths are treated as corrupt framing (NB101 records are < 1 KB)

#: The official NAS-Bench-101 files (google-research/nasbench README: URL, sha256, size).
KNOWN_FILES = {
    "nasbench_only108.tfrecord": {
        "url": "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
        "sha256": "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1",
        "size": "~499 MB",
    },
    "nasbench_full.tfrecord": {
        "url": "https://storage.googleapis.com/nasbench/nasbench_full.tfrecord",
        "sha256": "3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c",
        "size": "~1.95 GB",
    },
}


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)


def _native():
    """A C CRC-32C from an optional package: ``(name, function bytes -> int)`` or None."""
    try:
        import google_crc32c

        if getattr(google_crc32c, "implementation", "c") == "c":
            return "google-crc32c", google_crc32c.value
    except ImportError:
        pass
    try:
        import crc32c as _crc32c_pkg

        return "crc32c", _crc32c_pkg.crc32c
    except ImportError:
        pass
    return None


_NATIVE = _native()
#: Which CRC-32C implementation the reader uses: "google-crc32c", "crc32c" or "numpy".
CRC_BACKEND = _NATIVE[0] if _NATIVE else "numpy"


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of ``data`` (continuing from ``crc``, the CRC of preceding bytes).

    Pure Python (table-driven) unless a native package is installed: for single small
    buffers; use :func:`crc32c_many` for many records."""
    if _NATIVE is not None and crc == 0:
        return int(_NATIVE[1](bytes(data)))
    c = crc ^ 0xFFFFFFFF
    table = _TABLE
    for b in bytes(data):
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(crc: int | np.ndarray):
    """TFRecord's masked CRC: rotate right by 15 bits, add 0xa282ead8 (mod 2**32)."""
    if isinstance(crc, np.ndarray):
        c = crc.astype(np.uint32)
        return ((c >> np.uint32(15)) | (c << np.uint32(17))) + np.uint32(_MASK_DELTA)
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def crc32c_many(buffer, starts: np.ndarray, lengths: np.ndarray, backend: str | None = None) -> np.ndarray:
    """CRC-32C of ``buffer[starts[i] : starts[i] + lengths[i]]`` for every i (uint32 array).

    ``backend`` "numpy" forces the vectorised numpy code (default: the native package when
    installed). The numpy code advances the registers of all records one byte per step,
    with the records sorted by decreasing length so that the running ones are a prefix.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(starts)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    use = backend or CRC_BACKEND
    if use != "numpy":
        if _NATIVE is None:
            raise ValueError(f"CRC backend {use!r} is not installed; use 'numpy'")
        mv = memoryview(buffer)
        fn = _NATIVE[1]
        return np.fromiter((fn(mv[s : s + ln]) for s, ln in zip(starts.tolist(), lengths.tolist())), dtype=np.uint32, count=n)
    long = lengths > _LOCKSTEP_MAX
    if long.any():  # a few long records would make the lock-step loop long: scalar code for them
        out = np.empty(n, dtype=np.uint32)
        mv = memoryview(buffer)
        for i in np.flatnonzero(long).tolist():
            out[i] = crc32c(mv[starts[i] : starts[i] + lengths[i]])
        short = np.flatnonzero(~long)
        out[short] = crc32c_many(buffer, starts[short], lengths[short], backend)
        return out
    data = np.frombuffer(buffer, dtype=np.uint8)
    order = np.argsort(-lengths, kind="stable")
    lens = lengths[order]
    width = int(lens[0])
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    if width > 0:
        # padded[j, i]: byte j of the i-th longest record (0 past its end), rows contiguous
        total = int(lens.sum())
        lane = np.repeat(np.arange(n, dtype=np.int64), lens)
        first = np.cumsum(lens) - lens
        within = np.arange(total, dtype=np.int64) - np.repeat(first, lens)
        padded = np.zeros((width, n), dtype=np.uint8)
        padded.reshape(-1)[within * n + lane] = data[np.repeat(starts[order], lens) + within]
        # running[j]: number of records longer than j (a prefix, lengths being sorted)
        running = n - np.searchsorted(lens[::-1], np.arange(width), side="right")
        table = _TABLE_NP
        mask = np.uint32(0xFF)
        eight = np.uint32(8)
        for j in range(width):
            k = int(running[j])
            c = crc[:k]
            crc[:k] = table.take((c ^ padded[j, :k]) & mask) ^ (c >> eight)
    out = np.empty(n, dtype=np.uint32)
    out[order] = crc ^ np.uint32(0xFFFFFFFF)
    return out


def _fix(path: Path) -> str:
    known = KNOWN_FILES.get(path.name)
    if known:
        return (f"the file is corrupt or incomplete: download it again from {known['url']} ({known['size']}, "
                f"sha256 {known['sha256']}) and check it with `sha256sum`")  # fmt: skip
    return "the file is corrupt or incomplete: copy or download it again"


def iter_record_batches(
    path: Path,
    chunk_bytes: int = 4 << 20,
    verify: bool = True,
    progress: Callable[[int], None] | None = None,
    digest=None,
) -> Iterator[list[bytes]]:
    """Yield the records of a TFRecord file in batches (lists of ``bytes``), in file order.

    Reads ``chunk_bytes`` at a time, so memory stays bounded; ``verify`` checks both CRCs
    of every record; ``progress(n)`` is called with the number of bytes consumed by each
    batch; ``digest`` (a ``hashlib`` object) is updated with every byte read, so the file's
    sha256 comes for free. Raises :class:`DataError` on a bad CRC or a truncated file.
    """
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise DataError(f"{path} cannot be opened ({exc.strerror or exc}); check the path") from None
    with f:
        buf = b""
        base = 0  # file offset of buf[0]
        index = 0  # number of records before buf
        eof = False
        while not eof:
            chunk = f.read(chunk_bytes)
            eof = not chunk
            if digest is not None and chunk:
                digest.update(chunk)
            buf = buf + chunk if buf else chunk
            pos = 0
            heads, starts, lens = [], [], []
            end = len(buf)
            while end - pos >= 12:
                length, _ = _HEADER.unpack_from(buf, pos)
                if length > _MAX_RECORD or pos + 12 + length + 4 > end:
                    break
                heads.append(pos)
                starts.append(pos + 12)
                lens.append(length)
                pos += 16 + length
            if verify and heads:
                _verify(path, buf, heads, starts, lens, base, index)
            if eof and pos < end:
                _truncated(path, buf, pos, end, base, index + len(heads), verify)
            records = [buf[s : s + ln] for s, ln in zip(starts, lens)]
            if records or (eof and pos):
                if progress is not None:
                    progress(pos)
                if records:
                    yield records
            index += len(heads)
            base += pos
            buf = buf[pos:]
            if not eof and len(buf) > chunk_bytes and not heads:
                # one record larger than a chunk: read on until it is complete (its length is checked first)
                length, _ = _HEADER.unpack_from(buf, 0)
                if verify:
                    _check_length_crc(path, buf, 0, base, index)
                if length > _MAX_RECORD:
                    raise DataError(f"{path}: record {index} at byte offset {base} claims {length} bytes; {_fix(path)}")
                chunk_bytes = max(chunk_bytes, int(length) + 16)


def _check_length_crc(path: Path, buf: bytes, head: int, base: int, index: int) -> None:
    stored = _FOOTER.unpack_from(buf, head + 8)[0]
    want = masked_crc32c(crc32c(buf[head : head + 8]))
    if stored != want:
        raise DataError(
            f"{path}: record {index} at byte offset {base + head}: the CRC of its length field does not match "
            f"(stored 0x{stored:08x}, computed 0x{want:08x}); {_fix(path)}"
        )


def _verify(path: Path, buf: bytes, heads: list, starts: list, lens: list, base: int, index: int) -> None:
    h = np.asarray(heads, dtype=np.int64)
    s = np.asarray(starts, dtype=np.int64)
    ln = np.asarray(lens, dtype=np.int64)
    arr = np.frombuffer(buf, dtype=np.uint8)
    stored_len = arr[(h + 8)[:, None] + np.arange(4)].copy().view("<u4").ravel()
    stored_data = arr[(s + ln)[:, None] + np.arange(4)].copy().view("<u4").ravel()
    ok_len = masked_crc32c(crc32c_many(buf, h, np.full(len(h), 8))) == stored_len
    ok_data = masked_crc32c(crc32c_many(buf, s, ln)) == stored_data
    if ok_len.all() and ok_data.all():
        return
    i = int(np.flatnonzero(~(ok_len & ok_data))[0])
    if not ok_len[i]:
        _check_length_crc(path, buf, heads[i], base, index + i)
    computed = masked_crc32c(crc32c(buf[starts[i] : starts[i] + lens[i]]))
    raise DataError(
        f"{path}: record {index + i} at byte offset {base + heads[i]} ({lens[i]} data bytes): the data CRC does not "
        f"match (stored 0x{int(stored_data[i]):08x}, computed 0x{computed:08x}); {_fix(path)}"
    )


def _truncated(path: Path, buf: bytes, pos: int, end: int, base: int, index: int, verify: bool) -> None:
    left = end - pos
    if left < 12:
        raise DataError(f"{path} is truncated: {left} stray bytes at byte offset {base + pos} after {index} complete "
                        f"records (a record header needs 12); {_fix(path)}")  # fmt: skip
    if verify:
        _check_length_crc(path, buf, pos, base, index)
    length = _HEADER.unpack_from(buf, pos)[0]
    raise DataError(
        f"{path} is truncated: record {index} at byte offset {base + pos} needs {length + 16} bytes but the file "
        f"ends after {left}; {_fix(path)}"
    )


def iter_records(path: Path, verify: bool = True) -> Iterator[bytes]:
    """Every record of a TFRecord file, in order (see :func:`iter_record_batches`)."""
    for batch in iter_record_batches(path, verify=verify):
        yield from batch


def write_records(path: Path, records: Iterable[bytes], batch: int = 4096) -> int:
    """Write ``records`` as a TFRecord file (TensorFlow's framing, masked CRC-32C);
    returns the number written. The file is written in place: write to a temporary name
    and rename if readers may see it half-written."""
    n = 0
    with open(path, "wb") as f:
        pending: list[bytes] = []

        def flush() -> None:
            if not pending:
                return
            lengths = [len(r) for r in pending]
            heads = b"".join(struct.pack("<Q", ln) for ln in lengths)
            head_crc = masked_crc32c(crc32c_many(heads, np.arange(len(pending)) * 8, np.full(len(pending), 8)))
            joined = b"".join(pending)
            starts = np.cumsum([0] + lengths[:-1])
            data_crc = masked_crc32c(crc32c_many(joined, starts, lengths))
            out = bytearray()
            for i, rec in enumerate(pending):
                out += heads[8 * i : 8 * i + 8]
                out += _FOOTER.pack(int(head_crc[i]))
                out += rec
                out += _FOOTER.pack(int(data_crc[i]))
            f.write(out)
            pending.clear()

        for rec in records:
            pending.append(bytes(rec))
            n += 1
            if len(pending) >= batch:
                flush()
        flush()
    return n
