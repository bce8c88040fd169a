"""The click commands. Each opens what it needs, calls the library once or twice, and prints."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import click

import tracechain
from tracechain import Ledger, SigningKey, profiles
from tracechain.errors import ValidationError
from tracechain.events import PRODUCTS, Event, parse_json, to_json

PASSWORD_ENV = "TRACECHAIN_PASSWORD"
APPEND_BATCH = 10_000


def _password(what: str, *, confirm: bool = False) -> str:
    """The key password: from TRACECHAIN_PASSWORD, else a prompt on a terminal; never an argument."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise click.UsageError(f"set {PASSWORD_ENV} or run on a terminal to be asked for the password of {what}")
    return str(click.prompt(f"password for {what}", hide_input=True, confirmation_prompt=confirm))


def _load_key(path: str) -> SigningKey:
    return SigningKey.load(path, _password(path))


def _emit(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(tracechain.__version__, prog_name="tracechain")
def cli() -> None:
    """tracechain: hash-chained, signed traceability events for infant formula, edible oil, liquor, salt and
    veterinary drugs.

    Key passwords come from the TRACECHAIN_PASSWORD environment variable or, on a terminal, a prompt.
    Exit codes: 0 success, 1 a verification or validation failure, 2 a usage error.
    """


@cli.command()
@click.argument("name")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Key file to create (mode 0600).")
def keygen(name: str, out: str) -> None:
    """Create an Ed25519 key named NAME, saved encrypted; prints its verifier key.

    A ledger operator's key must be named by the ledger's origin.
    """
    key = SigningKey.generate(name)
    key.save(out, _password(out, confirm=True))
    click.echo(key.verifier)


@cli.command()
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option("--origin", required=True, help="The ledger's unique name, e.g. example.cn/formula-2026.")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Operator key.")
@click.option("--actor", required=True, help="The operator's Unified Social Credit Code (统一社会信用代码).")
def init(ledger: str, origin: str, key_path: str, actor: str) -> None:
    """Create a new ledger at LEDGER operated by --actor with --key."""
    with Ledger.create(ledger, origin, _load_key(key_path), actor) as led:
        click.echo(f"created {ledger}: origin {led.origin}, operator {actor}, {led.size} entries")


@cli.command()
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False))
@click.argument("verifier")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Operator key.")
@click.option("--actor", required=True, help="The key holder's Unified Social Credit Code.")
@click.option("--operator", is_flag=True, help="Register an operator key (may sign checkpoints and keys).")
def register(ledger: str, verifier: str, key_path: str, actor: str, operator: bool) -> None:
    """Register an actor's key VERIFIER (a C2SP verifier key string). A second key for an actor is a rotation."""
    with Ledger.open(ledger) as led:
        index = led.register(verifier, actor, _load_key(key_path), role="operator" if operator else "actor")
    click.echo(f"registered at entry {index}")


@cli.command()
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False))
@click.argument("verifier")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Operator key.")
def revoke(ledger: str, verifier: str, key_path: str) -> None:
    """Revoke the key VERIFIER from now on; its earlier batches stay valid."""
    with Ledger.open(ledger) as led:
        index = led.revoke(verifier, _load_key(key_path))
    click.echo(f"revoked at entry {index}")


