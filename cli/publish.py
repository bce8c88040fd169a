"""`tracechain publish` writes a ledger as a C2SP tlog-tiles folder for a static web server; `tracechain mirror`
copies a published log into a local ledger and keeps it up to date."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from tracechain.i18n import gettext as _

from .common import InputFile, LedgerLocation


@click.command()
@click.argument("ledger", type=InputFile())
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def publish(ledger: str, directory: str, as_json: bool) -> None:
    """Publish LEDGER at its newest checkpoint into DIRECTORY (checkpoint, tiles, entry bundles); incremental."""
    from tracechain.publish import publish as publish_ledger

    result = publish_ledger(ledger, directory)
    if as_json:
        fields = ("size", "previous_size", "tiles_written", "bundles_written")
        click.echo(json.dumps({name: getattr(result, name) for name in fields}))
        return
    click.echo(
        _(
            "published {size} entries to {folder} (was {previous}): {tiles} tiles and {bundles} entry bundles written"
        ).format(
            size=result.size,
            folder=directory,
            previous=result.previous_size,
            tiles=result.tiles_written,
            bundles=result.bundles_written,
        )
    )


class _MirrorTarget(click.ParamType[str, Any]):
    """The mirror's ledger file: made if missing; if it exists, a regular, readable file (a folder, pipe or device
    is a usage error naming it, never opened)."""

    name = "ledger"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        path = str(value)
        if not os.path.lexists(path):
            return path
        return InputFile().convert(path, param, ctx)


@click.command()
@click.argument("source", type=LedgerLocation())
@click.argument("ledger", type=_MirrorTarget())
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def mirror(source: str, ledger: str, as_json: bool) -> None:
    """Copy the published log SOURCE (a folder or http(s) URL) into the ledger file LEDGER, made if missing; run
    again to append what is new.

    The copy holds the source's entries byte for byte and is a ledger like any other. A source that contradicts
    what LEDGER already holds — fewer entries, or another past — is refused with both checkpoints as evidence
    (exit 1), and LEDGER is left as it was.
    """
    from tracechain.mirror import mirror as mirror_log

    result = mirror_log(source, ledger)
    if as_json:
        fields = ("size", "previous_size", "appended")
        click.echo(json.dumps({name: getattr(result, name) for name in fields}))
        return
    click.echo(
        _("mirrored {source} into {ledger}: {appended} entries appended, size {size}").format(
            source=source, ledger=ledger, appended=result.appended, size=result.size
        )
    )


COMMANDS = [publish, mirror]
