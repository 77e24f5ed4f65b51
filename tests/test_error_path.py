"""One error path (issue 13): exit 2 with one line for foreseeable failures, exit 3 with a log file
for bugs, no raw traceback on the console, warnings as log lines."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from geoproc.cli import errorpath, main

REPO = Path(__file__).resolve().parents[1]


def test_usage_errors_are_one_line_exit_2(capsys):
    assert main(["centrality", "--cutoff", "x"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["regio: error: centrality: argument --cutoff: invalid float value: 'x' "
                                        "(see 'regio centrality --help')."]
    assert main(["nosuchcommand"]) == 2
    assert capsys.readouterr().err.startswith("regio: error: argument COMMAND: invalid choice: 'nosuchcommand'")


def test_unexpected_exception_exit_3_with_log(tmp_path, monkeypatch, capsys):
    from geoproc.cli import centrality_cmd

    def bug(args):
        raise ZeroDivisionError("division by zero in the kernel")

    monkeypatch.setattr(centrality_cmd, "cmd_od", bug)
    monkeypatch.setenv("REGIO_LOG_DIR", str(tmp_path / "logs"))
    parser_args = ["od", "--network", "n.gpkg", "--zones", "z.gpkg", "--out", str(tmp_path / "od.csv")]
    from geoproc import cli

    real = cli.build_parser

    def patched():
        parser = real()
        for action in parser._subparsers._group_actions[0].choices.values():
            if action.prog.endswith(" od"):
                action.set_defaults(func=bug)
        return parser

    monkeypatch.setattr(cli, "build_parser", patched)
    assert main(parser_args) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "regio: internal error: ZeroDivisionError: division by zero in the kernel"
    assert err[1].startswith("regio: this is a bug, not a problem with your input. The traceback is in ")
    log = Path(err[1].split("The traceback is in ")[1].split(". Please")[0])
    assert log.parent == tmp_path / "logs" and log.is_file()
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "ZeroDivisionError" in text and "command: regio od" in text
    assert len(err) == 2


def test_no_traceback_on_console_in_a_real_process(tmp_path):
    """A subprocess whose command raises a bug: exit 3, two lines, the traceback only in the log."""
    code = ("import sys; from geoproc import cli; from geoproc.cli import centrality_cmd\n"
            "def bug(args): raise KeyError('oops')\n"
            "centrality_cmd.cmd_network_build = bug\n"
            "real = cli.build_parser\n"
            "def patched():\n"
            "    p = real()\n"
            "    p._subparsers._group_actions[0].choices['network']._subparsers._group_actions[0].choices['build']"
            ".set_defaults(func=bug)\n"
            "    return p\n"
            "cli.build_parser = patched\n"
            "sys.exit(cli.main(['network', 'build', '--network', 'x.gpkg']))\n")
    env = {**os.environ, "REGIO_LOG_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.splitlines()[0] == "regio: internal error: KeyError: 'oops'"
    assert len(list(tmp_path.glob("regio-crash-*.log"))) == 1


def test_warnings_are_log_lines_not_raw_userwarnings(tmp_path):
    code = ("import logging, sys, warnings; from geoproc.cli import errorpath\n"
            "logging.basicConfig(format='%(levelname)s: %(message)s')\n"
            "def cmd():\n"
            "    warnings.warn('Mean of empty slice', RuntimeWarning)\n"
            "    return 0\n"
            "sys.exit(errorpath.run(cmd, []))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr.strip() == "WARNING: Mean of empty slice"


def test_crash_log_falls_back_to_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIO_LOG_DIR", "/sys/regio-logs")
    path = errorpath.write_crash_log(RuntimeError("x"), ["demo"])
    try:
        assert path.is_file() and "RuntimeError: x" in path.read_text()
    finally:
        path.unlink()