def _read_events(stream: Iterable[str], name: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            yield number, parse_json(line, source=f"{name} line {number}")


def _validated(path: str) -> list[Event]:
    """Every event of a JSON Lines file, validated; one error listing every bad line."""
    stream = click.open_file(path, encoding="utf-8")
    name = "standard input" if path == "-" else path
    events: list[Event] = []
    problems: list[tuple[str, str]] = []
    with stream:
        try:
            for number, value in _read_events(stream, name):
                try:
                    events.append(Event.from_dict(value))
                except ValidationError as e:
                    problems.extend((f"line {number}: {p}", text) for p, text in e.problems)
        except UnicodeDecodeError as e:
            raise ValidationError(f"{name}: not UTF-8 text ({e.reason})") from e
    if problems:
        raise ValidationError(f"{name}: {len(problems)} problem(s); nothing was appended", problems)
    return events


@cli.command()
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False))
@click.argument("events", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Actor key.")
@click.option("--batch-size", default=APPEND_BATCH, show_default=True, type=click.IntRange(1), help="Events per batch.")
def append(ledger: str, events: str, key_path: str, batch_size: int) -> None:
    """Append the events in EVENTS (JSON Lines, one EPCIS 2.0 event per line; - for standard input).

    Every line is validated first; if any is invalid nothing is written. Each --batch-size events are one
    signed batch.
    """
    checked = _validated(events)
    if not checked:
        raise click.UsageError(f"{events}: no events to append")
    key = _load_key(key_path)
    with Ledger.open(ledger) as led:
        first = last = -1
        for start in range(0, len(checked), batch_size):
            receipt = led.append_many(checked[start : start + batch_size], key)
            first = receipt.first if first < 0 else first
            last = receipt.seal_index
        click.echo(f"appended {len(checked)} events (entries {first}..{last}); ledger size {led.size}")


@cli.command()
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Operator key.")
def checkpoint(ledger: str, key_path: str) -> None:
    """Sign a checkpoint of the whole ledger, store it in the ledger, and print it."""
    with Ledger.open(ledger) as led:
        click.echo(led.checkpoint(_load_key(key_path)), nl=False)


@cli.command()
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=click.File(encoding="utf-8"),
    help="A checkpoint held from earlier; the ledger must extend it. Repeatable.",
)
@click.option("--no-signatures", is_flag=True, help="Skip the Ed25519 checks of batch signatures.")
@click.option(
    "--hash-only",
    is_flag=True,
    help="Integrity only: hashes, chain, tree, tiles, seals and checkpoints; no event decoding, no signatures.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Cores to use for signatures and the hash-only pass (default: all; 1 runs in this process only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def verify(
    ledger: str,
    checkpoint_files: tuple[TextIO, ...],
    no_signatures: bool,
    hash_only: bool,
    workers: int | None,
    as_json: bool,
) -> int:
    """Verify every entry, batch signature, tile and checkpoint of LEDGER.

    JSON output: {"ok", "size", "root", "first_bad_index", "problems": [{"index", "message"}], ...}.
    """
    held = [f.read() for f in checkpoint_files]
    bar = None
    progress = None
    if not as_json and sys.stderr.isatty():
        bar = click.progressbar(length=1, label="verifying", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            assert bar is not None
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

    report = tracechain.verify(
        ledger,
        held,
        signatures=not (no_signatures or hash_only),
        contents=not hash_only,
        workers=workers,
        progress=progress,
    )
    if bar is not None:
        bar.render_finish()
    if as_json:
        _emit(report.to_dict())
    elif report.ok:
        click.echo(
            f"ok: {report.size} entries, {report.events} events in {report.batches} signed batches, "
            f"{report.checkpoints_checked} checkpoints; root {report.root.hex()}"
        )
    else:
        click.echo(f"FAILED: first bad entry {report.first_bad_index}", err=True)
        for p in report.to_dict()["problems"]:
            where = "file" if p["index"] is None else f"entry {p['index']}"
            click.echo(f"  {where}: {p['message']}", err=True)
    return 0 if report.ok else 1


@cli.command()
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False))
@click.option("--index", type=click.IntRange(0), help="Prove the entry at this index.")
@click.option("--code", help="Prove every event naming this item code (any spelling).")
@click.option("--consistency", "old_size", type=click.IntRange(0), help="Prove consistency from this size.")
@click.option("--size", type=click.IntRange(0), help="Tree size to prove against (default: the whole ledger).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def prove(
    ledger: str, index: int | None, code: str | None, old_size: int | None, size: int | None, as_json: bool
) -> None:
    """Print an inclusion proof (--index or --code) or a consistency proof (--consistency OLD).

    JSON: {"index", "size", "leaf_hash", "root", "proof"}; with --code {"code", "proofs": [...]};
    with --consistency {"old_size", "size", "old_root", "root", "proof"}. Hashes are lowercase hex.
    """
    chosen = [
        name for name, value in (("--index", index), ("--code", code), ("--consistency", old_size)) if value is not None
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --index, --code and --consistency")
    with Ledger.open(ledger) as led:
        result: dict[str, Any]
        if index is not None:
            result = led.prove_inclusion(index, size).to_dict()
        elif code is not None:
            indices = [e.index for e in led.entries(code)]
            if not indices:
                raise ValidationError(f"no event in {ledger} names item {code}")
            result = {"code": code, "proofs": [led.prove_inclusion(i, size).to_dict() for i in indices]}
        else:
            assert old_size is not None
            result = led.prove_consistency(old_size, size).to_dict()
    if as_json:
        _emit(result)
        return
    for proof in result.get("proofs", [result]):
        for k, v in proof.items():
            click.echo(f"{k}: {' '.join(v) if isinstance(v, list) else v}")
        click.echo("")


@cli.command()
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False))
@click.option("--code", help="Only the events naming this item code (any spelling).")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"size", "entries": [...]}.')
def log(ledger: str, code: str | None, as_json: bool) -> None:
    """List the ledger's entries, or the events of one item."""
    with Ledger.open(ledger) as led:
        out = sys.stdout
        if as_json:
            # Written entry by entry so a large ledger never sits in memory.
            out.write(f'{{"size": {led.size}, "entries": [')
            for n, entry in enumerate(led.entries(code)):
                out.write(("," if n else "") + "\n  " + to_json(entry.to_dict()))
            out.write("\n]}\n")
            return
        for entry in led.entries(code):
            click.echo(_describe(entry))


