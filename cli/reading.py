"""Commands that read a ledger without changing it: list its records for a person, a spreadsheet or a program, and
prove entries.

`log` shows each event as a record a regulator can read (`tracechain.records`): the time at the event's offset,
the enterprise and its USCC, the signer, the step and disposition in words, product, lot, quantities with units,
places and every code in full. ``--csv`` writes the same records as UTF-8 with a byte-order mark, which is how
Excel recognises UTF-8 and keeps Chinese intact. (About 470 lines: log's three renderings — text, JSON, CSV — of
the same records sit together so that a column added to one is seen in the others.)
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from tracechain.i18n import gettext as _
from tracechain.i18n import ngettext
from tracechain.words import PRODUCTS

from .common import InputFile, emit

if TYPE_CHECKING:
    from tracechain.entries import Entry
    from tracechain.records import Record, Selection


def _code(value: str | None, option: str = "--code") -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter(_("a value is needed, found an empty string"), param_hint=option)
    return value


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.option("--index", type=click.IntRange(0), help="Prove the entry at this index.")
@click.option("--code", help="Prove every event naming this item code (any spelling).")
@click.option("--consistency", "old_size", type=click.IntRange(0), help="Prove consistency from this size.")
@click.option("--size", type=click.IntRange(0), help="Tree size to prove against (default: the whole ledger).")
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False),
    help="With --code: write an offline proof bundle of the item to this new file (docs/scan.md).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (what check-proof reads).")
def prove(
    ledger: str,
    index: int | None,
    code: str | None,
    old_size: int | None,
    size: int | None,
    bundle_path: str | None,
    as_json: bool,
) -> int:
    """Print an inclusion proof (--index or --code) or a consistency proof (--consistency OLD).

    JSON: {"index", "size", "leaf_hash", "root", "proof"}; with --code {"code", "proofs": [...]};
    with --consistency {"old_size", "size", "old_root", "root", "proof"}. Hashes are lowercase hex.
    With --code and --bundle, write the item's proof bundle against the latest checkpoint instead: its events,
    their batch seals and key entries, and every inclusion proof, checkable with `tracechain verify-bundle`.
    Whoever holds a checkpoint checks the JSON with tracechain check-proof. Exits 1 when --code matches no event.
    """
    if bundle_path is not None:
        if code is None or index is not None or old_size is not None or size is not None:
            raise click.UsageError(_("--bundle goes with --code alone (the bundle is proved at the latest checkpoint)"))
        return _write_bundle(ledger, _code(code) or "", bundle_path, as_json)
    chosen = [
        name for name, value in (("--index", index), ("--code", code), ("--consistency", old_size)) if value is not None
    ]
    if len(chosen) != 1:
        raise click.UsageError(_("give exactly one of --index, --code and --consistency"))
    code = _code(code)
    from tracechain import Ledger

    with Ledger.open(ledger, readonly=True) as led:
        n = led.size
        for name, value in (("--size", size), ("--consistency", old_size)):
            if value is not None and value > n:
                raise click.BadParameter(
                    ngettext(
                        "the ledger has {n} entry, found {value}", "the ledger has {n} entries, found {value}", n
                    ).format(n=n, value=value),
                    param_hint=name,
                )
        tree = n if size is None else size
        if index is not None and index >= tree:
            raise click.BadParameter(
                _("the tree has entries 0..{last}, found {index}").format(last=tree - 1, index=index),
                param_hint="--index",
            )
        result: dict[str, Any]
        if index is not None:
            result = led.prove_inclusion(index, size).to_dict()
        elif code is not None:
            proofs = led.prove_item(code, size)
            if not proofs:
                click.echo(_("no event in {ledger} names item {code}").format(ledger=ledger, code=code), err=True)
                return 1
            result = {"code": code, "proofs": [p.to_dict() for p in proofs]}
        else:
            assert old_size is not None
            result = led.prove_consistency(old_size, size).to_dict()
    if as_json:
        emit(result)
        return 0
    for proof in result.get("proofs", [result]):
        for k, v in proof.items():
            click.echo(f"{k}: {' '.join(v) if isinstance(v, list) else v}")
        click.echo("")
    return 0


def _write_bundle(ledger: str, code: str, path: str, as_json: bool) -> int:
    from tracechain import Ledger, bundles

    if os.path.lexists(path):
        raise click.BadParameter(
            _("{file}: already exists; a bundle is written to a new file").format(file=path), param_hint="--bundle"
        )
    with Ledger.open(ledger, readonly=True) as led:
        bundle = bundles.write_bundle(led, code)
    data = bundle.to_bytes()
    folder = os.path.dirname(os.path.abspath(path))
    staging = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.new")
    try:
        with open(staging, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(staging, path)  # never replaces a file that appeared meanwhile
    except FileExistsError as e:
        raise click.BadParameter(
            f"{path}: already exists; a bundle is written to a new file", param_hint="--bundle"
        ) from e
    except OSError as e:
        raise click.BadParameter(
            _("{file}: cannot be written ({problem})").format(file=path, problem=e.strerror), param_hint="--bundle"
        ) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
    summary = {"code": bundle.code, "bundle": path, "entries": len(bundle.entries), "bytes": len(data)}
    if as_json:
        emit(summary)
    else:
        click.echo(
            ngettext(
                "wrote {file}: {count} entry for {code} ({size:,} bytes)",
                "wrote {file}: {count} entries for {code} ({size:,} bytes)",
                len(bundle.entries),
            ).format(file=path, count=len(bundle.entries), code=bundle.code, size=len(data))
        )
    return 0


def _selection(
    code: str | None,
    lot: str | None,
    enterprise: str | None,
    product: str | None,
    step: str | None,
    since: str | None,
    until: str | None,
) -> Selection:
    from tracechain.errors import ValidationError
    from tracechain.records import Selection, parse_moment
    from tracechain.words import code_for

    step_code = None
    if step is not None:
        step_code = code_for("bizStep", step.rsplit("BizStep-", 1)[-1].rsplit(":", 1)[-1])
        if step_code is None:
            raise click.BadParameter(
                _("{value!r} is not a CBV business step; for example shipping, receiving, commissioning").format(
                    value=step
                ),
                param_hint="--step",
            )
    moments: dict[str, int | None] = {}
    for name, value, end in (("--since", since, False), ("--until", until, True)):
        try:
            moments[name] = None if value is None else parse_moment(value, end=end)
        except ValidationError as e:
            raise click.BadParameter(str(e), param_hint=name) from e
    return Selection(
        code=_code(code),
        lot=_code(lot, "--lot"),
        enterprise=_code(enterprise, "--enterprise"),
        product=product,
        step=step_code,
        since=moments["--since"],
        until=moments["--until"],
    )


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.option("--code", help="Only the events naming this item code (any spelling).")
@click.option("--lot", help="Only the events of this lot: a lot number, or a lot-level code (GTIN + lot).")
@click.option("--enterprise", help="Only the events recorded by this enterprise: its USCC, or part of its name.")
@click.option("--product", type=click.Choice(sorted(PRODUCTS)), help="Only the events of this product.")
@click.option("--step", help="Only the events of this business step: a CBV code (shipping) or its words (发货).")
@click.option("--since", help="Only the events at or after this time: 2026-03-01, or 2026-03-01T08:00:00+08:00.")
@click.option("--until", help="Only the events at or before this time (a date means the end of that day).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the events as CSV to this file (UTF-8 with a byte-order mark, so that Excel keeps Chinese intact).",
)
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"size", "entries": [...]}.')
def log(
    ledger: str,
    code: str | None,
    lot: str | None,
    enterprise: str | None,
    product: str | None,
    step: str | None,
    since: str | None,
    until: str | None,
    csv_path: str | None,
    as_json: bool,
) -> int:
    """List the ledger's entries, or the events that answer a question, as records a person can read.

    Each event shows its time at the event's own offset, the enterprise and its USCC, who signed it, the step and
    disposition in words, product, lot, quantities with units, places and every code in full. The options
    combine (all must hold); with any of them only events are listed. Times without an offset, and dates, are in
    this computer's time zone. Exits 1 when nothing matches.
    """
    from tracechain import Ledger
    from tracechain.records import select

    if csv_path is not None and as_json:
        raise click.UsageError(_("give --csv or --json, not both"))
    selection = _selection(code, lot, enterprise, product, step, since, until)
    with Ledger.open(ledger, readonly=True) as led:
        chosen = select(led, selection)
        if csv_path is not None:
            found = _write_csv(csv_path, chosen)
            if found:
                click.echo(
                    ngettext("wrote {count} event to {file}", "wrote {count} events to {file}", found).format(
                        count=found, file=csv_path
                    )
                )
        elif as_json:
            found = _write_json(led, chosen)
        else:
            found = _write_text(chosen)
    if not found:
        asked = [
            f"{option} {value}"
            for option, value in (
                ("--code", code),
                ("--lot", lot),
                ("--enterprise", enterprise),
                ("--product", product),
                ("--step", step),
                ("--since", since),
                ("--until", until),
            )
            if value is not None
        ]
        click.echo(
            _("nothing in {ledger} matches: {question}").format(ledger=ledger, question=" ".join(asked)), err=True
        )
        return 1
    return 0


def _write_json(led: Any, chosen: Iterator[tuple[Entry, Record | None]]) -> int:
    from tracechain.events import to_json

    out = sys.stdout
    found = 0
    # Written entry by entry so a large ledger never sits in memory.
    out.write(f'{{"size": {led.size}, "entries": [')
    for n, (entry, record) in enumerate(chosen):
        signer: dict[str, Any] = {}
        if record is not None and record.signer_actor is not None:
            signer = {"signer": {"actor": record.signer_actor, "key": record.signer_key}}
        elif record is None:  # genesis, key and seal entries: who signed their batch
            found_signer = led.signer(entry.index)
            if found_signer is not None:
                signer = {"signer": {"actor": found_signer[0], "key": str(found_signer[1])}}
        out.write(("," if n else "") + "\n  " + to_json(entry.to_dict() | signer))
        found += 1
    out.write("\n]}\n")
    return found


def _write_text(chosen: Iterator[tuple[Entry, Record | None]]) -> int:
    found = 0
    for entry, record in chosen:
        found += 1
        if record is None:
            click.echo(f"{entry.index:>8}  " + _entry_line(entry))
        else:
            click.echo("\n".join(_record_lines(record)))
    return found


def _entry_line(entry: Entry) -> str:
    """One line for an entry that is not an event: what it records, in words."""
    body = entry.body if isinstance(entry.body, dict) else {}
    if entry.kind == "genesis":
        found = body.get("operator")
        operator = found if isinstance(found, dict) else {}
        return _("genesis: ledger {origin}, operator {actor}").format(
            origin=body.get("origin"), actor=operator.get("actor")
        )
    if entry.kind == "key":
        text = (
            _("operator key {name} registered for {actor}")
            if body.get("role") == "operator"
            else _("key {name} registered for {actor}")
        )
        return text.format(name=body.get("name"), actor=body.get("actor"))
    if entry.kind == "revoke":
        public = body.get("public")
        return _("key {key}… revoked").format(key=public.hex()[:16] if isinstance(public, bytes) else public)
    if entry.kind == "delegation":
        text = (
            _("{agent} may record for {principal}")
            if body.get("action") == "grant"
            else _("{agent} no longer records for {principal}")
        )
        return text.format(agent=body.get("agent"), principal=body.get("principal"))
    if entry.kind == "seal":
        count = int(body.get("count", 0))
        first = int(body.get("first", 0))
        return ngettext(
            "seal: batch of {count} entry ({first}..{last}) signed by {actor}",
            "seal: batch of {count} entries ({first}..{last}) signed by {actor}",
            count,
        ).format(count=count, first=first, last=first + count - 1, actor=body.get("actor"))
    return entry.kind


def _words(record: Record) -> dict[str, str]:
    """The record's codes as words in the reader's language."""
    from tracechain.words import action_word, disposition_word, event_type_word, product_word, step_word, unit_word

    quantities = []
    if record.units:
        quantities.append(ngettext("{count} unit", "{count} units", record.units).format(count=record.units))
    for q in record.quantities:
        if q.unit:
            quantities.append(f"{q.amount} {unit_word(q.unit)}")
        elif q.amount.isdigit():  # EPCIS: a quantity without a unit is a count of items
            quantities.append(ngettext("{count} unit", "{count} units", int(q.amount)).format(count=q.amount))
        else:
            quantities.append(q.amount)
    signer = ""
    if record.signer_actor is not None:
        key = record.signer_key or ""
        name, _sep, rest = key.partition("+")
        signer = _("{actor}, key {name} ({key_id})").format(actor=record.signer_actor, name=name, key_id=rest[:8])
    return {
        "step": step_word(record.step) or "-",
        "disposition": disposition_word(record.disposition) or "-",
        "type": event_type_word(record.event_type),
        "action": action_word(record.action),
        "product": product_word(record.product),
        "quantity": _("; ").join(quantities),
        "signer": signer,
    }


def _record_lines(record: Record) -> list[str]:
    words = _words(record)
    kind = words["type"] + (_(", ") + words["action"] if words["action"] else "")
    head = f"{record.entry:>8}  {record.time}  {words['step']} · {words['disposition']}  ({kind})"
    enterprise = " ".join(
        p for p in (record.enterprise_name, f"({record.enterprise_uscc})" if record.enterprise_uscc else None) if p
    )
    product = words["product"] + (_(": ") + record.product_name if record.product_name else "")
    rows = [
        (_("enterprise"), enterprise),
        (_("signed by"), words["signer"]),
        (_("product"), product),
        (_("lot"), record.lot or ""),
        (_("quantity"), words["quantity"]),
        (_("place"), "  ".join(record.places)),
        (_("supplier"), record.supplier or ""),
        (_("receiver"), record.receiver or ""),
    ]
    from .help import columns

    shown = [(label, value) for label, value in rows if value]
    codes_label = _("codes") if len(record.codes) != 1 else _("code")
    width = max([columns(label) for label, _v in shown] + [columns(codes_label)]) + 2
    indent = " " * 10
    lines = [head]
    lines += [indent + label + " " * (width - columns(label)) + value for label, value in shown]
    for number, item in enumerate(record.codes):
        label = codes_label if number == 0 else ""
        lines.append(indent + label + " " * (width - columns(label)) + item)
    return lines


def csv_headers() -> list[str]:
    """The CSV's column headings in the reader's language."""
    return [
        _("entry"),
        _("time"),
        _("enterprise"),
        _("enterprise USCC"),
        _("signed by (USCC)"),
        _("signing key"),
        _("event type"),
        _("step"),
        _("step code"),
        _("disposition"),
        _("disposition code"),
        _("product"),
        _("product code"),
        _("product name"),
        _("lot"),
        _("quantity"),
        _("place"),
        _("supplier"),
        _("receiver"),
        _("codes"),
    ]


def _write_csv(path: str, chosen: Iterator[tuple[Entry, Record | None]]) -> int:
    import csv

    found = 0
    # utf-8-sig writes the byte-order mark Excel needs to read UTF-8; newline="" lets csv end rows with CRLF.
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_headers())
        for _entry, record in chosen:
            if record is None:
                continue
            words = _words(record)
            writer.writerow(
                [
                    record.entry,
                    record.time,
                    record.enterprise_name or "",
                    record.enterprise_uscc or "",
                    record.signer_actor or "",
                    record.signer_key or "",
                    words["type"],
                    words["step"],
                    record.step or "",
                    words["disposition"],
                    record.disposition or "",
                    words["product"],
                    record.product,
                    record.product_name or "",
                    record.lot or "",
                    words["quantity"],
                    " ".join(record.places),
                    record.supplier or "",
                    record.receiver or "",
                    "\n".join(record.codes),
                ]
            )
            found += 1
    return found


COMMANDS = [log, prove]
