"""``benchlab proxies``: zero-cost proxies of sampled NB201 cells vs the table's accuracies.

A plug-in command (:data:`PROXIES_COMMAND`), registered by the proxy strategies
(``benchlab.strategies.proxy_search``). It reads the ``nb201`` benchmark through the
registry, by name; building its parser imports neither torch nor scipy.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from pathlib import Path

from benchlab import InvalidConfig
from benchlab.ext import Command

__all__ = ["PROXIES_COMMAND", "add_proxies_parser", "cmd_proxies"]

_DEFAULT_PROXIES = ("params", "flops", "synflow", "snip", "grad_norm", "naswot")


def add_proxies_parser(sub) -> argparse.ArgumentParser:
    """Add ``proxies`` to the top-level sub-parsers ``sub``."""
    p = sub.add_parser(
        "proxies",
        help="zero-cost proxies of sampled NB201 cells and their rank correlation with the table",
        description="Build each sampled cell as a live network, compute zero-cost proxies (params, flops and synflow "
        "on the benchmark's own network; the others on one batch of --data), and print Spearman and Kendall "
        "correlations with the table's 200-epoch validation accuracy. Needs torch and scipy.",
    )
    p.add_argument("--benchmark", default="nb201", help="benchmark (only nb201 is supported; default nb201)")
    p.add_argument("--dataset", default="cifar10-valid", help="table dataset whose accuracy is correlated (default cifar10-valid)")
    p.add_argument("--data", default="digits", help="live data for data-dependent proxies: digits (default), fashion-mnist, ...")
    p.add_argument("--sample", type=int, default=100, help="number of cells sampled uniformly without replacement (default 100)")
    p.add_argument("--proxies", nargs="+", default=list(_DEFAULT_PROXIES), metavar="NAME", help="proxies to compute")
    p.add_argument("--seed", type=int, default=0, help="seed of the cell sample, the data batch and the initial weights")
    p.add_argument("--batch-size", type=int, default=64, help="images in the data batch (default 64)")
    p.add_argument("--C", type=int, default=16, help="network channels (default 16, NB201's)")
    p.add_argument("--N", type=int, default=5, help="cells per stage (default 5, NB201's)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--out", type=Path, default=None, help="folder for scores.csv and correlations.json")
    return p


def _table_of(bench):
    """The table behind a table benchmark (its ``table`` attribute: a table or its name), or None."""
    from benchlab import DataError, open_table

    table = getattr(bench, "table", None)
    if isinstance(table, str):
        try:
            return open_table(table)
        except DataError:
            return None
    return table if hasattr(table, "column") else None


def cmd_proxies(args) -> int:
    """Run ``benchlab proxies``; returns the exit status."""
    import numpy as np

    from benchlab import make_benchmark

    from ._scoring import CellScorer, rank_correlations

    if args.benchmark != "nb201":
        raise InvalidConfig(f"benchlab proxies: benchmark {args.benchmark!r} is not supported; use --benchmark nb201")
    if args.sample < 3:
        raise InvalidConfig(f"--sample {args.sample}: correlations need at least 3 cells")
    bench = make_benchmark("nb201", {"dataset": args.dataset})
    space = bench.space
    rng = np.random.default_rng(args.seed)
    ids = rng.choice(int(space.size), size=min(args.sample, int(space.size)), replace=False)
    archs = [space.from_id(int(i)) for i in ids]
    options = [opts for _, opts in space.choices()]  # the networks take op names per edge
    scorer = CellScorer(args.proxies, bench_dataset=args.dataset, data=args.data, C=args.C, N=args.N,
                        batch_size=args.batch_size, seed=args.seed, device=args.device)  # fmt: skip
    acc_col = f"{args.dataset}/valid_acc@200"
    t0 = time.perf_counter()
    rows = []
    for arch in archs:
        rep = bench.report(arch)
        rows.append({"arch": space.to_str(arch), "accuracy": rep.get(acc_col, math.nan),
                     "table_params": rep.get(f"{args.dataset}/params", math.nan), **scorer.score([opts[v] for opts, v in zip(options, arch)])})  # fmt: skip
    wall = time.perf_counter() - t0
    acc = [r["accuracy"] for r in rows]
    result = {"benchmark": "nb201", "dataset": args.dataset, "accuracy": acc_col, "data": args.data, "sample": len(rows),
              "seed": args.seed, "C": args.C, "N": args.N, "batch_size": args.batch_size, "wall_s": wall,
              "seconds": scorer.seconds, "correlations": {}}  # fmt: skip
    for name in args.proxies:
        result["correlations"][name] = rank_correlations([r[name] for r in rows], acc)
    monet = f"{args.dataset}/score_naswot"
    table = _table_of(bench)
    if table is not None and monet in table:
        col = np.asarray(table.column(monet), dtype=np.float64)
        theirs = [float(col[space.to_id(a)]) for a in archs]
        result["correlations"]["table:score_naswot"] = rank_correlations(theirs, acc)
        if "naswot" in args.proxies:
            result["naswot_vs_table_naswot"] = rank_correlations([r["naswot"] for r in rows], theirs)
    print(f"{len(rows)} NB201 cells, accuracy = {acc_col}; data-dependent proxies on {args.data} "
          f"(batch {args.batch_size}), networks C={args.C} N={args.N}, seed {args.seed}")  # fmt: skip
    print(f"{'proxy':<20} {'spearman':>9} {'kendall':>9} {'n':>5} {'seconds':>9}")
    for name, c in result["correlations"].items():
        secs = scorer.seconds.get(name)
        print(f"{name:<20} {c['spearman']:>9.3f} {c['kendall']:>9.3f} {c['n']:>5} {'' if secs is None else f'{secs:9.1f}':>9}")
    if "naswot_vs_table_naswot" in result:
        c = result["naswot_vs_table_naswot"]
        print(f"naswot vs the table's score_naswot (MONET, on CIFAR inputs): spearman {c['spearman']:.3f}, kendall {c['kendall']:.3f}")
    if "params" in args.proxies and args.C == 16 and args.N == 5:
        same = sum(r["params"] == r["table_params"] for r in rows)
        print(f"params equal to the table's {args.dataset}/params: {same}/{len(rows)}")
        result["params_match_table"] = same
    print(f"({wall:.1f} s)")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "scores.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        (args.out / "correlations.json").write_text(json.dumps(result, indent=2, allow_nan=True) + "\n")
        print(f"wrote {args.out / 'scores.csv'} and {args.out / 'correlations.json'}")
    return 0


#: ``benchlab proxies``: register it with :func:`benchlab.ext.register_command` (the proxy strategies do).
PROXIES_COMMAND = Command("proxies", add_proxies_parser, cmd_proxies, "zero-cost proxies of NB201 cells vs a table")
