from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from kfws import __version__
from kfws.cli import _named_command, build_parser, configure_logging, main
from kfws.errors import KfwsError


def test_version_flag_prints_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"kfws {__version__}"


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    assert "usage: kfws" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kfws", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "workspace" in proc.stdout


def _subcommands(only: str | None = None) -> dict[str, argparse.ArgumentParser]:
    parser = build_parser(only)
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_subcommand_help_has_a_description_exit_codes_and_defaults(name: str) -> None:
    text = _subcommands()[name].format_help()
    description = text.split("\n\n")[1]
    assert description[0].isupper() and not description.startswith(("usage", "positional"))
    assert "exit codes:" in text and "  0 " in text and "  3 " in text
    assert "(default: None)" not in text and "(default: False)" not in text


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_a_run_builds_only_its_own_command_and_helps_read_the_same(name: str) -> None:
    """A run registers only the command it names (kfws.cli.main), so it imports one command
    module; `kfws --help` and the command's own --help read as with every command built."""
    assert build_parser(name).format_help() == build_parser().format_help()
    assert _subcommands(name)[name].format_help() == _subcommands()[name].format_help()
    assert build_parser("").format_help() == build_parser().format_help()


def test_a_command_imports_no_other_command_module(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from kfws.cli import main\n"
        "assert main(['init', '-f', 'w.yaml']) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('kfws.commands')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert proc.stdout.splitlines()[-1] == "['kfws.commands', 'kfws.commands.init']"
    assert (tmp_path / "w.yaml").is_file()


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["plan", "--offline"], "plan"),
        (["-v", "--debug", "apply", "plan.json"], "apply"),
        (["--help"], ""),
        (["--", "drift"], "drift"),
        ([], ""),
    ],
)
def test_the_command_word_is_the_first_argument_that_is_not_an_option(
    argv: list[str], command: str
) -> None:
    assert _named_command(argv) == command


def test_timeouts_and_parallelism_show_their_defaults_and_fit_the_command() -> None:
    commands = _subcommands()
    apply_help = " ".join(commands["apply"].format_help().split())
    assert "seconds to wait for the apply lock (default: 60.0)" in apply_help
    assert "seconds to wait for the web app (default: 300.0)" in apply_help
    assert "registry lookups, builds and pushes at once" in apply_help
    plan_help = " ".join(commands["plan"].format_help().split())
    assert "--parallelism PARALLELISM registry lookups at once (default" in plan_help
    for name in ("plan", "apply", "drift", "show"):
        assert "--namespace" in commands[name].format_help()


@pytest.mark.usefixtures("restore_logging")
def test_library_log_lines_stay_off_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(verbose=False, debug=False)
    logging.getLogger("urllib3.connectionpool").warning("Retrying (Retry(total=2)) ...")
    logging.getLogger("kfws.observe").warning("kfws's own warning")
    err = capsys.readouterr().err
    assert "Retrying" not in err and "kfws's own warning" in err
    configure_logging(verbose=False, debug=True)
    logging.getLogger("urllib3.connectionpool").warning("Retrying again")
    assert "Retrying again" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("where", "message", "shown"),
    [
        ("registry r:5000", "registry r:5000 requires a login", "registry r:5000 requires a login"),
        ("configmap/kf/cm", "configmap/kf/cm is missing", "configmap/kf/cm is missing"),
        ("plan.json", "cannot read the plan", "plan.json: cannot read the plan"),
    ],
)
def test_errors_name_their_subject_once(where: str, message: str, shown: str) -> None:
    assert KfwsError(message, where=where, hint="h").render() == f"{shown}\n  hint: h"


def test_error_text_from_outside_is_neutralised(capsys: pytest.CaptureFixture[str]) -> None:
    from kfws import output

    output.error("registry said: \x1b[2J\x1b]0;owned\x07 nope\u202e")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err and "nope\\u202e" in err
