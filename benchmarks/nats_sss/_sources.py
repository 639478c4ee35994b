"""Public sources of the NATS-Bench size-space table, and a fetcher for original files.

The three CSV files are byte-identical to their originals in vilhess/MONET (no
conversion): ``--download`` fetches them from the pinned commit and checks the sha256.
See :class:`benchlab._tables.Source` for the meaning of each field.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Iterable

from benchlab import DataError
from benchlab._tables import Source

__all__ = ["SOURCES", "fetch_sources"]

_MONET = ("vilhess/MONET", "fc27444dd8311882e4ad0f9c1159622445a413ef")

SOURCES = {
    s.key: s
    for s in (
        Source("cifar10", "nats-sss/nats_sss_cifar10.csv", *_MONET, "benchmark_scores/Cifar10-NATS.csv",
               "96983219294bc264d01df9534deba04e99a0acddc337e4651c72cee6799322db", "no license file"),
        Source("cifar100", "nats-sss/nats_sss_cifar100.csv", *_MONET, "benchmark_scores/Cifar100-NATS.csv",
               "ca6f73356f2deabf9ab919e320a63e4ffa2c91a110e08abf9bf49062fe6de806", "no license file"),
        Source("ImageNet16-120", "nats-sss/nats_sss_ImageNet16-120.csv", *_MONET, "benchmark_scores/ImageNet-NATS.csv",
               "8a0cfdfa164ba6718789c9dc900a6aefa7965282586aff8a7de9768e5ff2af64", "no license file"),
    )
}  # fmt: skip


def fetch_sources(
    name: str,
    sources: Iterable[Source],
    dest_dir: Path,
    progress: Callable[[str], None] | None = None,
    *,
    base_url: str | None = None,
    bar: Callable | None = None,
) -> Path:
    """Download the original (not derived) ``sources`` of table ``name`` into ``dest_dir``.

    Files land in the ``--source`` layout (``dest_dir/<Source.local>``, the layout of
    ``../shared/data``), each streamed to a temporary file, checked against its pinned
    sha256 and only then moved into place; files already there with the right sha256 are
    kept. ``base_url`` (or ``$BENCHLAB_DOWNLOAD_BASE``) replaces the GitHub raw host, ``bar``
    makes byte progress bars, as in :func:`benchlab._download.download`.
    """
    from benchlab._download import download, download_base, source_url

    dest_dir = Path(dest_dir)
    say = progress or (lambda msg: None)
    base = download_base(base_url)
    fix = f"or put the files in a folder laid out like ../shared/data and build with `benchlab data build {name} --source DIR`"
    for src in sources:
        if src.derived:
            raise DataError(f"{src.local} is derived from {src.url}; this fetcher only downloads original files")
        target = dest_dir / src.local
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == src.sha256:
            say(f"{src.local} already downloaded")
            continue
        url = source_url(src, base)
        say(f"downloading {url}")
        download(url, target, sha256=src.sha256, bar=bar, fix=fix)
    return dest_dir
