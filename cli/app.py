"""The command group: every command, gathered from one module per group of commands.

Each command opens what it needs, calls the library once or twice, and prints; `tracechain.cli.main` turns
errors into messages and exit codes.
"""

from __future__ import annotations

import click

import tracechain

from . import demo, events, keys, labels, publish, reading, scanning, tracing, verifying, witness, writing

__all__ = ["cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(tracechain.__version__, prog_name="tracechain")
def cli() -> None:
    """tracechain: hash-chained, signed traceability events for infant formula, edible oil, liquor, salt and
    veterinary drugs.

    Key passwords come from the TRACECHAIN_PASSWORD environment variable or, on a terminal, a prompt.
    Exit codes: 0 success, 1 a verification or validation failure, 2 a usage error.
    """


for module in (keys, writing, reading, verifying, tracing, events, labels, scanning, publish, witness, demo):
    for command in module.COMMANDS:
        cli.add_command(command)
