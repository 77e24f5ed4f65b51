"""`regio demo`: the whole centrality chain on the embedded SYNTHETIC region, in seconds.

A thin shell over :func:`geoproc.demo.run_demo` (the steps, outputs and what the data are are
documented there): parse the options, run the demo, print the summary and the files.
"""
from __future__ import annotations

import argparse

from centrality.pipeline import print_summary
from geoproc.cli.centrality_cmd import _positive_int, progress_bar
from geoproc.demo import BANNER, STEPS, place_lines, run_demo, step_scenarios


def cmd_demo(args: argparse.Namespace) -> int:
    """``regio demo``: run the steps, print the summary, the town centres and the files.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    steps = [s for s in STEPS if not (args.skip_scenario and s[1] is step_scenarios)]
    ctx = run_demo(args.out, workers=args.workers, seed=args.seed, steps=steps, progress=progress_bar)
    print()
    print_summary(ctx.result)
    print("\n" + "\n".join(place_lines(ctx)))
    print("\nfiles:")
    for path in ctx.written:
        print(f"  {path}")
    print("\n" + BANNER)
    return 0


def register(subparsers) -> None:
    """Add ``demo`` to the ``regio`` subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``regio`` subcommand registry.
    """
    p = subparsers.add_parser("demo", help="run the whole chain on a generated SYNTHETIC region (seconds)",
                              description="Generate the synthetic demo region, compute centrality, write a "
                                          "GeoPackage, tables and a map. The data are SYNTHETIC.")
    p.add_argument("--out", default="demo_out", metavar="DIR", help="output folder (default demo_out)")
    p.add_argument("--workers", type=_positive_int, metavar="N", help="threads for the travel times (default: the cores)")
    p.add_argument("--seed", type=int, default=None, help="seed of the synthetic region (default 20240101)")
    p.add_argument("--skip-scenario", action="store_true", help="leave out the road-scenario step (faster)")
    p.set_defaults(func=cmd_demo)
