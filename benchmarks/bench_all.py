"""Run the engine and the scenario benchmark one after the other and print both tables (not a test).

    NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/bench_all.py [--quick]

Each benchmark runs in its own process (so each reports its own peak memory); the machine's
load average is printed before and after, because the 2 cores are shared with other work and
the ratios in each table are only comparable within one run. ``--quick`` skips the national
network of the engine benchmark (OSM rows only) and uses 1 000 zones for the scenario.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    env = {**os.environ, "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(HERE.parent / ".cache" / "numba"))}
    runs = [[sys.executable, str(HERE / "bench_engine.py"), "--workers", "2"] + (["--skip-national"] if quick else []),
            [sys.executable, str(HERE / "bench_scenario.py"), "--method", "all", "--verify"]
            + (["--zones", "1000"] if quick else [])]
    status = 0
    for cmd in runs:
        print(f"\n$ {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}   "
              f"(load {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
              flush=True)
        status |= subprocess.call(cmd, env=env)
    print(f"\nload at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
