"""sha256 of every ``trials.parquet`` of a fixed set of runs, to prove a refactor changed no result.

Runs, all through the ``benchlab`` command line into a scratch folder:

* the ``make demo`` job (analognas, random search vs regularized evolution, 20 seeds x 300);
* ``benchlab reproduce nb201-table5 --runs 20``;
* one run (seed 0, 40 evaluations) of every registered table benchmark with every
  single-objective strategy that needs no training (tables built from ``--source``).

Prints one ``sha256  relative/path`` line per file, sorted, then the digest of the whole list,
so two lists (before and after a change) compare with ``diff``.

    python scripts/result_hashes.py --source ../shared/data --out hashes.txt
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TABLE_BENCHMARKS = ["analognas", "nb201", "nats-sss", "nas-bench-macro", "channel-bench-macro",
                    "nb101:table=nb101-naslib500"]  # fmt: skip
TABLES = ["nb201", "nats-sss", "nas-bench-macro", "channel-bench-macro", "nb101-naslib500"]


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "benchlab.cli", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def _single_objective_strategies() -> list[str]:
    from benchlab import STRATEGIES

    names = []
    for name in STRATEGIES.names():
        cls = STRATEGIES.get(name)
        tags = cls.tags if isinstance(cls.tags, frozenset) else frozenset()
        if "multi_objective" in tags or "needs_training" in tags or name in ("nsga2", "mo_random_search"):
            continue
        names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="../shared/data", help="folder laid out like ../shared/data")
    ap.add_argument("--out", default=None, help="write the list here too")
    ap.add_argument("--keep", default=None, help="results folder to keep (default: a temporary one)")
    args = ap.parse_args(argv)

    work = Path(args.keep or tempfile.mkdtemp(prefix="benchlab-hashes-"))
    env = dict(os.environ, BENCHLAB_DATA=str(work / "data"))
    root = work / "results"
    failures = []

    def run(*a: str) -> None:
        p = _cli(*a, env=env)
        if p.returncode != 0:
            failures.append(f"{' '.join(a)}: exit {p.returncode}: {p.stderr.strip().splitlines()[-1:]}")

    for t in TABLES:
        run("data", "build", t, "--source", args.source)
    run("run", "--benchmark", "analognas", "--strategies", "random_search", "regularized_evolution",
        "--seeds", "20", "--max-evals", "300", "--name", "demo", "--root", str(root))
    run("reproduce", "nb201-table5", "--runs", "20", "--root", str(root / "table5"))
    strategies = _single_objective_strategies()
    for b in TABLE_BENCHMARKS:
        label = b.split(":")[0] + ("-" + b.split("=")[1] if "=" in b else "")
        run("run", "--benchmark", f"{b}@{label}", "--strategies", *strategies, "--seeds", "1",
            "--max-evals", "40", "--name", f"all-{label}", "--root", str(root))

    lines = []
    for path in sorted(root.rglob("trials.parquet")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(root).as_posix()}")
    text = "\n".join(lines) + "\n"
    total = hashlib.sha256(text.encode()).hexdigest()
    sys.stdout.write(text)
    print(f"# {len(lines)} files, strategies: {' '.join(strategies)}")
    print(f"# digest of the list: {total}")
    for f in failures:
        print(f"# command failed: {f}")
    if args.out:
        Path(args.out).write_text(text + f"# digest {total}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
