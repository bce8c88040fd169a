"""Commands that write to a ledger: create it, append events, sign checkpoints, rebuild projections.

Every write says so when it has to wait more than a second for another program's write to finish
(`common.waiting_said`), instead of waiting up to a minute in silence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tracechain.i18n import N_, ngettext
from tracechain.i18n import gettext as _
from tracechain.storage import PROJECTIONS

from .common import InputFile, load_key, uscc, waiting_said
from .events import PRODUCT_CODES, read_events, utf8_lines, with_product

if TYPE_CHECKING:
    from tracechain.ingest import IngestResult

NOTHING_LANDED = N_("interrupted: no events are in the ledger yet; run the same command again to append them")

APPEND_BATCH = 10_000


@click.command()
@click.argument("ledger", type=click.Path(dir_okay=False), help="The ledger file to create.")
@click.option("--origin", required=True, help="The ledger's unique name, e.g. example.cn/formula-2026.")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
@click.option("--actor", required=True, help="The operator's Unified Social Credit Code (统一社会信用代码).")
def init(ledger: str, origin: str, key_path: str, actor: str) -> None:
    """Create a new ledger at LEDGER operated by --actor with --key."""
    from tracechain import Ledger

    actor = uscc(actor, "--actor")
    with Ledger.create(ledger, origin, load_key(key_path), actor) as led:
        size = led.size
        click.echo(
            ngettext(
                "created {ledger}: origin {origin}, operator {actor}, {size} entry",
                "created {ledger}: origin {origin}, operator {actor}, {size} entries",
                size,
            ).format(ledger=ledger, origin=led.origin, actor=actor, size=size)
        )


def ranges_text(ranges: list[tuple[int, int]]) -> str:
    """Entry runs as a person reads them: ``3..25, 40..52``."""
    return ", ".join(f"{a}..{b}" if a != b else str(a) for a, b in ranges)


def _landed(result: IngestResult, size: int) -> str:
    text = ngettext("appended {count} event", "appended {count} events", result.appended).format(count=result.appended)
    if result.appended:
        text += " " + _("(entries {ranges})").format(ranges=ranges_text(result.ranges))
    if result.skipped:
        text += _(", ") + ngettext(
            "skipped {count} already in the ledger", "skipped {count} already in the ledger", result.skipped
        ).format(count=result.skipped)
    return text + _("; ledger size {size}").format(size=size)


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.argument(
    "events", default="-", type=InputFile(allow_dash=True), help="The events file (JSON Lines); - reads standard input."
)
@click.option("--key", "key_path", required=True, type=InputFile(), help="Actor key file.")
@click.option("--batch-size", default=APPEND_BATCH, show_default=True, type=click.IntRange(1), help="Events per batch.")
@click.option(
    "--refuse-duplicates",
    is_flag=True,
    help="Fail (writing nothing more) on an event the ledger already holds, instead of skipping it.",
)
@click.option("--product", type=click.Choice(PRODUCT_CODES), help="Product for events that do not name one.")
def append(
    ledger: str, events: str, key_path: str, batch_size: int, refuse_duplicates: bool, product: str | None
) -> int:
    """Append the events in EVENTS (JSON Lines, one EPCIS 2.0 event per line; - for standard input).

    Every line is validated first; if any is invalid nothing is written. Each --batch-size events are one
    signed batch. Events already in the ledger are skipped, so after an interruption the same command appends
    the rest; an interruption says how many events landed and up to which line (exit 130).
    """
    from tracechain import Ledger
    from tracechain.errors import AppendInterruptedError
    from tracechain.ingest import append_stream

    name = _("standard input") if events == "-" else events
    reading = False
    try:
        with waiting_said(), Ledger.open(ledger) as led, click.open_file(events, encoding="utf-8") as stream:
            key = load_key(key_path)  # after the ledger opened: a file that is not a ledger is the first thing said
            reading = True  # from here on an interruption is append_stream's to report (AppendInterruptedError)
            result = append_stream(
                led,
                with_product(read_events(utf8_lines(stream, name), name), product),
                key,
                batch_size=batch_size,
                duplicates="refuse" if refuse_duplicates else "skip",
                source=name,
            )
            size = led.size
    except KeyboardInterrupt:
        if reading:  # after append_stream returned: everything landed, and the plain interruption says enough
            raise
        # Before the events were read (opening the ledger, loading the key): nothing was written.
        click.echo(_(NOTHING_LANDED), err=True)
        return 130
    except AppendInterruptedError as e:
        done: IngestResult = e.result  # type: ignore[assignment]
        landed = done.appended + done.skipped
        if not landed:  # stopped while reading or validating: the count read so far is not the input's size
            click.echo(_(NOTHING_LANDED), err=True)
            return 130
        click.echo(
            ngettext(
                "interrupted: {landed} of {total} event is in the ledger",
                "interrupted: {landed} of {total} events are in the ledger",
                done.events,
            ).format(landed=landed, total=done.events)
            + (_(" (every event up to line {line})").format(line=done.through) if landed else "")
            + _("; run the same command again to append the rest (events already in the ledger are skipped)"),
            err=True,
        )
        return 130
    if not result.events:
        raise click.UsageError(_("{source}: no events to append").format(source=name))
    click.echo(_landed(result, size))
    return 0


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
def checkpoint(ledger: str, key_path: str) -> None:
    """Sign a checkpoint of the whole ledger, store it in the ledger, and print it.

    The checkpoint (a C2SP signed note) goes to standard output, to be kept in a file; its size and root hash, in
    hex as verify and prove show hashes and in the base64 the note carries, go to standard error.
    """
    import base64

    from tracechain import Ledger
    from tracechain.checkpoints import parse_unverified

    with waiting_said(), Ledger.open(ledger) as led:
        note = led.checkpoint(load_key(key_path))
    click.echo(note, nl=False)
    cp = parse_unverified(note)
    click.echo(
        ngettext(
            "checkpoint of {size} entry: root {hex} (hex) = {b64} (base64, as in the note)",
            "checkpoint of {size} entries: root {hex} (hex) = {b64} (base64, as in the note)",
            cp.size,
        ).format(size=cp.size, hex=cp.root.hex(), b64=base64.b64encode(cp.root).decode()),
        err=True,
    )


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.option(
    "--projection",
    "names",
    multiple=True,
    type=click.Choice([p.name for p in PROJECTIONS]),
    help="Rebuild only this projection (repeatable; default: all).",
)
def reindex(ledger: str, names: tuple[str, ...]) -> None:
    """Rebuild LEDGER's projections (derived indexes such as the item index) from its entries.

    For a projection verify reports as stale or missing; the entries, tiles and signatures are not touched.
    """
    from tracechain import Ledger

    chosen = [p for p in PROJECTIONS if not names or p.name in names]
    with waiting_said(), Ledger.open(ledger) as led:
        rows = led.reindex(chosen)
    for name, count in rows.items():
        click.echo(
            ngettext("rebuilt {name}: {count} row", "rebuilt {name}: {count} rows", count).format(
                name=name, count=count
            )
        )


COMMANDS = [init, append, checkpoint, reindex]