def _describe(entry: tracechain.Entry) -> str:
    event = entry.event
    if event is None:
        body = entry.body
        detail = {
            "genesis": lambda: f"origin {body.get('origin')}, operator {body.get('operator', {}).get('actor')}",
            "key": lambda: f"{body.get('role')} key {body.get('name')} for {body.get('actor')}",
            "revoke": lambda: f"key {bytes(body.get('public', b'')).hex()[:16]}… revoked",
            "seal": lambda: f"batch {body.get('first')}+{body.get('count')} signed by {body.get('actor')}",
        }.get(entry.kind, lambda: "")()
        return f"{entry.index:>8}  {entry.kind:<8} {detail}"
    d = event.to_dict()
    return (
        f"{entry.index:>8}  {d.get('eventTime')}  {d.get('type')} {d.get('bizStep', '-')}/"
        f"{d.get('disposition', '-')}  {d.get('tc:product')}  {', '.join(event.item_codes())[:100]}"
    )


@cli.command()
@click.argument("events", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--product", type=click.Choice(sorted(PRODUCTS)), help="Product for events that do not name one.")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"ok", "events", "invalid", "problems"}.')
def validate(events: str, product: str | None, as_json: bool) -> int:
    """Check every event in EVENTS (JSON Lines) against the envelope and its product profile; writes nothing.

    Exits 1 if any event is invalid, listing each problem with its line number and JSON path.
    """
    name = "standard input" if events == "-" else events
    problems: list[dict[str, Any]] = []
    count = invalid = 0
    with click.open_file(events, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            count += 1
            try:
                value = parse_json(line, source=f"{name} line {number}")
                if (
                    product is not None
                    and isinstance(value, dict)
                    and value.setdefault("tc:product", product) != product
                ):
                    raise ValidationError(
                        f"tc:product is {value['tc:product']!r} but --product is {product!r}",
                        [("$.tc:product", f"expected {product!r}, found {value['tc:product']!r}")],
                    )
                Event.from_dict(value)
            except ValidationError as e:
                invalid += 1
                problems += [{"line": number, "path": path, "message": text} for path, text in e.problems]
    if as_json:
        _emit({"ok": not invalid, "events": count, "invalid": invalid, "problems": problems})
    elif invalid:
        click.echo(f"{invalid} of {count} events invalid:", err=True)
        for p in problems:
            click.echo(f"  line {p['line']}: {p['path']}: {p['message']}", err=True)
    else:
        click.echo(f"ok: {count} events valid")
    return 1 if invalid else 0


@cli.group()
def schema() -> None:
    """The JSON Schemas events are checked against (draft 2020-12, language-neutral)."""


@schema.command("list")
def schema_list() -> None:
    """List the schemas: the envelope and one profile per product."""
    for name in profiles.schema_names():
        doc = profiles.load_schema(name)
        click.echo(f"{name:<28} {doc.get('title', '')}")


@schema.command("show")
@click.argument("name")
def schema_show(name: str) -> None:
    """Print the schema NAME (as listed by `tracechain schema list`)."""
    if name not in profiles.schema_names():
        raise click.UsageError(f"no schema {name!r}; try: tracechain schema list")
    _emit(profiles.load_schema(name))


@cli.command()
@click.option(
    "--dir",
    "directory",
    default="demo-ledger",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the demo's ledger, keys and checkpoint (replaced if it holds an earlier demo).",
)
def demo(directory: str) -> None:
    """Run tracechain end to end on a small formula supply chain and say what happened."""
    from tracechain.demo import run_demo

    for line in run_demo(Path(directory)):
        click.echo(line)


# The label commands live in their own module, which imports _load_key from here, so they are added last.
from .labels import labels_command, qr_command  # noqa: E402

cli.add_command(labels_command)
cli.add_command(qr_command)
