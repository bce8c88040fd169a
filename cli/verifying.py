"""The checker's commands: verify a whole ledger against checkpoints held from earlier, and check a proof one was
handed against a checkpoint one holds, without the ledger. Hashes are shown in hex everywhere, and a checkpoint's
root also in the base64 its note carries, so that the two can be compared by eye."""

from __future__ import annotations

import sys

import click

import tracechain
from tracechain.errors import FetchError, LedgerFormatError, TracechainError
from tracechain.i18n import gettext as _
from tracechain.i18n import ngettext

from .common import InputFile, LedgerLocation, emit, labelled, read_checkpoint, verifier, witness_policy


def _held(ledger: str, paths: tuple[str, ...]) -> list[str]:
    """The checkpoint files' notes; one that is not a checkpoint, or is of another ledger, is a usage error."""
    from tracechain.storage import is_published, open_store

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
        note, cp = read_checkpoint(path, "--checkpoint")
        if origin is not None and cp.origin != origin:
            raise click.BadParameter(
                _("{path}: a checkpoint of ledger {theirs!r}, not of this ledger ({ours!r})").format(
                    path=path, theirs=cp.origin, ours=origin
                ),
                param_hint="--checkpoint",
            )
        notes.append(note)
    return notes


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
    help="A witness's cosigner key (name+id+key, type 0x04, as tracechain witness vkey prints it; or a file"
    " holding it, or the witness's key file) whose cosignature counts toward --quorum. Repeatable.",
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
    policy = witness_policy(witness_keys, quorum)

    held = _held(ledger, checkpoint_files)
    bar = None
    progress = None
    if not as_json and sys.stderr.isatty():
        bar = click.progressbar(length=1, label=_("verifying"), file=sys.stderr)

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
        entries = ngettext("{count} entry", "{count} entries", report.size).format(count=report.size)
        batches = ngettext("{count} signed batch", "{count} signed batches", report.batches).format(
            count=report.batches
        )
        checkpoints = ngettext("{count} checkpoint", "{count} checkpoints", report.checkpoints_checked).format(
            count=report.checkpoints_checked
        )
        if hash_only:  # the hash-only pass decodes no event, so it has no events to count
            text = _("ok: {entries}, hashed and chained in {batches}, {checkpoints}{witnessed}; root {root}")
            events = ""
        else:
            text = _("ok: {entries}, {events} in {batches}, {checkpoints}{witnessed}; root {root}")
            events = ngettext("{count} event", "{count} events", report.events).format(count=report.events)
        click.echo(
            text.format(
                entries=entries,
                events=events,
                batches=batches,
                checkpoints=checkpoints,
                witnessed=_("; cosigned by {policy}").format(policy=policy) if policy else "",
                root=report.root.hex(),
            )
        )
    else:
        click.echo(_("FAILED: first bad entry {index}").format(index=report.first_bad_index), err=True)
        for p in report.to_dict()["problems"]:
            where = _("file") if p["index"] is None else _("entry {index}").format(index=p["index"])
            click.echo(f"  {where}: {p['message']}", err=True)
    return 0 if report.ok else 1


@click.command("check-proof")
@click.argument("proof_file", metavar="PROOF", type=InputFile(), help="The JSON that tracechain prove --json wrote.")
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    required=True,
    type=InputFile(),
    help="A checkpoint you hold; the proof must be about it. Repeatable (both ends of a consistency proof).",
)
@click.option(
    "--verifier",
    "verifiers",
    multiple=True,
    help="The ledger operator's verifier key: its string, a verifier file or a key file. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"ok", "kind", "checkpoints", …}.')
def check_proof(proof_file: str, checkpoint_files: tuple[str, ...], verifiers: tuple[str, ...], as_json: bool) -> int:
    """Check an inclusion or consistency proof (the JSON of tracechain prove --json) against a checkpoint you hold,
    without the ledger.

    With --verifier the checkpoint's signature is checked too; without it the checkpoint is only read, which
    proves nothing about who signed it (a warning says so). Exits 1 when the proof or the signature does not
    verify, or when the proof is not about the checkpoint (the message says which proof to ask for).
    """
    import base64

    from tracechain.errors import ProofError, SignatureError, ValidationError
    from tracechain.events import parse_json
    from tracechain.proofcheck import check_proof as check

    with open(proof_file, "rb") as f:
        data = f.read(1 << 24)
    try:
        document = parse_json(data, source=proof_file)
    except ValidationError as e:
        raise click.BadParameter(str(e), param_hint="PROOF") from e
    notes = [read_checkpoint(path, "--checkpoint")[0] for path in checkpoint_files]
    keys = [verifier(v, "--verifier") for v in verifiers]
    try:
        checked = check(document, notes, keys)
    except ValidationError as e:
        raise click.BadParameter(
            _("{path}: not a proof ({problem})").format(path=proof_file, problem=e), param_hint="PROOF"
        ) from e
    except (ProofError, SignatureError) as e:
        if as_json:
            emit({"ok": False, "problem": str(e)})
        click.echo(_("FAILED: {problem}").format(problem=e), err=True)
        return 1
    if as_json:
        emit(
            {
                "ok": True,
                "kind": checked.kind,
                "code": checked.code,
                "signatures_checked": checked.signatures_checked,
                "signed_by": [str(k) for k in checked.signed_by],
                "checkpoints": [
                    {
                        "origin": cp.origin,
                        "size": cp.size,
                        "root": cp.root.hex(),
                        "root_base64": base64.b64encode(cp.root).decode(),
                    }
                    for cp in checked.checkpoints
                ],
                "proofs": [p.to_dict() for p in checked.proofs],
            }
        )
    else:
        _say_checked(checked)
    if not checked.signatures_checked:
        click.echo(
            _("warning: the checkpoint's signature was not checked; give the operator's key with --verifier"),
            err=True,
        )
    return 0


def _say_checked(checked: object) -> None:
    import base64

    from tracechain.proofcheck import CheckedProof
    from tracechain.proofs import InclusionProof

    assert isinstance(checked, CheckedProof)
    if checked.kind == "inclusion":
        click.echo(
            ngettext(
                "ok: {count} inclusion proof verifies", "ok: {count} inclusion proofs verify", len(checked.proofs)
            ).format(count=len(checked.proofs))
        )
    else:
        click.echo(_("ok: the consistency proof verifies"))
    rows = []
    for cp in checked.checkpoints:
        rows += [
            (
                _("checkpoint"),
                ngettext("{origin}, {size} entry", "{origin}, {size} entries", cp.size).format(
                    origin=cp.origin, size=cp.size
                ),
            ),
            (_("root (hex)"), cp.root.hex()),
            (_("root (base64)"), base64.b64encode(cp.root).decode()),
        ]
    signers = ", ".join(f"{k.name} ({k.key_id.hex()})" for k in checked.signed_by)
    rows.append((_("signed by"), signers or _("not checked")))
    if checked.code is not None:
        rows.append((_("code"), checked.code))
    for proof in checked.proofs:
        if isinstance(proof, InclusionProof):
            rows.append(
                (_("entry"), _("{index}, leaf hash {leaf}").format(index=proof.index, leaf=proof.leaf_hash.hex()))
            )
        else:
            rows.append(
                (
                    _("consistent"),
                    _("{old} entries (root {old_root}) → {size} entries (root {root})").format(
                        old=proof.old_size, old_root=proof.old_root.hex(), size=proof.size, root=proof.root.hex()
                    ),
                )
            )
    labelled(rows)


COMMANDS = [verify, check_proof]
