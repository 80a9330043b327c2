"""Argument parsing, the error handler and exit codes. Commands live in kfws/commands/, one module
each, and only wire the layers together.

Exit codes: 0 ok / no changes, 1 user-facing error, 2 changes or drift present (with
--detailed-exitcode), 3 a bug in kfws, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import traceback
from collections.abc import Sequence

from kfws import __version__, output
from kfws.commands import COMMANDS
from kfws.errors import KfwsError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kfws",
        description=(
            "Config-as-code for Kubeflow notebook workspaces: build and push the notebook images "
            "declared in workspace.yaml and offer them in the Kubeflow spawner, with a reviewable "
            "plan first."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kfws {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        code: int = args.run(args)
        return code
    except KfwsError as e:
        output.error(e.render())
        return e.exit_code
    except KeyboardInterrupt:
        output.err("interrupted")
        if threading.active_count() > 1:
            # Worker threads blocked on an engine stream would keep the interpreter alive until
            # their build ends (the thread pool joins them at exit): leave now, output flushed.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a bug: say so plainly; the traceback only with --debug
        output.error(f"kfws hit an internal error (a bug): {type(e).__name__}: {e}")
        if args.debug:
            output.err(traceback.format_exc())
        else:
            output.err("  re-run with --debug for the traceback, and please report it")
        return EXIT_BUG
