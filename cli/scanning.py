"""The scanning commands: `tracechain scan` gives a verdict on a label (from a photo, a scanner's text or a proof
bundle), `tracechain verify-bundle` checks a proof bundle offline. Exit 0 only for GENUINE labels and good bundles."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tracechain.errors import LabelError, TracechainError
from tracechain.i18n import gettext as _

from .common import InputFile, emit, verifier, witness_policy

if TYPE_CHECKING:
    from tracechain import scan
    from tracechain.keys import VerifierKey
    from tracechain.labels import Label
    from tracechain.storage.scanlog import ScanLog, ScanRecord
    from tracechain.verification import WitnessPolicy

F = TypeVar("F", bound=Callable[..., Any])


def _read_bundle(path: str, option: str) -> bytes:
    """A bundle file's bytes; a file that does not even start as a bundle is a usage error naming it (a damaged
    bundle is not: it fails verification)."""
    from tracechain import bundles

    with open(path, "rb") as f:
        data = f.read(bundles.MAX_BUNDLE_BYTES + 1)
    if not data.startswith(bundles.BUNDLE_HEADER.encode() + b"\n"):
        raise click.BadParameter(
            _("{path}: not a proof bundle (it does not start with {header})").format(
                path=path, header=bundles.BUNDLE_HEADER
            ),
            param_hint=option,
        )
    return data


def _issuers(values: tuple[str, ...]) -> scan.Issuers:
    from tracechain import scan

    out = scan.Issuers()
    for value in values:
        owner, sep, key = value.partition("=")
        if not sep:
            raise click.BadParameter(
                _("expected PREFIX=KEY, found {value!r}").format(value=value), param_hint="--issuer"
            )
        try:
            out.add(owner, verifier(key, "--issuer"))
        except TracechainError as e:
            raise click.BadParameter(str(e), param_hint="--issuer") from e
    return out


def _scan(
    when: str | None, region: str | None, lat: float | None, lon: float | None, by: str | None, first_sale: bool
) -> ScanRecord | None:
    from tracechain import scan

    given = [name for name, v in (("--when", when), ("--lat", lat), ("--lon", lon), ("--by", by)) if v is not None]
    if region is None:
        if given or first_sale:
            raise click.UsageError(
                _("{options} describes a scan: give its --region too").format(
                    options=", ".join(given) or "--first-sale"
                )
            )
        return None
    if when is None:
        moment = datetime.now().astimezone()
    else:
        try:
            moment = datetime.fromisoformat(when)
        except ValueError as e:
            raise click.BadParameter(
                _("expected an ISO 8601 time with its offset, found {text!r}").format(text=when), param_hint="--when"
            ) from e
    try:
        return scan.new_scan(moment, region, lat=lat, lon=lon, by=by or "", first_sale=first_sale)
    except TracechainError as e:
        raise click.BadParameter(str(e), param_hint="--when/--region/--lat/--lon/--by") from e


def _labels(image: str | None, payload: str | None) -> list[Label]:
    from tracechain import qr, scan

    if payload is not None:
        return [scan.read_payload(payload)]
    if image is None:
        return []
    try:
        found = qr.decode_image(image)
    except LabelError as e:
        raise click.BadParameter(str(e), param_hint="IMAGE") from e
    out = []
    for code in found:
        try:
            out.append(scan.read_payload(code.data))
        except LabelError as e:
            click.echo(
                _("skipped a QR code in {file} that is not a tracechain label: {problem}").format(
                    file=image, problem=e
                ),
                err=True,
            )
    if not out:
        raise click.ClickException(_("no label found in {file}").format(file=image))
    return out


def _witness_options(what: str) -> Callable[[F], F]:
    """``--witness KEY...`` and ``--quorum K``: the witnesses whose cosignatures ``what`` must carry."""

    def add(command: F) -> F:
        command = click.option(
            "--quorum",
            type=click.IntRange(1),
            default=None,
            metavar="K",
            help=f"How many of the --witness keys must have cosigned {what} (default: all of them).",
        )(command)
        return click.option(
            "--witness",
            "witness_keys",
            multiple=True,
            metavar="KEY",
            help="A witness's cosigner key (name+id+key, type 0x04, as tracechain witness vkey prints it; or a file"
            " holding it, or the witness's key file) whose cosignature counts toward --quorum. Repeatable.",
        )(command)

    return add


def _show(result: scan.Verdict) -> None:
    words = result.to_dict()["verdict_words"]
    click.echo(f"{result.verdict}  {words['zh']} / {words['en']}  {result.code}")
    for reason in result.reasons_for(result.verdict):
        click.echo(f"  {reason.message}")
    for reason in result.reasons:
        if reason.verdict != result.verdict:
            click.echo("  " + _("also {verdict}: {message}").format(verdict=reason.verdict, message=reason.message))
    for event in result.timeline:
        proved = _("proved") if event.proof is not None else _("not yet proved")
        click.echo(f"  #{event.index} ({proved})")
        click.echo(f"    {event.sentence('zh')}")
        click.echo(f"    {event.sentence('en')}")


@click.command("scan")
@click.argument("image", required=False, type=InputFile())
@click.option(
    "--text", "payload", metavar="PAYLOAD", help="The text a scanner read from the code, instead of an IMAGE."
)
@click.option(
    "--bundle",
    "bundle_path",
    type=InputFile(),
    metavar="FILE",
    help="Judge from this proof bundle instead of a ledger (checked with the --verifier keys first).",
)
@click.option("--ledger", type=InputFile(), metavar="LEDGER", help="The ledger that holds the items' events.")
@click.option(
    "--verifier",
    "verifiers",
    multiple=True,
    metavar="KEY",
    help="A log (operator) verifier key, or a file holding one: the checkpoint must be signed by it (needed with"
    " --bundle; with --ledger the ledger's own operator keys are used when none is given). Repeatable.",
)
@click.option(
    "--issuer",
    "issuer_specs",
    multiple=True,
    metavar="OWNER=KEY",
    help="An issuer's verifier key (or a file holding one) and the codes it signs: a GS1 company prefix, a GTIN-14"
    " or vd: and a vet-drug enterprise number. A label is checked only with its owner's keys. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"verdict", "code", "reasons", "events", ...} per code.')
@click.option(
    "--record",
    "scan_log",
    type=click.Path(dir_okay=False),
    metavar="SCANS",
    help="Record this scan in the scan log SCANS (made if missing) and look for clones among the code's scans.",
)
@click.option("--when", metavar="ISO8601", help="When the scan was made: ISO 8601 with its offset (default: now).")
@click.option(
    "--region", metavar="CODE", help="Where the scan was made: a six-digit GB/T 2260 administrative division code."
)
@click.option(
    "--lat", type=click.FloatRange(-90, 90), metavar="LAT", help="Latitude of the scan (WGS 84 degrees), with --lon."
)
@click.option(
    "--lon", type=click.FloatRange(-180, 180), metavar="LON", help="Longitude of the scan (WGS 84 degrees), with --lat."
)
@click.option("--by", metavar="WHO", help="Who scanned: a shop's USCC, an inspector, an app's user ID.")
@click.option("--first-sale", is_flag=True, help="The scan is at the point of sale (a second one is a clone).")
@_witness_options("the checkpoint the history is proved against")
def scan_command(
    image: str | None,
    payload: str | None,
    bundle_path: str | None,
    ledger: str | None,
    verifiers: tuple[str, ...],
    issuer_specs: tuple[str, ...],
    as_json: bool,
    scan_log: str | None,
    when: str | None,
    region: str | None,
    lat: float | None,
    lon: float | None,
    by: str | None,
    first_sale: bool,
    witness_keys: tuple[str, ...],
    quorum: int | None,
) -> int:
    """Give the verdict on a label: GENUINE, UNKNOWN_CODE, FORGED, RECALLED, EXPIRED, DESTROYED_OR_SOLD,
    SUSPECTED_CLONE or UNWITNESSED, with the reasons and the item's history in Chinese and English, each event
    proved against the latest signed checkpoint.

    The label comes from IMAGE (PNG or JPEG; every label in it is judged), from --text, or, with --bundle alone,
    is the bundle's item. The history comes from --ledger or --bundle. With --witness, K of the named witnesses
    must have cosigned the checkpoint: from a ledger the verdict is UNWITNESSED otherwise, and a bundle without
    them fails as verify-bundle would. Exits 0 only when every code is GENUINE.
    """
    from tracechain import scan

    if image is not None and payload is not None:
        raise click.UsageError(_("give an IMAGE or --text, not both"))
    if (ledger is None) == (bundle_path is None):
        raise click.UsageError(_("give exactly one of --ledger and --bundle"))
    if image is None and payload is None and bundle_path is None:
        raise click.UsageError(_("give an IMAGE or --text (or --bundle to judge the bundle's item)"))
    if scan_log is not None and region is None:
        raise click.UsageError(_("--record needs --region (and --when, unless the scan is now)"))
    keys = [verifier(v, "--verifier") for v in verifiers]
    policy = witness_policy(witness_keys, quorum)
    owners = _issuers(issuer_specs)
    this_scan = _scan(when, region, lat, lon, by, first_sale)
    found = _labels(image, payload)
    from tracechain.storage.scanlog import ScanLog

    log = ScanLog(scan_log) if scan_log is not None else None
    try:
        results = _judge(found, ledger, bundle_path, keys, owners, this_scan, log, policy)
    finally:
        if log is not None:
            log.close()
    if as_json:
        dicts = [r.to_dict() for r in results]
        emit(dicts[0] if len(dicts) == 1 else dicts)
    else:
        for result in results:
            _show(result)
    return 0 if all(r.verdict == scan.GENUINE for r in results) else 1


def _judge(
    found: list[Label],
    ledger: str | None,
    bundle_path: str | None,
    keys: list[VerifierKey],
    owners: scan.Issuers,
    this_scan: ScanRecord | None,
    log: ScanLog | None,
    policy: WitnessPolicy | None,
) -> list[scan.Verdict]:
    from tracechain import bundles

    if bundle_path is not None:
        if not keys:
            raise click.UsageError(_("--bundle needs the log's --verifier key to check the bundle's checkpoint"))
        report = bundles.verify_bundle(
            _read_bundle(bundle_path, "--bundle"),
            keys,
            subject=bundle_path,
            witnesses=policy.witnesses if policy else (),
            quorum=policy.quorum if policy else None,
        )
        report.raise_for_problems()
        history: Any = report.history
        subjects: list[Label | None] = list(found) or [None]
        for label in found:
            if label.code != report.code:
                raise click.ClickException(
                    _("the label's code {code} is not the bundle's item {item}").format(
                        code=label.code, item=report.code
                    )
                )
        return [_one(label, history, report.code, keys, owners, this_scan, log, policy) for label in subjects]
    assert ledger is not None
    from tracechain import Ledger

    with Ledger.open(ledger, readonly=True) as led:
        return [_one(label, led, None, keys, owners, this_scan, log, policy) for label in found]


def _one(
    label: Label | None,
    history: Any,
    code: str | None,
    keys: list[VerifierKey],
    owners: scan.Issuers,
    this_scan: ScanRecord | None,
    log: ScanLog | None,
    policy: WitnessPolicy | None,
) -> scan.Verdict:
    from tracechain import scan

    subject = label.code if label is not None else code
    assert subject is not None
    current = None if this_scan is None else dataclasses.replace(this_scan, code=subject)
    earlier = log.scans(subject) if log is not None else []
    result = scan.verdict(
        label,
        history,
        code=code,
        issuers=owners,
        log_keys=keys,
        scan=current,
        scans=earlier,
        witnesses=policy.witnesses if policy else (),
        quorum=policy.quorum if policy else None,
    )
    if log is not None and current is not None and result.verdict != scan.FORGED:
        log.record([current])  # a forged label's scan is not a sighting of the code it copies
    return result


@click.command("verify-bundle")
@click.argument("bundle_path", metavar="FILE", type=InputFile())
@click.option(
    "--verifier",
    "verifiers",
    multiple=True,
    required=True,
    metavar="KEY",
    help="The log's (operator's) verifier key, or a file holding one. Repeatable.",
)
@_witness_options("the bundle's checkpoint")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"ok", "code", "checkpoint", "entries", "witnesses", "problems", ...}.',
)
def verify_bundle_command(
    bundle_path: str, verifiers: tuple[str, ...], witness_keys: tuple[str, ...], quorum: int | None, as_json: bool
) -> int:
    """Check a proof bundle offline: every signature on its checkpoint by a key given (the log's --verifier keys,
    the --witness keys), every entry proved in that checkpoint, every batch signature by a key the bundle's key
    entries register, the item named by its events; with --witness, K of the named witnesses must have cosigned the
    checkpoint. Exits 0 when it holds, 1 when it does not."""
    from tracechain import bundles

    keys = [verifier(v, "--verifier") for v in verifiers]
    policy = witness_policy(witness_keys, quorum)
    report = bundles.verify_bundle(
        _read_bundle(bundle_path, "FILE"),
        keys,
        subject=bundle_path,
        witnesses=policy.witnesses if policy else (),
        quorum=policy.quorum if policy else None,
    )
    if as_json:
        emit(report.to_dict())
    elif report.ok:
        cp = report.checkpoint
        assert cp is not None
        click.echo(
            _(
                "ok: {code}: {entries} entries ({events} events) proved in checkpoint {origin} at size {size};"
                " {signatures} batch signatures verified"
            ).format(
                code=report.code,
                entries=report.entries,
                events=report.events,
                origin=cp.origin,
                size=cp.size,
                signatures=report.signatures_checked,
            )
        )
        if policy is not None:
            click.echo(
                _("cosigned by {names}: {count} of the {named} named witnesses, {required} required").format(
                    names=", ".join(w.name for w in report.cosigned_by),
                    count=len(report.cosigned_by),
                    named=len(policy.witnesses),
                    required=policy.quorum,
                )
            )
    else:
        click.echo(_("FAILED: {file}").format(file=bundle_path), err=True)
        for p in report.to_dict()["problems"]:
            where = _("bundle") if p["index"] is None else _("entry {index}").format(index=p["index"])
            click.echo(f"  {where}: {p['message']}", err=True)
    return 0 if report.ok else 1


COMMANDS = [scan_command, verify_bundle_command]
