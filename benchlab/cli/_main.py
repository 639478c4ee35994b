"""``benchlab run | report | plot | query | list``."""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

from .._errors import BenchlabError, InvalidConfig
from ._data import add_data_parser, cmd_data

__all__ = ["main", "build_parser"]

_EPILOG_RUN = """\
examples:
  benchlab run --benchmark analognas --strategies random_search regularized_evolution \\
      --seeds 20 --max-evals 300 --name demo
  benchlab run --benchmark analognas:objective=analog_accuracy \\
      --strategies regularized_evolution:population_size=20,sample_size=5@re20 --seeds 5 --max-evals 500

Strategy and benchmark specs read NAME[:key=value,...][@LABEL]; values are parsed as JSON
(numbers, true/false, lists) or kept as strings. Results go to
ROOT/NAME/<benchmark>/<strategy label>/seed-<k>/ (spec.json, trials.parquet, summary.json).
Re-running the same command skips finished runs and completes the missing ones; a second
`benchlab run` on the same experiment is refused while the first holds it, and finished runs
scored against another version of the benchmark's table are refused (each run records the
table's fingerprint). Names and labels are single folder names (letters, digits, _ . = + -).
`benchlab run study.toml` runs an experiment file instead: benchmarks x strategies x seeds
under one [budget] (see benchlab/_config.py); each benchmark folder is then its own
experiment for `benchlab report` (ROOT/NAME/<benchmark label>).
"""

# Flags an experiment file replaces (run FILE rejects them); defaults are filled in _cmd_run.
_RUN_DEFAULTS = {
    "benchmark": "analognas",
    "strategies": ["random_search", "regularized_evolution"],
    "seeds": 20,
    "seed": 0,
    "max_evals": None,
    "max_seconds": None,
    "workers": 1,
    "name": "default",
    "sync": False,
    "run_timeout": None,
}


