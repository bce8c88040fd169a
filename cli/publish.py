"""`tracechain publish`: write a ledger as a C2SP tlog-tiles folder for a static web server."""

from __future__ import annotations

import json

import click

from tracechain.publish import publish as publish_ledger

from .common import InputFile


@click.command()
@click.argument("ledger", type=InputFile())
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def publish(ledger: str, directory: str, as_json: bool) -> None:
    """Publish LEDGER at its newest checkpoint into DIRECTORY (checkpoint, tiles, entry bundles); incremental."""
    result = publish_ledger(ledger, directory)
    if as_json:
        fields = ("size", "previous_size", "tiles_written", "bundles_written")
        click.echo(json.dumps({name: getattr(result, name) for name in fields}))
        return
    click.echo(
        f"published {result.size} entries to {directory} (was {result.previous_size}):"
        f" {result.tiles_written} tiles and {result.bundles_written} entry bundles written"
    )


COMMANDS = [publish]
