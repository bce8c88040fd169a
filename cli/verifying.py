"""The auditor's command: verify a whole ledger or published log, against checkpoints held from earlier and a
witness policy."""

from __future__ import annotations

import sys

import click

import tracechain
from tracechain.checkpoints import parse_unverified
from tracechain.errors import FetchError, LedgerFormatError, TracechainError
from tracechain.storage import open_store
from tracechain.storage.published import is_published
from tracechain.verification import WitnessPolicy

from .common import InputFile, LedgerLocation, emit


def _held(ledger: str, paths: tuple[str, ...]) -> list[str]:
    """The checkpoint files' notes; one that is not a checkpoint, or is of another ledger, is a usage error."""
    origin: str | None = None
    try:
        store = open_store(ledger, readonly=True)
    except TracechainError as e:
        # A published log that is there but damaged is a failed check, for verify to report (exit 1); one that
        # is not a published log at all, or cannot be fetched, is a usage error, as a file that is not a ledger.
        if not is_published(ledger) or isinstance(e, (LedgerFormatError, FetchError)):
            raise click.BadParameter(str(e), param_hint="LEDGER") from e
    else:
        try:
            origin = store.meta("origin")
        finally:
            store.close()
    notes = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
        try:
            note = data.decode("utf-8")
            cp = parse_unverified(note)
        except UnicodeDecodeError as e:
            raise click.BadParameter(f"{path}: not a checkpoint (not UTF-8 text)", param_hint="--checkpoint") from e
        except TracechainError as e:
            raise click.BadParameter(f"{path}: not a checkpoint ({e})", param_hint="--checkpoint") from e
        if origin is not None and cp.origin != origin:
            raise click.BadParameter(
                f"{path}: a checkpoint of ledger {cp.origin!r}, not of this ledger ({origin!r})",
                param_hint="--checkpoint",
            )
        notes.append(note)
    return notes


def _policy(keys: tuple[str, ...], quorum: int | None) -> WitnessPolicy | None:
    """The witness policy of --witness and --quorum; one that cannot be met is a usage error."""
    try:
        return WitnessPolicy.of(keys, quorum)
    except TracechainError as e:
        raise click.BadParameter(str(e), param_hint="--witness/--quorum") from e


@click.command()
@click.argument("ledger", type=LedgerLocation())
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=InputFile(),
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
@click.option(
    "--witness",
    "witness_keys",
    multiple=True,
    metavar="KEY",
    help="A witness's cosigner key (name+id+key, type 0x04) whose cosignature counts toward --quorum. Repeatable.",
)
@click.option(
    "--quorum",
    type=click.IntRange(1),
    default=None,
    help="How many of the --witness keys must have cosigned the newest checkpoint and each held one (default: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def verify(
    ledger: str,
    checkpoint_files: tuple[str, ...],
    no_signatures: bool,
    hash_only: bool,
    workers: int | None,
    witness_keys: tuple[str, ...],
    quorum: int | None,
    as_json: bool,
) -> int:
    """Verify every entry, batch signature, tile and checkpoint of LEDGER: a ledger file, or a published log (a
    folder or an http(s) URL that tracechain publish wrote).

    JSON output: {"ok", "size", "root", "first_bad_index", "problems": [{"index", "message"}], ...}.
    """
    policy = _policy(witness_keys, quorum)
    held = _held(ledger, checkpoint_files)
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
        witnesses=policy.witnesses if policy else (),
        quorum=policy.quorum if policy else None,
    )
    if bar is not None:
        bar.render_finish()
    if as_json:
        emit(report.to_dict())
    elif report.ok:
        # The hash-only pass decodes no event, so it has no events to count.
        what = "hashed and chained in" if hash_only else f"{report.events} events in"
        witnessed = f"; cosigned by {policy}" if policy else ""
        click.echo(
            f"ok: {report.size} entries, {what} {report.batches} signed batches, "
            f"{report.checkpoints_checked} checkpoints{witnessed}; root {report.root.hex()}"
        )
    else:
        click.echo(f"FAILED: first bad entry {report.first_bad_index}", err=True)
        for p in report.to_dict()["problems"]:
            where = "file" if p["index"] is None else f"entry {p['index']}"
            click.echo(f"  {where}: {p['message']}", err=True)
    return 0 if report.ok else 1


COMMANDS = [verify]
