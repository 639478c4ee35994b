"""``benchlab live export``: turn live training records into a benchlab table.

A plug-in command (:data:`LIVE_COMMAND`), registered by the live benchmarks
(``benchlab.benchmarks.live``). Building its parser imports neither torch nor the trainer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchlab.ext import Command

__all__ = ["LIVE_COMMAND", "add_live_parser", "cmd_live"]

_EPILOG = """\
examples:
  benchlab run --benchmark 'nb201-live:dataset=digits,C=4,N=1,epochs=[1,2]' --seeds 2 --max-evals 8 --name live
  benchlab live export results/live --name my-nb201-digits
  benchlab data info my-nb201-digits

SOURCE is a results folder of runs on a live benchmark (their summary.json names the
cache folder), a live cache folder (<data dir>/live/<benchmark>-<hash>, holding
config.json), or use --benchmark SPEC to name the configuration directly.
"""


def add_live_parser(sub) -> argparse.ArgumentParser:
    """Add ``live`` and its sub-commands to the top-level sub-parsers ``sub``."""
    p = sub.add_parser(
        "live",
        help="live training: export cached trainings as a table",
        description="Work with the records of live benchmarks (nb201-live, nb101-live).",
    )
    lsub = p.add_subparsers(dest="live_command", metavar="SUBCOMMAND", parser_class=type(p), required=True)
    e = lsub.add_parser(
        "export",
        help="write the finished trainings of one live configuration as a benchlab table",
        description="Gather the training records of one live benchmark configuration into a table of the store "
        "(one row per architecture; accuracies, times and costs per epochs budget, means over seeds).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("source", nargs="?", type=Path, default=None, help="results folder or live cache folder")
    e.add_argument(
        "--benchmark",
        "-b",
        default=None,
        metavar="SPEC",
        help="live benchmark spec NAME[:key=value,...] instead of SOURCE",
    )
    e.add_argument("--name", required=True, help="name of the table to write")
    e.add_argument("--root", type=Path, default=None, help="tables folder (default: <data dir>/tables)")
    return p


def cmd_live(args) -> int:
    """Run ``benchlab live SUBCOMMAND``; returns the exit status."""
    from benchlab import InvalidConfig, StrategyConfig, make_benchmark, open_table

    from ._benchmark import LiveBenchmark
    from ._export import export_table

    if args.live_command != "export":  # pragma: no cover - argparse enforces the choices
        raise InvalidConfig(f"unknown live command {args.live_command!r}")
    if (args.source is None) == (args.benchmark is None):
        raise InvalidConfig("benchlab live export: give either SOURCE (a results or cache folder) or --benchmark SPEC")
    if args.benchmark is not None:
        spec = StrategyConfig.parse(args.benchmark)  # the NAME[:key=value,...] grammar of every component
        source = make_benchmark(spec.name, spec.kwargs, cache=False)
        if not isinstance(source, LiveBenchmark):
            raise InvalidConfig(f"benchlab live export: {spec.name!r} is not a live benchmark (nb201-live, nb101-live)")
    else:
        source = args.source
    folder = export_table(source, args.name, root=args.root)
    table = open_table(args.name, root=args.root)
    print(f"wrote table {args.name!r}: {table.n_rows} architectures, {len(table.columns)} columns -> {folder}")
    return 0


#: ``benchlab live``: register it with :func:`benchlab.ext.register_command` (the live benchmarks do).
LIVE_COMMAND = Command("live", add_live_parser, cmd_live, "live training: export cached trainings as a table")
