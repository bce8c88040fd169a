"""Commands that read a ledger without changing it: list entries, prove them."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click

from tracechain import Ledger, bundles
from tracechain.events import to_json

from .common import InputFile, emit


def _code(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("an item code is needed, found an empty string", param_hint="--code")
    return value


@click.command()
@click.argument("ledger", type=InputFile())
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
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
    Exits 1 when --code matches no event.
    """
    if bundle_path is not None:
        if code is None or index is not None or old_size is not None or size is not None:
            raise click.UsageError("--bundle goes with --code alone (the bundle is proved at the latest checkpoint)")
        return _write_bundle(ledger, _code(code) or "", bundle_path, as_json)
    chosen = [
        name for name, value in (("--index", index), ("--code", code), ("--consistency", old_size)) if value is not None
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --index, --code and --consistency")
    code = _code(code)
    with Ledger.open(ledger, readonly=True) as led:
        n = led.size
        for name, value in (("--size", size), ("--consistency", old_size)):
            if value is not None and value > n:
                raise click.BadParameter(f"the ledger has {n} entries, found {value}", param_hint=name)
        tree = n if size is None else size
        if index is not None and index >= tree:
            raise click.BadParameter(f"the tree has entries 0..{tree - 1}, found {index}", param_hint="--index")
        result: dict[str, Any]
        if index is not None:
            result = led.prove_inclusion(index, size).to_dict()
        elif code is not None:
            proofs = led.prove_item(code, size)
            if not proofs:
                click.echo(f"no event in {ledger} names item {code}", err=True)
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
    exists = f"{path}: already exists; a bundle is written to a new file"
    if os.path.lexists(path):
        raise click.BadParameter(exists, param_hint="--bundle")
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
        raise click.BadParameter(f"{path}: cannot be written ({e.strerror})", param_hint="--bundle") from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
    summary = {"code": bundle.code, "bundle": path, "entries": len(bundle.entries), "bytes": len(data)}
    if as_json:
        emit(summary)
    else:
        click.echo(f"wrote {path}: {len(bundle.entries)} entries for {bundle.code} ({len(data):,} bytes)")
    return 0


@click.command()
@click.argument("ledger", type=InputFile())
@click.option("--code", help="Only the events naming this item code (any spelling).")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"size", "entries": [...]}.')
def log(ledger: str, code: str | None, as_json: bool) -> int:
    """List the ledger's entries, or the events of one item. Exits 1 when --code matches no event."""
    code = _code(code)
    found = 0
    with Ledger.open(ledger, readonly=True) as led:
        out = sys.stdout
        if as_json:
            # Written entry by entry so a large ledger never sits in memory.
            out.write(f'{{"size": {led.size}, "entries": [')
            for n, entry in enumerate(led.entries(code)):
                out.write(("," if n else "") + "\n  " + to_json(entry.to_dict() | _signer(led, entry.index)))
                found += 1
            out.write("\n]}\n")
        else:
            for entry in led.entries(code):
                signer = _signer(led, entry.index).get("signer") if entry.kind == "event" else None
                click.echo(entry.summary(f"{signer['actor']} ({signer['key']})" if signer else None))
                found += 1
    if code is not None and not found:
        click.echo(f"no event in {ledger} names item {code}", err=True)
        return 1
    return 0


def _signer(led: Ledger, index: int) -> dict[str, Any]:
    found = led.signer(index)
    return {"signer": {"actor": found[0], "key": str(found[1])}} if found is not None else {}


COMMANDS = [log, prove]
