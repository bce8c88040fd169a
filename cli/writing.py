"""Commands that write to a ledger: create it, append events, sign checkpoints, rebuild projections.

Every write says so when it has to wait more than a second for another program's write to finish
(`common.waiting_said`), instead of waiting up to a minute in silence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tracechain.i18n import N_, ngettext
from tracechain.i18n import gettext as _

from .common import InputFile, emit, load_key, uscc, waiting_said, witnesses
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
@click.option(
    "--witness",
    "witness_specs",
    multiple=True,
    metavar="'KEY URL'",
    help="A witness to cosign the checkpoint: its cosigner key and URL in one argument. Repeatable; replaces the"
    " ledger's own list (tracechain witnesses) for this checkpoint.",
)
def checkpoint(ledger: str, key_path: str, witness_specs: tuple[str, ...]) -> int:
    """Sign a checkpoint of the whole ledger, have its witnesses cosign it, store it in the ledger, and print it.

    The witnesses are those given with --witness, else the ledger's list. Each is sent the checkpoint with a
    consistency proof from the last one it cosigned (C2SP tlog-witness); the checkpoint is stored with every
    cosignature that verifies. Exits 1 if a witness did not cosign (saying why); the checkpoint is stored all the
    same, and running the command again asks only the witnesses that have not cosigned it.
    """
    from tracechain import Ledger
    from tracechain.witness_client import witness_checkpoint

    chosen = witnesses(witness_specs, "--witness") if witness_specs else None
    with waiting_said(), Ledger.open(ledger) as led:
        result = witness_checkpoint(led, load_key(key_path), chosen)
    click.echo(result.note, nl=False)
    for outcome in result.outcomes:
        name = outcome.witness.key.name
        if outcome.error:
            click.echo(
                _("witness {name} ({url}) did not cosign: {problem}").format(
                    name=name, url=outcome.witness.url, problem=outcome.error
                ),
                err=True,
            )
        else:
            click.echo(_("witness {name} cosigned").format(name=name), err=True)
    return 1 if any(o.error for o in result.outcomes) else 0


@click.command("witnesses")
@click.argument("ledger", type=InputFile())
@click.option(
    "--add",
    "added",
    multiple=True,
    metavar="'KEY URL'",
    help="Add a witness: its cosigner key (tracechain witness vkey prints it) and its URL, in one argument."
    " Repeatable.",
)
@click.option(
    "--remove",
    "removed",
    multiple=True,
    metavar="NAME",
    help="Remove the witness with this key name (or whole cosigner key). Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help='Print the list as JSON: [{"key", "url"}].')
def witnesses_command(ledger: str, added: tuple[str, ...], removed: tuple[str, ...], as_json: bool) -> None:
    """Show, or change with --add and --remove, the witnesses LEDGER's checkpoints are submitted to.

    The list is a setting of the ledger file, not a signed entry; tracechain checkpoint uses it.
    """
    from tracechain import Ledger

    new = witnesses(added, "--add")
    with Ledger.open(ledger) as led:
        current = led.witnesses()
        if added or removed:
            unknown = [r for r in removed if not any(r in (w.key.name, str(w.key)) for w in current)]
            if unknown:
                raise click.BadParameter(
                    _("no witness named {name!r} in the list").format(name=unknown[0]), param_hint="--remove"
                )
            kept = [w for w in current if w.key.name not in removed and str(w.key) not in removed]
            taken = {w.key for w in kept}
            clash = next((w for w in new if w.key in taken), None)
            if clash is not None:
                raise click.BadParameter(
                    _("witness {name} is already in the list").format(name=clash.key.name), param_hint="--add"
                )
            current = kept + new
            led.set_witnesses(current)
    if as_json:
        emit([{"key": str(w.key), "url": w.url} for w in current])
        return
    for w in current:
        click.echo(str(w))
    if not current:
        click.echo(_("no witnesses: checkpoints are signed by the operator alone"), err=True)


class ProjectionName(click.ParamType[str, Any]):
    """A projection's name, checked against the storage layer's list only when given (so that the command line
    starts without loading storage)."""

    name = "projection"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "NAME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from tracechain.storage import PROJECTIONS

        names = [p.name for p in PROJECTIONS]
        if value not in names:
            self.fail(
                _("{value!r} is not a projection; one of: {names}").format(value=value, names=", ".join(names)),
                param,
                ctx,
            )
        return str(value)


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.option(
    "--projection",
    "names",
    multiple=True,
    type=ProjectionName(),
    help="Rebuild only this projection (repeatable; default: all).",
)
def reindex(ledger: str, names: tuple[str, ...]) -> None:
    """Rebuild LEDGER's projections (derived indexes such as the item index) from its entries.

    For a projection verify reports as stale or missing; the entries, tiles and signatures are not touched.
    """
    from tracechain import Ledger
    from tracechain.storage import PROJECTIONS

    chosen = [p for p in PROJECTIONS if not names or p.name in names]
    with waiting_said(), Ledger.open(ledger) as led:
        rows = led.reindex(chosen)
    for name, count in rows.items():
        click.echo(
            ngettext("rebuilt {name}: {count} row", "rebuilt {name}: {count} rows", count).format(
                name=name, count=count
            )
        )


COMMANDS = [init, append, checkpoint, witnesses_command, reindex]
