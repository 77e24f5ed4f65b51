"""The `regio` command-line program: a thin shell over `centrality` and `geoproc`.

Each sub-area registers its subcommands in its own module (``register(subparsers)``); this module
only dispatches. Every failure goes through :mod:`geoproc.cli.errorpath`: bad input and usage
errors exit 2 with one ``regio: error:`` line, an unexpected exception exits 3 with a short
message and the path of a log file holding the traceback; no raw traceback reaches the console.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from geoproc.cli import errorpath

# Modules that each define ``register(subparsers) -> None``; every subparser sets ``func``.
COMMAND_MODULES = (
    "geoproc.cli.demo_cmd",
    "geoproc.cli.centrality_cmd",
    "geoproc.cli.model_cmd",
    "geoproc.cli.scenario_cmd",
)


class _Parser(argparse.ArgumentParser):
    """argparse with the program's one error format (``regio: error: ...``, exit status 2)."""

    def error(self, message: str):  # noqa: D401 (argparse API)
        where = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(2, f"regio: error: {where}{message} (see '{self.prog} --help').\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``regio`` argument parser with every sub-area's subcommands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog="regio",
        description="Travel-time centrality, the attractiveness model and road scenarios for Norwegian regions.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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
        0 on success, 1 without a command, 2 for bad input (one-line ``regio: error: ...``), 3 for an
        unexpected error (short message + log file), 130/143 when interrupted (see
        :mod:`geoproc.cli.errorpath`).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed as "regio: error: ..."
        return int(exc.code or 0)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    return errorpath.run(lambda: args.func(args), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
