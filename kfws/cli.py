"""Argument parsing, the error handler and exit codes. Commands live in kfws/commands/, one module
each, and only wire the layers together.

Exit codes: 0 ok / no changes, 1 user-facing error, 2 changes (plan --detailed-exitcode) or
drift present, 3 a bug in kfws, 130 interrupted.
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
from kfws.commands import COMMANDS, command
from kfws.errors import KfwsError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130

# Shown at the end of each subcommand's --help: what a CI script branches on.
EXIT_CODES: dict[str, list[tuple[int, str]]] = {
    "plan": [
        (0, "planned (with --detailed-exitcode: no changes)"),
        (2, "changes to apply (only with --detailed-exitcode)"),
    ],
    "apply": [
        (0, "applied, or nothing to apply"),
        (
            1,
            "error (the message says what, where, and what to do), a saved plan refused "
            "as stale or altered (nothing touched), or the apply cancelled",
        ),
    ],
    "show": [(0, "shown (a stale or altered plan too, with a warning at the top)")],
    "drift": [(0, "no drift"), (2, "drift found")],
    "validate": [
        (0, "every file is valid"),
        (1, "a file is invalid or unreadable (each problem is listed)"),
    ],
}
_COMMON_EXITS = [
    (1, "error: the message says what, where, and what to do"),
    (3, "a bug in kfws (please report it)"),
    (130, "interrupted"),
]


def _exit_codes_text(command: str) -> str:
    own = EXIT_CODES.get(command, [(0, "done")])
    codes = own + [(c, text) for c, text in _COMMON_EXITS if c not in dict(own)]
    return "exit codes:\n" + "\n".join(f"  {c:<4} {text}" for c, text in sorted(codes))


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and epilogs, and shows each option's default (only
    where there is one worth showing: not None, not a False flag)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and "(default" not in text
            and default not in (None, False, argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


def _finish_subparsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Every subcommand's --help gets a description (its one-line help unless it set a longer
    one), its exit codes, and its defaults, without each command module repeating that."""
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name, parser in sub.choices.items():
        parser.formatter_class = HelpFormatter
        if not parser.description and helps.get(name):
            text = str(helps[name])
            parser.description = text[0].upper() + text[1:] + "."
        parser.epilog = _exit_codes_text(name)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, complete; with `only` (the command a run names), only that one's
    arguments: the others get their name and one-line help from the table, which is all
    `kfws --help` and a mistyped command's error show, so a run imports one command module."""
    parser = argparse.ArgumentParser(
        prog="kfws",
        description=(
            "Config-as-code for Kubeflow notebook workspaces: build and push the notebook images "
            "declared in workspace.yaml and offer them in the Kubeflow spawner, with a reviewable "
            "plan first."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kfws {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log kfws's debug details to stderr"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an internal error, and the libraries' log lines",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, entry in COMMANDS.items():
        p = sub.add_parser(name, help=entry.help)
        if only is None or name == only:
            command(name).register(p)
    _finish_subparsers(sub)
    return parser


class _OwnMessagesOnly(logging.Filter):
    """Library log lines (urllib3's "Retrying ..." when the API server is down, the kubernetes
    client's, docker's) are not for the user: kfws reports failures itself, once, clearly."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "kfws" or record.name.startswith("kfws.")


def configure_logging(*, verbose: bool, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not debug:  # --debug shows everything, libraries included
        handler.addFilter(_OwnMessagesOnly())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose or debug else logging.WARNING)
    logging.captureWarnings(True)  # warnings.warn() from libraries goes the same way


def _named_command(argv: Sequence[str]) -> str:
    """The command word of a command line: its first argument that is not an option (kfws's
    own options take no value). What is not a command is left to argparse to refuse."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_named_command(argv))
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose, debug=args.debug)
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