def _int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_nonneg_int = _int_at_least(0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line that names the fix, not a usage dump."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


_BUILTIN_COMMANDS = ("run", "report", "plot", "list", "query", "data", "reproduce")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="benchlab",
        description="Fast, reproducible NAS research: run search strategies on tabular benchmarks, "
        "repeat seeds on a simulated clock, and report regret curves and tables.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "run",
        help="run strategies x seeds on a benchmark and store every trajectory",
        description="Run every strategy for --seeds repetitions on one benchmark, store the results, "
        "then write the summary table and regret plot.",
        epilog=_EPILOG_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "file", nargs="?", type=Path, default=None, help="experiment file (TOML); replaces --benchmark, --strategies, ..."
    )
    p.add_argument("--benchmark", "-b", default=None, help="benchmark spec NAME[:key=value,...] (default: analognas)")
    p.add_argument(
        "--strategies",
        "-s",
        nargs="+",
        default=None,
        metavar="SPEC",
        help="strategy specs NAME[:key=value,...][@LABEL] (default: random_search regularized_evolution)",
    )
    p.add_argument("--seeds", "-n", type=_positive_int, default=None, help="repetitions per strategy (default: 20)")
    p.add_argument("--seed", type=_nonneg_int, default=None, help="master seed of the experiment (default: 0)")
    p.add_argument("--max-evals", type=_positive_int, default=None, help="evaluations per run")
    p.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=None,
        help="simulated seconds per run (benchmark cost units; NB201 protocol: 12000)",
    )
    p.add_argument("--workers", type=_positive_int, default=None, help="simulated parallel workers per run (default: 1)")
    p.add_argument(
        "--sync",
        action="store_const",
        const=True,
        default=None,
        help="simulated workers run synchronous batches: the next N trials start when all N finished",
    )
    p.add_argument(
        "--max-failures",
        type=_positive_int,
        default=None,
        help="start no new run once N runs have failed (default: unlimited)",
    )
    p.add_argument(
        "--run-timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="wall-clock limit per run: a run still going after it is stopped and recorded as failed "
        "(--executor inprocess or process; default: none)",
    )
    p.add_argument("--name", default=None, help="experiment name: the folder under --root (default: default)")
    p.add_argument("--root", type=Path, default=Path("results"), help="results root folder (default: ./results)")
    p.add_argument(
        "--executor",
        choices=["inprocess", "process", "dask"],
        default="inprocess",
        help="where runs execute: this process, a process pool, or a Dask cluster (identical files either way)",
    )
    p.add_argument(
        "--jobs", "-j", type=_positive_int, default=None, help="processes for --executor process or a local dask cluster (default: all cores)"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="--executor dask: address of a running scheduler, e.g. tcp://host:8786 (default: a local cluster of --jobs "
        "workers); its workers write the results, so --root must be on a filesystem they share",
    )
    p.add_argument("--no-report", action="store_true", help="skip writing the summary table and plot")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    for name, helptext in (("report", "write the summary table (CSV, Markdown) and regret plot of an experiment"), ("plot", "alias of report")):
        r = sub.add_parser(name, help=helptext, description="Read an experiment folder and write summary.csv, summary.md and regret.png.")
        r.add_argument("folder", type=Path, help="experiment folder, e.g. results/demo")
        r.add_argument("--out", type=Path, default=None, help="output folder (default: the experiment folder)")
        r.add_argument("--x", choices=["eval", "time"], default="eval", help="x axis: evaluations or simulated time (default: eval)")
        r.add_argument(
            "--stat", choices=["mean_se", "median_iqr"], default="mean_se", help="band: mean ± standard error or median + IQR"
        )
        r.add_argument("--linear-x", action="store_true", help="linear x axis (default: log)")
        r.add_argument("--log-y", action="store_true", help="log y axis")
        r.add_argument(
            "--html",
            action="store_true",
            help="also write report.html (self-contained: plots embedded, Friedman test, CD diagram) and report.md",
        )

    q = sub.add_parser(
        "query",
        help="look up architectures in a benchmark (visible metrics and report)",
        description="Print what a strategy would see for each architecture, and its report (test) metrics.",
    )
    q.add_argument("benchmark", help="benchmark spec NAME[:key=value,...]")
    q.add_argument("archs", nargs="+", metavar="ARCH", help="official architecture strings, or benchlab integer ids")

    rp = sub.add_parser(
        "reproduce",
        help="reproduce a paper table (e.g. nb201-table5) and print it beside the paper's",
        description="Run a paper's exact protocol for every registered strategy it lists, then print our table "
        "beside the paper's with the differences and write CSV, Markdown and a plot.",
    )
    rp.add_argument("protocol", help="protocol name, e.g. nb201-table5")
    rp.add_argument("--runs", type=_positive_int, default=None, help="runs per strategy (default: the paper's)")
    rp.add_argument("--seed", type=_nonneg_int, default=0, help="master seed (default: 0)")
    rp.add_argument("--root", type=Path, default=Path("results"), help="results root folder (default: ./results)")
    rp.add_argument("--executor", choices=["inprocess", "process"], default="inprocess", help="where runs execute")
    rp.add_argument("--jobs", "-j", type=_positive_int, default=None, help="processes for --executor process")
    rp.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    rp.add_argument("--table", default=None, help="table to run on (nb201-table5: default nb201; nb201-official after an import)")
    rp.add_argument(
        "--seed-mode", choices=["mean", "one"], default=None, help="nb201-table5: reward from the seed mean or one drawn seed"
    )

    lst = sub.add_parser("list", help="list registered strategies and benchmarks", description="List what is registered.")
    lst.add_argument("what", nargs="?", choices=["strategies", "benchmarks", "all"], default="all")
    add_data_parser(sub)
    from .._registry import COMMANDS

    for command in COMMANDS.values():  # plug-in commands (e.g. `live`, `proxies`)
        if command.name in _BUILTIN_COMMANDS:
            raise InvalidConfig(f"a plug-in command may not be named {command.name!r}: that is a built-in command")
        command.add_parser(sub)
    return parser


