"""``benchlab data build | list | info | verify | import``: benchlab's table store from the command line.

Tables live in ``<data dir>/tables/<name>/`` and downloads in ``<data dir>/downloads/``,
where the data dir is ``--root``, else ``$BENCHLAB_DATA``, else ``~/.cache/benchlab``.
Table builders register themselves when the ``benchmarks`` package is imported; this
module imports it lazily, only for the ``data`` commands.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import json
import sys
import time
from pathlib import Path

from .._errors import BenchlabError, DataError, UnknownName

__all__ = ["add_data_parser", "cmd_data"]

_EPILOG_BUILD = """\
examples:
  benchlab data build nb201 --source ../shared/data     # from a folder of the public files
  benchlab data build nb201 --download                  # fetch the pinned originals first
  benchlab data build all --source ../shared/data       # every table whose sources are there

A source folder is laid out like ../shared/data (nb201/nb201_test_200ep_mean.csv, ...).
Every source file is checked against its pinned sha256 before anything is written, and a
table is written atomically: a failed build leaves the previous table as it was.
Downloads go to ROOT/downloads (plain files by sha256; derived files are converted from
the originals, kept in ROOT/downloads/originals); $BENCHLAB_DOWNLOAD_BASE or --mirror
replaces https://raw.githubusercontent.com.
"""


def _root_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="data folder: tables go to DIR/tables, downloads to DIR/downloads "
        "(default: $BENCHLAB_DATA, else ~/.cache/benchlab)",
    )


def add_data_parser(sub) -> argparse.ArgumentParser:
    """Add ``data`` and its sub-commands to the top-level sub-parsers ``sub``."""
    d = sub.add_parser(
        "data",
        help="build, list, describe and verify benchmark tables",
        description="Manage benchlab's benchmark tables: build them from public source files "
        "(a local folder or a download), list them, show what they hold, verify their files.",
    )
    dsub = d.add_subparsers(dest="data_command", metavar="SUBCOMMAND", parser_class=type(d), required=True)

    b = dsub.add_parser(
        "build",
        help="build a table from a source folder or a download",
        description="Build table NAME (or all) from public source files, checked against pinned sha256.",
        epilog=_EPILOG_BUILD,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("name", metavar="NAME", help="table name (see `benchlab data list`), or all")
    how = b.add_mutually_exclusive_group(required=True)
    how.add_argument("--source", type=Path, metavar="DIR", help="folder laid out like ../shared/data")
    how.add_argument("--download", action="store_true", help="download the pinned originals into ROOT/downloads first")
    _root_arg(b)
    b.add_argument("--mirror", metavar="URL", default=None, help="download from URL/OWNER/REPO/COMMIT/PATH instead of GitHub")
    b.add_argument("--quiet", "-q", action="store_true", help="no step log, no progress bar")

    lst = dsub.add_parser("list", help="list every known table: built or not, size, rows, columns",
                          description="List the registered tables and those built in ROOT/tables.")  # fmt: skip
    _root_arg(lst)

    info = dsub.add_parser(
        "info",
        help="show a table's metadata: columns, optima, provenance",
        description="Show what a built table holds: space, rows, datasets, every column with its dataset, "
        "split, metric, unit, fidelity, shape and optimum, and the provenance of its sources.",
    )
    info.add_argument("name", metavar="NAME", help="table name")
    _root_arg(info)
    info.add_argument("--json", action="store_true", help="print meta.json as it is stored")

    ver = dsub.add_parser(
        "verify",
        help="re-hash every column file against meta.json",
        description="Re-hash every column file of a table against the sha256 recorded in its meta.json. "
        "Exit status 1 when a problem is found.",
    )
    ver.add_argument("name", metavar="NAME", help="table name, or all (every built table)")
    _root_arg(ver)

    imp = dsub.add_parser(
        "import",
        help="import an official NAS-Bench-201 .pth, NATS-Bench archive or NAS-Bench-101 .tfrecord into a table",
        description="Import an official benchmark file you have: every seed and the full learning curves. "
        "nb201: NAS-Bench-201-v1_0-e61699.pth or NAS-Bench-201-v1_1-096897.pth (needs torch and nas-bench-201); "
        "nats-tss / nats-sss: a NATS-{tss,sss}-v1_0-*-simple (or -full) folder or the single NATS-*.pickle.pbz2 "
        "file (needs nats_bench). Install both with: pip install 'benchlab[import]'. "
        "nb101: nasbench_only108.tfrecord, optionally --full nasbench_full.tfrecord (no extra package needed).",
    )
    imp.add_argument("format", metavar="FORMAT",
                     help="the file's format: an importer name (built in: nb201, nats-tss, nats-sss, nb101; plug-ins add more)")  # fmt: skip
    imp.add_argument("path", type=Path, metavar="PATH",
                     help="the .pth file, archive folder or .pickle.pbz2 file; nb101: nasbench_only108.tfrecord")  # fmt: skip
    imp.add_argument("--name", default=None,
                     help="table name (default: nb201-official, nats-tss-official, nats-sss-official, nb101)")  # fmt: skip
    imp.add_argument("--full", type=Path, default=None, metavar="FILE",
                     help="nb101 only: also read nasbench_full.tfrecord for the 4/12/36-epoch budgets")  # fmt: skip
    imp.add_argument("--no-curves", action="store_true", help="skip the per-epoch learning-curve columns (~1 GB)")
    _root_arg(imp)
    imp.add_argument("--quiet", "-q", action="store_true", help="no step log")
    return d


# --------------------------------------------------------------------------- helpers


def _data_root(args) -> Path:
    from .._paths import data_dir

    return Path(args.root).expanduser() if args.root is not None else data_dir()


def _builders() -> dict:
    """Registered table builders (importing the ``benchmarks`` package registers them)."""
    from .._registry import BENCHMARKS
    from .._tables import TABLE_BUILDERS

    BENCHMARKS.names()
    return TABLE_BUILDERS


def _unknown(name: str, known: list[str]) -> UnknownName:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return UnknownName(
        f"unknown table {name!r}: {hint}run `benchlab data list` to see the {len(known)} known ones "
        f"({', '.join(sorted(known)) or 'none'})"
    )


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} GiB"  # pragma: no cover


def _folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    return sum(p.stat().st_size for p in files), len(files)


def _print_rows(rows: list[list[str]], indent: str = "  ") -> None:
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    for r in rows:
        print(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _num(x) -> str:
    return "-" if x is None else f"{x:.6g}"


# --------------------------------------------------------------------------- build


def _step_logger(quiet: bool):
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if not quiet:
            print(f"  [{time.perf_counter() - t0:6.1f} s] {msg}", flush=True)

    return say


def _tqdm_bar(quiet: bool):
    from tqdm.auto import tqdm

    def bar(total, desc):
        return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False,
                    file=sys.stderr, disable=quiet, dynamic_ncols=True)  # fmt: skip

    return bar


def _build_one(builder, source_dir: Path, tables: Path, quiet: bool) -> Path:
    from .._tables import open_table

    t0 = time.perf_counter()
    say = _step_logger(quiet)
    print(f"building {builder.name} from {source_dir}", flush=True)
    folder = Path(builder.build(source_dir, tables, say))
    table = open_table(builder.name, tables)
    size, _ = _folder_size(folder)
    print(
        f"built {builder.name}: {table.n_rows} rows, {len(table.columns)} columns, {_size(size)} "
        f"in {folder} ({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    return folder


def _download_one(builder, root: Path, args) -> Path:
    if builder.fetch is None:
        raise DataError(
            f"table {builder.name} cannot be downloaded by benchlab: supply its source files and build with "
            f"`benchlab data build {builder.name} --source DIR`"
        )
    downloads = root / "downloads"
    params = inspect.signature(builder.fetch).parameters
    kwargs = {}
    if "bar" in params:
        kwargs["bar"] = _tqdm_bar(args.quiet)
    if args.mirror is not None:
        if "base_url" not in params:
            raise DataError(f"the {builder.name} downloader does not take --mirror; drop it or use --source DIR")
        kwargs["base_url"] = args.mirror
    print(f"downloading the sources of {builder.name} into {downloads}", flush=True)
    t0 = time.perf_counter()
    builder.fetch(downloads, _step_logger(args.quiet), **kwargs)
    print(f"downloaded the sources of {builder.name} ({time.perf_counter() - t0:.1f} s)", flush=True)
    return downloads


def _sources_missing(builder, source_dir: Path) -> list[str]:
    return [s.local for s in builder.sources if not (source_dir / s.local).is_file()]


def _cmd_build(args) -> int:
    builders = _builders()
    root = _data_root(args)
    tables = root / "tables"
    if args.source is not None:
        source_dir = Path(args.source).expanduser()
        if not source_dir.is_dir():
            raise DataError(
                f"source folder {source_dir} does not exist or is not a folder: give a folder laid out like "
                f"../shared/data (nb201/..., nb101/...), or build with --download"
            )
    if args.name != "all":
        builder = builders.get(args.name)
        if builder is None:
            raise _unknown(args.name, list(builders))
        src = _download_one(builder, root, args) if args.download else source_dir
        _build_one(builder, src, tables, args.quiet)
        _hint_root(args)
        return 0

    built, failed, skipped = [], [], []
    for name in sorted(builders):
        builder = builders[name]
        if args.download:
            if builder.fetch is None:
                skipped.append(f"{name} (cannot be downloaded: build it with --source DIR)")
                continue
        else:
            missing = _sources_missing(builder, source_dir)
            if missing:
                skipped.append(f"{name} ({len(missing)} of {len(builder.sources)} source files missing, e.g. {missing[0]})")
                continue
        try:
            src = _download_one(builder, root, args) if args.download else source_dir
            _build_one(builder, src, tables, args.quiet)
            built.append(name)
        except BenchlabError as exc:
            print(f"benchlab: error: {exc}", file=sys.stderr, flush=True)
            failed.append(name)
    for s in skipped:
        print(f"skipped {s}")
    if not built and not failed:
        where = "downloadable" if args.download else f"with all their sources in {source_dir}"
        raise DataError(f"no table is {where}; `benchlab data list` shows the known tables")
    print(f"{len(built)} built, {len(failed)} failed, {len(skipped)} skipped")
    if built:
        _hint_root(args)
    return 1 if failed else 0


def _hint_root(args) -> None:
    from .._paths import data_dir

    if args.root is not None and Path(args.root).expanduser().resolve() != data_dir().resolve():
        print(f"note: benchmarks read tables from {data_dir()}; set BENCHLAB_DATA={args.root} to use these")


# --------------------------------------------------------------------------- list, info, verify


def _cmd_list(args) -> int:
    from .._tables import list_tables, open_table

    builders = _builders()
    tables = _data_root(args) / "tables"
    names = sorted(set(builders) | set(list_tables(tables)))
    print(f"tables in {tables}:")
    if not names:
        print("  none known")
        return 0
    rows = [["NAME", "STATUS", "ROWS", "COLUMNS", "SIZE", "DESCRIPTION"]]
    for name in names:
        desc = builders[name].description if name in builders else "(no builder registered)"
        if len(desc) > 72:
            desc = desc[:71] + "…"
        folder = tables / name
        if not (folder / "meta.json").is_file():
            rows.append([name, "not built", "-", "-", "-", desc])
            continue
        size, _ = _folder_size(folder)
        try:
            t = open_table(name, tables)
            rows.append([name, "built", str(t.n_rows), str(len(t.columns)), _size(size), desc])
        except DataError:
            rows.append([name, "unreadable", "-", "-", _size(size), desc])
    _print_rows(rows)
    if any(r[1] == "not built" for r in rows[1:]):
        print("build one with `benchlab data build NAME --source DIR` or `--download`")
    if any(r[1] == "unreadable" for r in rows[1:]):
        print("an unreadable table has a corrupt meta.json: rebuild it with `benchlab data build NAME`")
    return 0


def _known_or_built(name: str, tables: Path) -> None:
    from .._tables import list_tables

    builders = _builders()
    if name not in builders and not (tables / name / "meta.json").is_file():
        raise _unknown(name, sorted(set(builders) | set(list_tables(tables))))


def _cmd_info(args) -> int:
    from .._tables import open_table

    tables = _data_root(args) / "tables"
    _known_or_built(args.name, tables)
    t = open_table(args.name, tables)
    meta = t.meta
    if args.json:
        print(json.dumps(meta, indent=1, sort_keys=True))
        return 0
    size, nfiles = _folder_size(t.folder)
    print(f"table {t.name}  ({t.folder})")
    fields = [
        ("format", meta.get("format", "")),
        ("space", meta.get("space", "")),
        ("rows", f"{t.n_rows}"),
        ("row order", meta.get("row_order", "")),
        ("datasets", ", ".join(meta.get("datasets", [])) or "-"),
        ("builder", meta.get("builder", "")),
        ("size", f"{_size(size)} in {nfiles} files"),
    ]
    for k, v in fields:
        if v:
            print(f"  {k + ':':<11}{v}")
    optimum = meta.get("optimum", {})
    print(f"columns ({len(t.columns)}):")
    rows = [["NAME", "DATASET", "SPLIT", "METRIC", "UNIT", "FIDELITY", "SHAPE", "DTYPE", "MIN", "MAX"]]
    for name, c in meta["columns"].items():
        opt = optimum.get(name, {})
        fid = c.get("fidelity")
        rows.append([
            name, c.get("dataset") or "-", c.get("split") or "-", c.get("metric") or "-", c.get("unit") or "-",
            "-" if fid is None else str(fid), "x".join(str(s) for s in c.get("shape", [t.n_rows])),
            c.get("dtype", ""), _num(opt.get("min")), _num(opt.get("max")),
        ])  # fmt: skip
    _print_rows(rows)
    prov = meta.get("provenance", [])
    print(f"provenance ({len(prov)} sources):")
    for p in prov:
        derived = " (derived: converted from the original)" if p.get("derived") else ""
        print(f"  {p.get('key', '')}: {p.get('repo')}@{p.get('commit')}:{p.get('path')}{derived}")
        print(f"      file     {p.get('local', '')}")
        print(f"      sha256   {p.get('sha256', '')}")
        if p.get("values_sha256"):
            print(f"      values   {p['values_sha256']} (sha256 of the float64 values)")
        print(f"      license  {p.get('license', '') or 'unknown'}")
        if p.get("url"):
            print(f"      url      {p['url']}")
    return 0


def _cmd_verify(args) -> int:
    from .._tables import list_tables, open_table

    tables = _data_root(args) / "tables"
    if args.name == "all":
        names = list_tables(tables)
        if not names:
            print(f"no table is built in {tables}: nothing to verify")
            return 0
    else:
        _known_or_built(args.name, tables)
        names = [args.name]
    bad = 0
    for name in names:
        try:
            t = open_table(name, tables)
            problems = t.verify()
        except DataError as exc:
            if args.name != "all":
                raise
            problems = [str(exc)]
            t = None
        if not problems:
            size, _ = _folder_size(t.folder)
            print(f"{name}: OK ({len(t.columns)} column files re-hashed, {_size(size)})")
            continue
        bad += 1
        print(f"{name}: {len(problems)} problem(s)")
        for p in problems:
            print(f"  {p}")
        print(f"  fix: rebuild with `benchlab data build {name} --source DIR` or `--download`")
    return 1 if bad else 0


def _cmd_import(args) -> int:
    from .._registry import IMPORTERS
    from .._tables import open_table

    importer = IMPORTERS.get(args.format)
    tables = _data_root(args) / "tables"
    t0 = time.perf_counter()
    path = Path(args.path).expanduser()
    full = Path(args.full).expanduser() if args.full is not None else None
    print(f"importing {path} ({args.format})", flush=True)
    folder = Path(importer.run(path, root=tables, name=args.name, progress=_step_logger(args.quiet),
                               bar=_tqdm_bar(args.quiet), curves=not args.no_curves, full=full))  # fmt: skip
    t = open_table(folder.name, tables)
    size, _ = _folder_size(folder)
    if "n_present" in t.meta:
        what = f"{t.meta.get('n_present')} of {t.n_rows} architectures with results"
    else:
        what = f"{t.n_rows} cells, epochs {t.meta.get('epochs')}, " + (
            "complete" if t.meta.get("complete", True) else "INCOMPLETE (not every cell and run)")
    print(f"imported {t.name}: {what}, {len(t.columns)} columns, {_size(size)} in {folder} "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)  # fmt: skip
    _hint_root(args)
    return 0


def cmd_data(args) -> int:
    """Run ``benchlab data SUBCOMMAND``."""
    handlers = {"build": _cmd_build, "list": _cmd_list, "info": _cmd_info, "verify": _cmd_verify, "import": _cmd_import}
    try:
        return handlers[args.data_command](args)
    except KeyboardInterrupt:
        print(
            "benchlab: interrupted; no partial file or table was left behind: re-run the same command "
            "(finished downloads are reused)",
            file=sys.stderr,
        )
        return 130
