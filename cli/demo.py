"""The demo command: tracechain end to end on a small formula supply chain."""

from __future__ import annotations

from pathlib import Path

import click

from .common import command_line


@click.command()
@click.option(
    "--dir",
    "directory",
    default="demo-ledger",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the demo's ledger, keys and checkpoint (replaced if it holds an earlier demo).",
)
def demo(directory: str) -> None:
    """Run tracechain end to end on a small formula supply chain and say what happened.

    It ends with commands to try next, written so that they run as printed in this shell.
    """
    from tracechain._demo import run_demo

    for line in run_demo(Path(directory), program=command_line()):
        click.echo(line)


COMMANDS = [demo]
