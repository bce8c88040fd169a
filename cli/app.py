"""The command group: every command, gathered from one module per group of commands.

Each command opens what it needs, calls the library once or twice, and prints; `tracechain.cli.main` chooses the
language, turns errors into messages and exit codes. Command modules import the library inside their commands,
not at the top, so that a lookup loads only what it uses (a process starts in tens of milliseconds).
"""

from __future__ import annotations

import click

import tracechain
from tracechain.i18n import LANGUAGES, use_language

from . import demo, events, exchange, keys, labels, publish, reading, scanning, tracing, verifying, witness, writing
from .help import Context

__all__ = ["cli"]


def _language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # main() has already chosen it from the command line; this keeps it chosen when the group is called directly.
    if value is not None:
        use_language(value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(tracechain.__version__, prog_name="tracechain")
def cli() -> None:
    """tracechain: hash-chained, signed traceability events for infant formula, edible oil, liquor, salt and
    veterinary drugs.

    Key passwords come from the TRACECHAIN_PASSWORD environment variable or, on a terminal, a prompt. Exit codes:
    0 done, 1 a check failed or the ledger refused, 2 a usage error, 3 the ledger was busy, 130 interrupted.
    """


def _lang_option(hidden: bool) -> click.Option:
    return click.Option(
        ["--lang"],
        type=click.Choice(LANGUAGES),
        is_eager=True,
        expose_value=False,
        callback=_language,
        hidden=hidden,
        help="Language of messages and help: zh (Chinese) or en (English); default: the locale (LANG, LC_ALL, …).",
    )


def _accept_lang(command: click.Command) -> None:
    """Let ``--lang`` stand after a command's name too (``tracechain log … --lang zh``), as people write it."""
    if not any(p.name == "lang" for p in command.params):
        command.params.append(_lang_option(hidden=True))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_lang(sub)


cli.params.append(_lang_option(hidden=False))
cli.context_class = Context

for module in (keys, writing, reading, verifying, tracing, events, exchange, labels, scanning, publish, witness, demo):
    for command in module.COMMANDS:
        cli.add_command(command)
        _accept_lang(command)
