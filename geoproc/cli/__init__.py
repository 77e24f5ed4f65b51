"""The `regio` command-line program: a thin shell over `centrality` and `geoproc`.

Each sub-area registers its subcommands in its own module (``register(subparsers)``); this module
only dispatches and turns :class:`centrality.errors.InputError` into a clear one-line error
(exit status 2) instead of a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from centrality.errors import InputError

# Modules that each define ``register(subparsers) -> None``; every subparser sets ``func``.
COMMAND_MODULES = (
    "geoproc.cli.demo_cmd",
    "geoproc.cli.centrality_cmd",
    "geoproc.cli.model_cmd",
    "geoproc.cli.scenario_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``regio`` argument parser with every sub-area's subcommands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="regio",
        description="Travel-time centrality, the attractiveness model and road scenarios for Norwegian regions.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # sub-area not present in this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``regio`` with ``argv``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 without a command, 2 for bad input (one-line ``regio: error: ...``), 130 when
        interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        result = args.func(args)
    except InputError as exc:
        print(f"regio: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("regio: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