def _version() -> str:
    from .. import __version__

    return f"benchlab {__version__}"


def _params(cls) -> str:
    sig = inspect.signature(cls.__init__)
    out = []
    for p in list(sig.parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(out)


def _cmd_list(args) -> int:
    from .._registry import BENCHMARKS, STRATEGIES

    for title, reg in (("strategies", STRATEGIES), ("benchmarks", BENCHMARKS)):
        if args.what not in (title, "all"):
            continue
        print(f"{title}:")
        descriptions = reg.describe()
        width = max((len(n) for n in descriptions), default=0)
        for n, d in descriptions.items():
            print(f"  {n:<{width}}  {d}")
            params = _params(reg.get(n))
            if params:
                print(f"  {'':<{width}}  parameters: {params}")
    return 0


def _cmd_run(args) -> int:
    from .._experiment import Experiment, StrategyConfig, _parse_component, run_experiment

    given = [k for k in _RUN_DEFAULTS if getattr(args, k) is not None]
    if args.file is not None:
        if given:
            keys = {
                "benchmark": "[[benchmark]]",
                "strategies": "[[strategy]]",
                "seeds": "repeats",
                "max_evals": "budget.max_evaluations",
                "max_seconds": "budget.max_seconds",
                "workers": "budget.n_workers",
                "sync": "budget.sync",
                "run_timeout": "budget.run_timeout",
            }
            flags = ", ".join(f"--{k.replace('_', '-')} ({keys.get(k, k)})" for k in given)
            raise InvalidConfig(f"{args.file} is an experiment file: set {flags} in it instead of on the command line")
        from .._config import load_experiment_file

        experiments = load_experiment_file(args.file, root=args.root)
    else:
        for k, v in _RUN_DEFAULTS.items():
            if getattr(args, k) is None:
                setattr(args, k, v)
        bname, bkwargs, blabel = _parse_component(args.benchmark)
        if args.max_evals is None and args.max_seconds is None:
            raise InvalidConfig("give a budget: --max-evals N and/or --max-seconds S")
        experiments = [
            Experiment(
                name=args.name,
                benchmark=bname,
                benchmark_kwargs=bkwargs,
                benchmark_label=blabel,
                strategies=tuple(StrategyConfig.parse(s) for s in args.strategies),
                repeats=args.seeds,
                seed=args.seed,
                max_evaluations=args.max_evals,
                max_seconds=args.max_seconds,
                n_workers=args.workers,
                sync=args.sync,
                run_timeout=args.run_timeout,
                root=args.root,
            )
        ]
    failures: list[dict] = []
    not_started = []
    for exp in experiments:
        left = None if args.max_failures is None else args.max_failures - len(failures)
        if left is not None and left <= 0:
            not_started.append(exp.bench_folder)
            continue

        def on_result(status: dict) -> None:
            if status["status"] != "ok":
                failures.append(status)

        t0 = time.perf_counter()
        counts = run_experiment(
            exp,
            executor=args.executor,
            jobs=args.jobs,
            scheduler=args.scheduler,
            progress=not args.quiet,
            on_result=on_result,
            max_failures=left,
        )
        elapsed = time.perf_counter() - t0
        not_run = f", {counts['not_run']} not run (--max-failures)" if counts.get("not_run") else ""
        print(
            f"{exp.experiment_folder}: {counts['done']} runs done, {counts['skipped']} already finished, "
            f"{counts['failed']} failed{not_run} ({elapsed:.1f} s)"
        )
        if not args.no_report:
            _report(exp.experiment_folder, None, "eval", "mean_se", True, False)
    if not_started:
        print(f"stopped after {len(failures)} failed runs (--max-failures): not started: {', '.join(not_started)}")
    if failures:
        print(f"{len(failures)} failed runs (error and traceback in each summary.json; fix the cause and re-run to redo them):")
        for status in failures:
            print(f"  {status['run_dir']}: {status.get('error')}")
    return 1 if failures else 0


def _report(folder, out, x, stat, logx, logy, html: bool = False) -> None:
    from .._experiment import mixed_tables
    from ..analysis import report

    mixed = mixed_tables(folder)
    if mixed:
        versions = ", ".join(f"{n} runs against {fp}" for fp, n in sorted(mixed.items()))
        print(
            f"benchlab: warning: {folder} mixes runs scored against different versions of the table ({versions}); "
            "its averages are not comparable: redo the experiment under a new --name",
            file=sys.stderr,
        )
    formats = ("csv", "md", "png", "html") if html else ("csv", "md", "png")
    result = report(folder, out=out, x=x, stat=stat, logx=logx, logy=logy, formats=formats)
    table = result.get("markdown_text")
    if table:
        print(table)
    for key in ("csv", "markdown", "plot", "html"):
        if result.get(key):
            print(f"wrote {result[key]}")


def _cmd_query(args) -> int:
    import json

    from .._experiment import _parse_component
    from .._runner import make_benchmark

    import numpy as np

    from .._errors import InvalidArchitecture

    name, kwargs, _ = _parse_component(args.benchmark)
    bench = make_benchmark(name, kwargs)
    space = bench.space
    rng = np.random.default_rng(0)  # benchmarks that draw one training seed per query (seed_mode=one) draw from it
    for text in args.archs:
        try:
            arch = space.from_id(int(text)) if text.isascii() and text.isdigit() else space.from_str(text)
        except BenchlabError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise InvalidArchitecture(
                f"{text!r} is not an architecture of {name} ({type(exc).__name__}: {exc}); give an official string or an integer id"
            ) from None
        ev = bench.evaluate(arch, rng=rng)
        row = {
            "arch": space.to_str(arch),
            "id": space.to_id(arch),
            "visible": dict(ev.metrics),
            "visible_split": bench.visible_split,
            "cost": ev.cost,
            "report": bench.report(arch),
        }
        print(json.dumps(row, indent=2))
    return 0


def _cmd_reproduce(args) -> int:
    from .._protocols import get_protocol

    protocol = get_protocol(args.protocol)
    t0 = time.perf_counter()
    result = protocol.run(
        runs=args.runs or protocol.default_runs,
        root=args.root,
        executor=args.executor,
        jobs=args.jobs,
        progress=not args.quiet,
        seed=args.seed,
        **{k: v for k, v in (("table", args.table), ("seed_mode", args.seed_mode)) if v is not None},
    )
    print(result["text"])
    for key in ("csv", "markdown", "plot"):
        if result.get(key):
            print(f"wrote {result[key]}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


def _cmd_report(args) -> int:
    _report(args.folder, args.out, args.x, args.stat, not args.linear_x, args.log_y, html=args.html)
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _on_sigterm(signum, frame):
    raise _Terminated


def _os_error(exc: OSError) -> str:
    """One line for an operating-system error (disk full, read-only or unwritable folder)."""
    import errno

    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device writing{where}; free some space or choose another --root (finished runs are kept)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write{where} ({exc.strerror}); choose a writable folder, e.g. --root ~/benchlab-results"
    return f"{exc.strerror or exc}{':' if where else ''}{where}; check the path and its permissions (--root)"


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {"run": _cmd_run, "report": _cmd_report, "plot": _cmd_report, "list": _cmd_list, "query": _cmd_query, "data": cmd_data, "reproduce": _cmd_reproduce}
    if args.command not in handlers:
        from .._registry import COMMANDS

        handlers[args.command] = COMMANDS.get(args.command).run
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return handlers[args.command](args)
    except BenchlabError as exc:
        print(f"benchlab: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # `benchlab ... | head`
            sys.stderr.close()
            return 0
        print(f"benchlab: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("benchlab: error: out of memory (a file asked for more memory than this machine has: is it corrupt?)", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(
            "benchlab: interrupted; finished runs are kept, re-run the same command to complete the missing ones",
            file=sys.stderr,
        )
        return 143 if isinstance(exc, _Terminated) else 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
