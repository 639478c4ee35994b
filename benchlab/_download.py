"""Downloads from pinned public sources, and checks of local source files.

``download`` streams to a temporary sibling, hashes on the way and moves the file into
place only when complete and correct: a failed or interrupted download leaves nothing.
``$BENCHLAB_DOWNLOAD_BASE`` (or ``base_url=``) replaces ``https://raw.githubusercontent.com``
for a mirror or a test server; the rest of the URL stays ``/OWNER/REPO/COMMIT/PATH``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from ._errors import DataError
from ._store import _UMASK
from ._tables import Source

__all__ = [
    "download",
    "download_base",
    "fetch_sources",
    "source_url",
    "sha256_file",
    "check_source_file",
    "DEFAULT_BASE",
    "BASE_ENV",
]

DEFAULT_BASE = "https://raw.githubusercontent.com"
BASE_ENV = "BENCHLAB_DOWNLOAD_BASE"
_CHUNK = 1 << 16
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"


def download_base(base_url: str | None = None) -> str:
    """``base_url``, else ``$BENCHLAB_DOWNLOAD_BASE``, else the GitHub raw host; no trailing slash."""
    base = base_url or os.environ.get(BASE_ENV) or DEFAULT_BASE
    if not base.startswith(("http://", "https://")):
        raise DataError(f"download base {base!r} must be an http:// or https:// URL; fix ${BASE_ENV} or --mirror")
    return base.rstrip("/")


def source_url(src: Source, base_url: str | None = None, **fields) -> str:
    """URL of ``src``'s original (``fields`` fill placeholders such as ``device``)."""
    return f"{download_base(base_url)}/{src.repo}/{src.commit}/{src.path.format(**fields)}"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _temp_sibling(dest: Path) -> Path:
    """A new empty temporary file next to ``dest`` (mode as for an ordinary new file); stale
    temporary files of killed runs are removed first."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.*.part"):
        try:
            stale.unlink()
        except OSError:
            pass
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
    except OSError:
        pass
    finally:
        os.close(fd)
    return Path(name)


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    bar: Callable | None = None,
    timeout: float = 60.0,
    fix: str = "",
) -> Path:
    """Download ``url`` to ``dest`` atomically; check ``sha256`` when given.

    The body is streamed to a temporary sibling of ``dest`` and hashed on the way; only a
    complete file with the expected sha256 is moved into place (``os.replace``). On any
    failure, interruption included, the temporary file is removed and ``dest`` is untouched.
    ``bar(total_bytes_or_None, description)`` may return a progress bar with ``update(n)``
    and ``close()`` (a ``tqdm``). ``fix`` is appended to error messages (what to do instead).
    """
    import urllib.error  # only a download needs the HTTP stack (about 10 ms to import)
    import urllib.request

    dest = Path(dest)
    tail = f"; {fix}" if fix else ""
    tmp = _temp_sibling(dest)
    progress = None
    try:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "benchlab"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                progress = bar(total, dest.name) if bar is not None else None
                h = hashlib.sha256()
                size = 0
                head = b""
                with open(tmp, "wb") as out:
                    while True:
                        block = response.read(_CHUNK)
                        if not block:
                            break
                        out.write(block)
                        h.update(block)
                        if len(head) < len(_LFS_POINTER):
                            head += block[: len(_LFS_POINTER)]
                        size += len(block)
                        if progress is not None:
                            progress.update(len(block))
        except urllib.error.HTTPError as exc:
            raise DataError(f"cannot download {url}: the server answered HTTP {exc.code} {exc.reason}{tail}") from None
        except urllib.error.URLError as exc:
            raise DataError(
                f"cannot download {url} ({exc.reason}): no network, or the host is unreachable; retry when online, "
                f"or set ${BASE_ENV} to a mirror{tail}"
            ) from None
        except (OSError, EOFError, ValueError) as exc:  # timeouts, resets, IncompleteRead
            raise DataError(
                f"download of {url} failed after {tmp.stat().st_size if tmp.exists() else 0} bytes "
                f"({type(exc).__name__}: {exc}); nothing was kept, retry{tail}"
            ) from None
        if total is not None and size != total:
            raise DataError(f"download of {url} is truncated: {size} of {total} bytes; nothing was kept, retry{tail}")
        digest = h.hexdigest()
        if head.startswith(_LFS_POINTER):
            raise DataError(
                f"{url} is a Git LFS pointer, not the file: the repository stores it with Git LFS; download it "
                f"from GitHub's media host yourself{tail}"
            )
        if sha256 and digest != sha256:
            raise DataError(
                f"{url} has sha256 {digest[:16]}..., expected {sha256[:16]}...: the download is corrupt or the file "
                f"changed; nothing was kept, retry{tail}"
            )
        os.replace(tmp, dest)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    finally:
        if progress is not None:
            progress.close()
    return dest


def check_source_file(source_dir: Path, src: Source) -> Path:
    """The local file of ``src`` after checking it exists and has the pinned sha256."""
    path = Path(source_dir) / src.local
    if not path.is_file():
        raise DataError(
            f"{path} is missing: the source folder must hold {src.local} "
            f"(from {src.repo}@{src.commit[:10]}:{src.path}); or build with --download"
        )
    sha = sha256_file(path)
    if sha != src.sha256:
        raise DataError(
            f"{path} has sha256 {sha[:16]}..., expected {src.sha256[:16]}...: the file is truncated, corrupt or "
            f"another version; replace it with {src.url}"
        )
    return path


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
    makes byte progress bars, as in :func:`download`.
    """
    dest_dir = Path(dest_dir)
    say = progress or (lambda msg: None)
    base = download_base(base_url)
    fix = f"or put the files in a folder laid out like ../shared/data and build with `benchlab data build {name} --source DIR`"
    for src in sources:
        if src.derived:
            raise DataError(f"{src.local} is derived from {src.url}; this fetcher only downloads original files")
        target = dest_dir / src.local
        if target.is_file() and sha256_file(target) == src.sha256:
            say(f"{src.local} already downloaded")
            continue
        url = source_url(src, base)
        say(f"downloading {url}")
        download(url, target, sha256=src.sha256, bar=bar, fix=fix)
    return dest_dir
