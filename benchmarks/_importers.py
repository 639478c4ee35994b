"""Importers of official benchmark files (``benchlab data import FORMAT PATH``)."""

from __future__ import annotations

from pathlib import Path

from benchlab.ext import DataError, Importer, register_importer

__all__: list[str] = []


def _no_full(fmt: str, full) -> None:
    if full is not None:
        raise DataError(f"--full is for nb101 (nasbench_full.tfrecord); drop it for {fmt}")


def _nb201(path: Path, *, root, name=None, progress=None, bar=None, curves=True, full=None) -> Path:
    from .nb201 import import_nb201_pth

    _no_full("nb201", full)
    return import_nb201_pth(path, root=root, curves=curves, progress=progress, **({"name": name} if name else {}))


def _nats(space: str):
    def run(path: Path, *, root, name=None, progress=None, bar=None, curves=True, full=None) -> Path:
        from .nb201 import import_nats

        _no_full(f"nats-{space}", full)
        return import_nats(path, space, name=name, root=root, curves=curves, progress=progress)

    return run


def _nb101(path: Path, *, root, name=None, progress=None, bar=None, curves=True, full=None) -> Path:
    from .nb101 import import_nb101

    return import_nb101(path, full, root=root, progress=progress, bar=bar, **({"name": name} if name else {}))


register_importer(Importer("nb201", "official NAS-Bench-201-v1_{0,1}-*.pth (needs torch and nas-bench-201)", _nb201))
register_importer(Importer("nats-tss", "NATS-Bench topology archive (needs nats_bench)", _nats("tss")))
register_importer(Importer("nats-sss", "NATS-Bench size archive (needs nats_bench)", _nats("sss")))
register_importer(Importer("nb101", "nasbench_only108.tfrecord [--full nasbench_full.tfrecord] (no extra package)", _nb101))
