"""The official NAS-Bench-101 ``ModelMetrics`` protobuf, decoded and encoded by hand.

Schema (google-research/nasbench @ 45a33c5f86c869db711eb93b23563aa2346f0f9a :
``nasbench/lib/model_metrics.proto``, proto2, package ``nasbench``)::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;
      optional double training_time = 2;        // seconds, training only
      optional double train_accuracy = 3;       // fixed 10,000 training images
      optional double validation_accuracy = 4;  // held-out 10,000 images
      optional double test_accuracy = 5;        // the 10,000 test images
      optional string checkpoint_path = 6;
    }

Wire format (protobuf encoding guide): a field is a varint key ``(number << 3) | wire
type``; doubles are wire type 1 (8 bytes little-endian), int32 wire type 0 (varint; a
negative value takes 10 bytes, two's complement of 64 bits), messages and strings wire
type 2 (varint length, then the bytes). Unknown fields are skipped as the protobuf
runtime does; absent optional fields take the proto2 defaults (0, 0.0, "").

Each record of the official ``.tfrecord`` files is the UTF-8 JSON list ``[module_hash,
epochs, raw_adjacency, raw_operations, raw_metrics]`` (nasbench/api.py, ``NASBench.__init__``):
``module_hash`` the 32-hex MD5 of the cell, ``epochs`` the training budget (4, 12, 36,
108), ``raw_adjacency`` the pruned adjacency matrix as a string of ``n*n`` characters
``0``/``1`` (row-major), ``raw_operations`` the ``n`` vertex labels joined by commas
(``input,...,output``) and ``raw_metrics`` the base64 of a serialised ``ModelMetrics`` of ONE
training run: ``evaluation_data[0]`` at initialisation, ``[1]`` halfway, ``[2]`` at the end
of training. :func:`parse_row` and :func:`format_row` read and write that list.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass, field

__all__ = [
    "SCHEMA_SOURCE",
    "EvaluationData",
    "ModelMetrics",
    "decode_model_metrics",
    "encode_model_metrics",
    "format_row",
    "parse_row",
    "run_values",
]

SCHEMA_SOURCE = "google-research/nasbench@45a33c5f86c869db711eb93b23563aa2346f0f9a:nasbench/lib/model_metrics.proto"

_DOUBLE = struct.Struct("<d")
_EVAL_FIELDS = ("current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy")


@dataclass(frozen=True)
class EvaluationData:
    """One evaluation of a training run (``EvaluationData``; accuracies are fractions)."""

    current_epoch: float = 0.0
    training_time: float = 0.0
    train_accuracy: float = 0.0
    validation_accuracy: float = 0.0
    test_accuracy: float = 0.0
    checkpoint_path: str = ""


@dataclass(frozen=True)
class ModelMetrics:
    """One training run of a cell (``ModelMetrics``)."""

    evaluation_data: tuple = field(default_factory=tuple)
    trainable_parameters: int = 0
    total_time: float = 0.0


class _Bad(Exception):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise _Bad("a varint runs past the end")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Bad("a varint is longer than 10 bytes")


def _skip(buf: bytes, pos: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos)[1]
    if wire == 1:
        return pos + 8
    if wire == 2:
        n, pos = _varint(buf, pos)
        return pos + n
    if wire == 5:
        return pos + 4
    raise _Bad(f"wire type {wire} (groups are not used by ModelMetrics)")


def _double(buf: bytes, pos: int, wire: int, name: str) -> tuple[float, int]:
    if wire != 1:
        raise _Bad(f"{name} has wire type {wire}, expected 1 (double)")
    if pos + 8 > len(buf):
        raise _Bad(f"{name} runs past the end")
    return _DOUBLE.unpack_from(buf, pos)[0], pos + 8


def _eval(buf: bytes, pos: int, end: int) -> EvaluationData:
    values = [0.0, 0.0, 0.0, 0.0, 0.0]
    path = ""
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if 1 <= number <= 5:
            values[number - 1], pos = _double(buf, pos, wire, _EVAL_FIELDS[number - 1])
        elif number == 6:
            if wire != 2:
                raise _Bad(f"checkpoint_path has wire type {wire}, expected 2 (string)")
            n, pos = _varint(buf, pos)
            if pos + n > end:
                raise _Bad("checkpoint_path runs past the end")
            path = buf[pos : pos + n].decode("utf-8")
            pos += n
        else:
            pos = _skip(buf, pos, wire)
    if pos != end:
        raise _Bad("an EvaluationData field runs past the end of its message")
    return EvaluationData(*values, path)


def decode_model_metrics(data: bytes) -> ModelMetrics:
    """Parse a serialised ``ModelMetrics``; raises ``ValueError`` on malformed input."""
    buf = bytes(data)
    evals = []
    params = 0
    total = 0.0
    pos, end = 0, len(buf)
    try:
        while pos < end:
            key, pos = _varint(buf, pos)
            number, wire = key >> 3, key & 7
            if number == 1:
                if wire != 2:
                    raise _Bad(f"evaluation_data has wire type {wire}, expected 2 (message)")
                n, pos = _varint(buf, pos)
                if pos + n > end:
                    raise _Bad("an evaluation_data message runs past the end")
                evals.append(_eval(buf, pos, pos + n))
                pos += n
            elif number == 2:
                if wire != 0:
                    raise _Bad(f"trainable_parameters has wire type {wire}, expected 0 (varint)")
                v, pos = _varint(buf, pos)
                v &= 0xFFFFFFFFFFFFFFFF
                if v >= 1 << 63:
                    v -= 1 << 64
                params = ((v + (1 << 31)) % (1 << 32)) - (1 << 31)  # int32, as the protobuf runtime truncates
            elif number == 3:
                total, pos = _double(buf, pos, wire, "total_time")
            else:
                pos = _skip(buf, pos, wire)
        if pos != end:
            raise _Bad("the last field runs past the end")
    except (_Bad, UnicodeDecodeError, struct.error) as exc:
        raise ValueError(f"not a valid ModelMetrics message: {exc}") from None
    return ModelMetrics(tuple(evals), params, total)


# The layout the protobuf runtime writes for three EvaluationData with the five doubles set
# and no checkpoint path: three times (key 0x0a, length 45, five times key + 8 bytes).
_EVAL3 = struct.Struct("<" + ("2x" + "Bd" * 5) * 3)
_EVAL3_KEYS = (0x09, 0x11, 0x19, 0x21, 0x29) * 3
_EVAL3_HEAD = b"\x0a\x2d"


def run_values(data: bytes) -> tuple[int, tuple, tuple]:
    """``(trainable_parameters, halfway, final)`` of one run, each of ``halfway``/``final``
    being ``(train_accuracy, validation_accuracy, test_accuracy, training_time)`` of
    ``evaluation_data[1]`` / ``[2]`` (what the official API reads).

    A fast path unpacks the runtime's usual layout in one ``struct`` call; anything else
    (another field order, checkpoint paths, unknown fields) goes through
    :func:`decode_model_metrics`, with identical results. Raises ``ValueError`` on
    malformed input or fewer than 3 evaluations.
    """
    if (len(data) > _EVAL3.size and data[0:2] == _EVAL3_HEAD and data[47:49] == _EVAL3_HEAD
            and data[94:96] == _EVAL3_HEAD):  # fmt: skip
        v = _EVAL3.unpack_from(data, 0)
        if v[0::2] == _EVAL3_KEYS:
            params, _total, ok = _tail(data, _EVAL3.size)
            if ok:
                # evaluation i: current_epoch, training_time, train, valid, test at v[10 i + 1, 3, 5, 7, 9]
                return params, (v[15], v[17], v[19], v[13]), (v[25], v[27], v[29], v[23])
    m = decode_model_metrics(data)
    if len(m.evaluation_data) < 3:
        raise ValueError(f"{len(m.evaluation_data)} evaluations in the metrics, the official files hold 3 (start, "
                         "halfway, end of training)")  # fmt: skip
    h, f = m.evaluation_data[1], m.evaluation_data[2]
    return (m.trainable_parameters, (h.train_accuracy, h.validation_accuracy, h.test_accuracy, h.training_time),
            (f.train_accuracy, f.validation_accuracy, f.test_accuracy, f.training_time))  # fmt: skip


def _tail(buf: bytes, pos: int) -> tuple[int, float, bool]:
    """``trainable_parameters`` then ``total_time`` exactly once each, nothing else."""
    try:
        if buf[pos] != 0x10:
            return 0, 0.0, False
        v, pos = _varint(buf, pos + 1)
        if pos + 9 != len(buf) or buf[pos] != 0x19:
            return 0, 0.0, False
    except _Bad:
        return 0, 0.0, False
    v &= 0xFFFFFFFFFFFFFFFF
    if v >= 1 << 63:
        v -= 1 << 64
    return ((v + (1 << 31)) % (1 << 32)) - (1 << 31), _DOUBLE.unpack_from(buf, pos + 1)[0], True


def _key(number: int, wire: int) -> bytes:
    return _encode_varint((number << 3) | wire)


def _encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_model_metrics(metrics: ModelMetrics) -> bytes:
    """Serialise ``metrics`` as the protobuf runtime does: fields in number order, every
    field written (proto2 optional fields that were set)."""
    out = bytearray()
    for ev in metrics.evaluation_data:
        body = bytearray()
        for i, name in enumerate(_EVAL_FIELDS, start=1):
            body += _key(i, 1) + _DOUBLE.pack(float(getattr(ev, name)))
        if ev.checkpoint_path:
            raw = ev.checkpoint_path.encode("utf-8")
            body += _key(6, 2) + _encode_varint(len(raw)) + raw
        out += _key(1, 2) + _encode_varint(len(body)) + body
    out += _key(2, 0) + _encode_varint(int(metrics.trainable_parameters))
    out += _key(3, 1) + _DOUBLE.pack(float(metrics.total_time))
    return bytes(out)


def parse_row(record: bytes) -> tuple[str, int, str, str, ModelMetrics]:
    """One record of an official file: ``(module_hash, epochs, raw_adjacency,
    raw_operations, ModelMetrics)``. Raises ``ValueError`` on bad input (the caller
    names the file and the record's offset)."""
    try:
        row = json.loads(record)
        module_hash, epochs, adjacency, operations, raw = row
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a NAS-Bench-101 row (a JSON list of 5 items expected): {exc}") from None
    if not (isinstance(module_hash, str) and isinstance(epochs, int) and isinstance(adjacency, str)
            and isinstance(operations, str) and isinstance(raw, str)):  # fmt: skip
        raise ValueError("not a NAS-Bench-101 row: expected [str hash, int epochs, str adjacency, str ops, str metrics]")
    try:
        blob = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the metrics are not valid base64 ({exc})") from None
    return module_hash, epochs, adjacency, operations, decode_model_metrics(blob)


def format_row(module_hash: str, epochs: int, matrix, ops, metrics: ModelMetrics) -> bytes:
    """The record the official files hold for one training run (inverse of :func:`parse_row`):
    ``matrix`` an n x n 0/1 nested sequence, ``ops`` the n labels (``input``...``output``)."""
    adjacency = "".join(str(int(v)) for row in matrix for v in row)
    raw = base64.b64encode(encode_model_metrics(metrics)).decode("ascii")
    return json.dumps([module_hash, int(epochs), adjacency, ",".join(ops), raw]).encode("utf-8")
