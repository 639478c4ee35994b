"""One restricted unpickler for every reader of third-party pickles.

Published benchmark files are often pickles (``torch.save`` archives, NATS-Bench ``.pbz2``,
BRP-NAS dicts, pandas frames, the CIFAR batches, AnalogNAS-Bench's ``data.anb``). A bare
``pickle.load`` runs any callable the file names, so benchlab never uses one:
:func:`restricted_load` resolves only the globals its caller lists and refuses every other
one (and every persistent id, unless the caller says what to do with them) before anything
is called. Plain containers, strings, numbers and bytes need no global at all.

    restricted_load(data, {("collections", "OrderedDict")})           # pairs: imported
    restricted_load(data, {("mypkg.data", "Record"): _Record})         # a stand-in object
    restricted_load(data, {("pandas", "Int64Index"): "pandas:Index"})  # an alias, imported lazily

``numpy.core.*`` (how numpy 1 pickles name numpy's internals) is read as ``numpy._core.*``
under numpy 2, so files written by either load without deprecation warnings.
"""

from __future__ import annotations

import importlib
import io
import pickle
from typing import Any, Callable, Iterable, Mapping

__all__ = ["restricted_load"]


def _import_attr(module: str, name: str):
    candidates = [module]
    if module == "numpy.core" or module.startswith("numpy.core."):
        candidates.insert(0, "numpy._core" + module[len("numpy.core") :])
    for mod in candidates:
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"{module}.{name} is not available in this Python environment")


class _Restricted(pickle.Unpickler):
    def __init__(self, file, allowed: dict, fallback, persistent, refuse: str, encoding: str) -> None:
        super().__init__(file, encoding=encoding)
        self._allowed = allowed
        self._fallback = fallback
        self._persistent = persistent
        self._refuse = refuse

    def find_class(self, module, name):
        module = "builtins" if module == "__builtin__" else module
        key = (module, name)
        if key in self._allowed:
            target = self._allowed[key]
            if target is _IMPORT:
                return _import_attr(module, name)
            if isinstance(target, str):
                mod, _, attr = target.partition(":")
                return _import_attr(mod, attr)
            return target
        if self._fallback is not None:
            target = self._fallback(module, name)
            if target is not None:
                return target
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, which {self._refuse}; refusing to load it")

    def persistent_load(self, pid):
        if self._persistent is None:
            raise pickle.UnpicklingError("it holds persistent ids (tensors or storages), which this reader does not allow")
        return self._persistent(pid)


_IMPORT = object()


def _size_of(source: Any) -> int | None:
    """Total size in bytes of a plain binary file object (bytes in memory or an uncompressed
    file on disk), else None."""
    if isinstance(source, io.BytesIO):
        return source.getbuffer().nbytes
    if not isinstance(source, (io.BufferedReader, io.FileIO)):
        return None  # a decompressing stream (bz2, gzip, zip member): its file size is not the stream's
    try:
        import os

        return os.fstat(source.fileno()).st_size
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


class _Bounded:
    """A file wrapper that refuses a read longer than what is left in the file, so a corrupt
    length field (``BINBYTES8`` asking for a TiB) is an error, not an attempt to allocate it."""

    def __init__(self, file: Any, size: int) -> None:
        self._file, self._size = file, size

    def _check(self, n: int) -> None:
        left = self._size - self._file.tell()
        if n is not None and n > left:
            raise pickle.UnpicklingError(
                f"a length of {n:,} bytes exceeds the {max(left, 0):,} bytes left in the file: it is corrupt or truncated"
            )

    def read(self, n: int = -1) -> bytes:
        if n is not None and n >= 0:
            self._check(n)
        return self._file.read(n)

    def readinto(self, buf) -> int:
        self._check(len(buf))
        return self._file.readinto(buf)

    def readline(self, limit: int = -1) -> bytes:
        return self._file.readline(limit)


def restricted_load(
    source: bytes | bytearray | memoryview | Any,
    allowed: Iterable[tuple[str, str]] | Mapping[tuple[str, str], Any] = (),
    *,
    fallback: Callable[[str, str], Any] | None = None,
    persistent: Callable[[Any], Any] | None = None,
    refuse: str = "this reader does not allow",
    encoding: str = "ASCII",
) -> Any:
    """The object pickled in ``source``, resolving only the globals in ``allowed``.

    ``source``: bytes (one pickle) or a readable binary file, from which the next pickle is
    read (files holding a sequence of pickles, like ``torch.save``'s legacy format, are
    read call by call). ``allowed``: ``(module, name)`` pairs resolved by import, or a
    mapping from such pairs to the object to use (a stand-in class, a checking wrapper) or
    to a ``"module:name"`` alias imported when the pickle needs it. ``fallback(module,
    name)``: consulted for any other global, returns the object to use or None to refuse
    (for families of names, such as torch's ``_rebuild_*`` callables). ``persistent(pid)``:
    what a persistent id becomes (default: refused). ``encoding``: how Python 2 ``str``
    objects are decoded (``"latin1"`` for numpy arrays pickled by Python 2).

    A refused global raises ``pickle.UnpicklingError("it refers to MODULE.NAME, which
    <refuse>; refusing to load it")``; malformed data raises what ``pickle`` raises
    (``UnpicklingError``, ``EOFError``, ``ValueError``...): callers turn both into their
    ``DataError``. A length field larger than what is left in the file (a corrupt file asking
    for a TiB) raises ``UnpicklingError`` before anything is allocated.
    """
    if isinstance(allowed, Mapping):
        table = dict(allowed)
    else:
        table = {}
        for pair in allowed:
            module, name = pair
            table[(module, name)] = _IMPORT
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    size = _size_of(source)
    if size is not None:
        source = _Bounded(source, size)
    try:
        return _Restricted(source, table, fallback, persistent, refuse, encoding).load()
    except MemoryError:
        raise pickle.UnpicklingError("it asks for more memory than this machine has: the file is corrupt") from None
