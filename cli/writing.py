"""Commands that write to a ledger: create it, append events, sign checkpoints (cosigned by its witnesses), keep its
witness list, rebuild projections."""

from __future__ import annotations

import click

from tracechain import Ledger
from tracechain.errors import AppendInterruptedError
from tracechain.ingest import append_stream
from tracechain.storage import PROJECTIONS
from tracechain.witness_client import witness_checkpoint

from .common import InputFile, emit, load_key, uscc, witnesses
from .events import read_events, utf8_lines

APPEND_BATCH = 10_000


@click.command()
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option("--origin", required=True, help="The ledger's unique name, e.g. example.cn/formula-2026.")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
@click.option("--actor", required=True, help="The operator's Unified Social Credit Code (统一社会信用代码).")
def init(ledger: str, origin: str, key_path: str, actor: str) -> None:
    """Create a new ledger at LEDGER operated by --actor with --key."""
    actor = uscc(actor, "--actor")
    with Ledger.create(ledger, origin, load_key(key_path), actor) as led:
        click.echo(f"created {ledger}: origin {led.origin}, operator {actor}, {led.size} entries")


@click.command()
@click.argument("ledger", type=InputFile())
@click.argument("events", default="-", type=InputFile(allow_dash=True))
@click.option("--key", "key_path", required=True, type=InputFile(), help="Actor key file.")
@click.option("--batch-size", default=APPEND_BATCH, show_default=True, type=click.IntRange(1), help="Events per batch.")
@click.option(
    "--refuse-duplicates",
    is_flag=True,
    help="Fail (writing nothing more) on an event the ledger already holds, instead of skipping it.",
)
def append(ledger: str, events: str, key_path: str, batch_size: int, refuse_duplicates: bool) -> int:
    """Append the events in EVENTS (JSON Lines, one EPCIS 2.0 event per line; - for standard input).

    Every line is validated first; if any is invalid nothing is written. Each --batch-size events are one
    signed batch. Events already in the ledger are skipped, so after an interruption the same command appends
    the rest; an interruption says how many events landed and up to which line (exit 130).
    """
    name = "standard input" if events == "-" else events
    with Ledger.open(ledger) as led, click.open_file(events, encoding="utf-8") as stream:
        key = load_key(key_path)  # after the ledger opened: a file that is not a ledger is the first thing said
        try:
            result = append_stream(
                led,
                read_events(utf8_lines(stream, name), name),
                key,
                batch_size=batch_size,
                duplicates="refuse" if refuse_duplicates else "skip",
                source=name,
            )
        except AppendInterruptedError as e:
            click.echo(str(e), err=True)
            return 130
        size = led.size
    if not result.events:
        raise click.UsageError(f"{name}: no events to append")
    where = f" (entries {result.first}..{result.last})" if result.appended else ""
    skipped = f", skipped {result.skipped} already in the ledger" if result.skipped else ""
    click.echo(f"appended {result.appended} events{where}{skipped}; ledger size {size}")
    return 0


@click.command()
@click.argument("ledger", type=InputFile())
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
    chosen = witnesses(witness_specs, "--witness") if witness_specs else None
    with Ledger.open(ledger) as led:
        result = witness_checkpoint(led, load_key(key_path), chosen)
    click.echo(result.note, nl=False)
    for outcome in result.outcomes:
        name = outcome.witness.key.name
        if outcome.error:
            click.echo(f"witness {name} ({outcome.witness.url}) did not cosign: {outcome.error}", err=True)
        else:
            click.echo(f"witness {name} cosigned", err=True)
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
    new = witnesses(added, "--add")
    with Ledger.open(ledger) as led:
        current = led.witnesses()
        if added or removed:
            unknown = [r for r in removed if not any(r in (w.key.name, str(w.key)) for w in current)]
            if unknown:
                raise click.BadParameter(f"no witness named {unknown[0]!r} in the list", param_hint="--remove")
            kept = [w for w in current if w.key.name not in removed and str(w.key) not in removed]
            taken = {w.key for w in kept}
            clash = next((w for w in new if w.key in taken), None)
            if clash is not None:
                raise click.BadParameter(f"witness {clash.key.name} is already in the list", param_hint="--add")
            current = kept + new
            led.set_witnesses(current)
    if as_json:
        emit([{"key": str(w.key), "url": w.url} for w in current])
        return
    for w in current:
        click.echo(str(w))
    if not current:
        click.echo("no witnesses: checkpoints are signed by the operator alone", err=True)


@click.command()
@click.argument("ledger", type=InputFile())
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
    chosen = [p for p in PROJECTIONS if not names or p.name in names]
    with Ledger.open(ledger) as led:
        rows = led.reindex(chosen)
    for name, count in rows.items():
        click.echo(f"rebuilt {name}: {count} rows")


COMMANDS = [init, append, checkpoint, witnesses_command, reindex]
