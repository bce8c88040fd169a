"""QR label payloads: what a tracechain label carries, the issuer signature on it, and the strict parser.

This module owns the byte rules of ``docs/SPEC.md`` § "QR label payloads": the signed GS1 Digital Link
``https://{domain}/01/{gtin14}[/10/{lot}]/21/{serial}[?17=YYMMDD]&s={signature}``, the bare 24-digit veterinary
drug trace code and its signed form ``https://{domain}/vd/{24 digits}?s={signature}``, the message an issuer's
Ed25519 key signs, and random serials. :func:`parse_label` reads any payload a scanner hands over and either
returns a :class:`Label` or raises :class:`~tracechain.errors.LabelError`; :func:`verify_label` returns a
:class:`LabelCheck` and :func:`check_label` raises :class:`~tracechain.errors.LabelSignatureError` instead.
Nothing here touches images: ``tracechain.qr`` turns payloads into QR symbols and back.

The module is longer than most because the byte rules, the strict parser that enforces them and the signature
check are one specification read together; splitting them would put the two spellings of each rule apart.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

from tracechain import identifiers
from tracechain.errors import IdentifierError, LabelError, LabelSignatureError
from tracechain.keys import SigningKey, VerifierKey

__all__ = [
    "BAD_SIGNATURE",
    "DEFAULT_RESOLVER",
    "EC_LEVELS",
    "FORMATS",
    "GS1",
    "LABEL_SIGNATURE_DOMAIN",
    "MAX_LOT_COUNT",
    "MAX_PAYLOAD_BYTES",
    "SERIAL_ALPHABET",
    "SERIAL_LENGTH",
    "SIGNATURE_PARAMETER",
    "UNKNOWN_ISSUER",
    "UNSIGNED",
    "VALID",
    "VET_DRUG",
    "VET_PATH",
    "Label",
    "LabelCheck",
    "check_label",
    "gs1_payload",
    "label_message",
    "new_serial",
    "new_vet_trace_code",
    "parse_label",
    "payload_for_code",
    "verify_label",
    "vet_payload",
]

MAX_PAYLOAD_BYTES: Final = 2953
"""The most bytes a QR symbol holds (version 40, error correction L, byte mode); anything longer is refused unread."""

DEFAULT_RESOLVER: Final = identifiers.CANONICAL_DOMAIN
"""The resolver domain when none is given: GS1's global resolver, which forwards to the brand's own."""

# The choices a label is printed with. They live here rather than in `qr` or `issuing`, which load the imaging and
# schema libraries, so that the command line can offer them without loading either.
EC_LEVELS: Final = ("L", "M", "Q", "H")
"""QR error correction levels: about 7, 15, 25 and 30 % of codewords restorable."""

FORMATS: Final = ("png", "svg")
"""Image formats a label is written in."""

MAX_LOT_COUNT: Final = 1_000_000
"""The most labels one call issues."""

LABEL_SIGNATURE_DOMAIN: Final = b"tracechain label signature v1\x00"
"""Prefix of every signed label message. The NUL byte can be in no C2SP note text, and the text differs from the
batch prefix, so an issuer key's label signature can never be taken for a note, checkpoint or batch signature."""

SIGNATURE_PARAMETER: Final = "s"
"""The query parameter holding base64url(key ID || Ed25519 signature), 91 characters."""

VET_PATH: Final = "vd"
"""Path segment of the signed veterinary drug form: ``https://{domain}/vd/{24 digits}?s=…``."""

SERIAL_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base-32 symbols: no I, L, O or U to misread, all in GS1 set 82 and unreserved in URIs."""

SERIAL_LENGTH: Final = 13
"""Symbols in a random serial: 13 × 5 = 65 bits from :mod:`secrets`."""

GS1: Final = "gs1"
"""Label kind: a GS1 Digital Link (signed or not)."""
VET_DRUG: Final = "vet_drug"
"""Label kind: a veterinary drug trace code (bare 24 digits, or signed)."""

VALID: Final = "valid"
"""LabelCheck status: the signature verifies under one of the verifier keys given."""
UNSIGNED: Final = "unsigned"
"""LabelCheck status: the label carries no signature."""
UNKNOWN_ISSUER: Final = "unknown_issuer"
"""LabelCheck status: signed by a key ID none of the verifier keys given has."""
BAD_SIGNATURE: Final = "bad_signature"
"""LabelCheck status: signed under a known key ID, but the signature does not verify for this code."""

_KEY_ID_SIZE: Final = 4
_SIGNATURE_SIZE: Final = 64
_SIGNATURE_CHARS: Final = 91  # base64url of 68 bytes, unpadded
_B64URL_RE: Final = re.compile(r"[A-Za-z0-9_-]{91}")
_VET_DIGITS_RE: Final = re.compile(r"[0-9]{24}")
# Host in lower case (one spelling per resolver), optional port, optional path prefix.
_DOMAIN_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~\-]+)*")
_MAX_DOMAIN: Final = 253
_VET_SIGNED_RE: Final = re.compile(r"https://(.+)/vd/([0-9]{24})")
_HTTP_RE: Final = re.compile(r"https?://", re.IGNORECASE)
_BIDI_CONTROLS: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES: Final = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


def _short(text: str, limit: int = 80) -> str:
    """``repr`` of a found value, cut short so that a hostile payload cannot flood an error message."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


@dataclass(frozen=True, slots=True)
class Label:
    """What a label payload says. Built only by :func:`parse_label`, so every instance was read strictly."""

    payload: str
    """The payload exactly as read."""
    kind: str
    """:data:`GS1` or :data:`VET_DRUG`."""
    code: str
    """The canonical item code (``identifiers.canonical_code``): what the ledger indexes and the signature covers."""
    domain: str | None = None
    """The resolver domain of a URI payload (not signed: see docs/SPEC.md); None for bare trace codes."""
    gtin: str | None = None
    """GTIN-14 (AI 01) of a GS1 label."""
    lot: str | None = None
    """Batch or lot (AI 10), decoded."""
    serial: str | None = None
    """Serial (AI 21), decoded."""
    expiry: date | None = None
    """Expiry date (AI 17)."""
    trace_code: str | None = None
    """The 24-digit veterinary drug trace code."""
    key_id: bytes | None = None
    """The 4-byte C2SP key ID of the issuer key that signed, for a signed label."""
    signature: bytes | None = None
    """The 64-byte Ed25519 signature, for a signed label."""

    @property
    def signed(self) -> bool:
        return self.signature is not None

    def message(self) -> bytes:
        """The bytes the issuer's signature covers (see :func:`label_message`)."""
        return label_message(self.code, lot=self.lot, expiry=self.expiry)


def label_message(code: str, *, lot: str | None = None, expiry: date | None = None) -> bytes:
    """The bytes an issuer key signs for a label: the domain prefix, the canonical code, the lot and the expiry.

    ``LABEL_SIGNATURE_DOMAIN || code || 0x0A || lot || 0x0A || YYMMDD``, an absent lot or expiry being empty. The
    lot and expiry are signed beside the code because the canonical code drops them (a serial identifies an item
    alone) and they are exactly what a relabeller of expired stock would change. ``code`` must be canonical.
    """
    try:
        canonical = identifiers.canonical_code(code)
    except IdentifierError as e:
        raise LabelError(f"label code {_short(str(code))}: {e}") from e
    if canonical != code:
        raise LabelError(f"label code {_short(code)}: expected the canonical code, found a spelling of {canonical}")
    if lot is not None and (not lot or "\n" in lot):
        raise LabelError(f"label code {code}: lot must be non-empty and on one line, found {_short(lot)}")
    parts = [LABEL_SIGNATURE_DOMAIN, code.encode("utf-8"), b"\n"]
    parts += [b"" if lot is None else lot.encode("utf-8"), b"\n"]
    parts.append(b"" if expiry is None else expiry.strftime("%y%m%d").encode("ascii"))
    return b"".join(parts)


def _signature_value(key: SigningKey, message: bytes) -> str:
    raw = key.key_id + key.sign(message)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _check_domain(domain: object) -> str:
    if not isinstance(domain, str) or len(domain) > _MAX_DOMAIN or _DOMAIN_RE.fullmatch(domain) is None:
        shown = _short(domain) if isinstance(domain, str) else type(domain).__name__
        raise LabelError(
            f"resolver domain {shown}: expected a lower-case host name of at most {_MAX_DOMAIN} characters, "
            "optionally with :port and a /path prefix"
        )
    return domain


def _sized(payload: str) -> str:
    size = len(payload.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise LabelError(f"label payload of {size} bytes: a QR code holds at most {MAX_PAYLOAD_BYTES}")
    return payload


def gs1_payload(
    gtin: str,
    serial: str,
    key: SigningKey,
    *,
    lot: str | None = None,
    expiry: date | None = None,
    domain: str = DEFAULT_RESOLVER,
) -> str:
    """The signed GS1 Digital Link payload of one item.

    ``https://{domain}/01/{gtin14}[/10/{lot}]/21/{serial}[?17=YYMMDD]`` followed by ``?s=`` (or ``&s=``) and the
    base64url of ``key.key_id || Ed25519(label_message(...))``. Bad identifiers raise :class:`LabelError`.
    """
    _check_domain(domain)
    if not isinstance(key, SigningKey):
        raise LabelError(f"a GS1 label is signed: expected a SigningKey, found {type(key).__name__}")
    try:
        uri = identifiers.digital_link(gtin, lot=lot, serial=serial, expiry=expiry, domain=domain)
        code = identifiers.canonical_code(uri)
    except IdentifierError as e:
        raise LabelError(f"GS1 label: {e}") from e
    signature = _signature_value(key, label_message(code, lot=lot, expiry=expiry))
    return _sized(f"{uri}{'&' if '?' in uri else '?'}{SIGNATURE_PARAMETER}={signature}")


def vet_payload(trace_code: str, key: SigningKey | None = None, *, domain: str | None = None) -> str:
    """The payload of a veterinary drug label: the bare 24 digits, or with ``key`` the signed form.

    The bare form is what the national veterinary drug trace system's scanners read. The signed form is
    ``https://{domain}/vd/{24 digits}?s={signature}`` and needs ``domain``.
    """
    try:
        digits = identifiers.validate_vet_trace_code(trace_code)
    except IdentifierError as e:
        raise LabelError(f"veterinary drug label: {e}") from e
    if key is None:
        return digits
    if domain is None:
        raise LabelError(f"signed veterinary drug label {digits}: a resolver domain is needed for the signed form")
    _check_domain(domain)
    code = identifiers.VET_DRUG_URN_PREFIX + digits
    signature = _signature_value(key, label_message(code))
    return _sized(f"https://{domain}/{VET_PATH}/{digits}?{SIGNATURE_PARAMETER}={signature}")


def new_serial() -> str:
    """A fresh unguessable serial: :data:`SERIAL_LENGTH` symbols of :data:`SERIAL_ALPHABET` from :mod:`secrets`."""
    return "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(SERIAL_LENGTH))


def new_vet_trace_code(applied: date, enterprise: str) -> str:
    """A fresh veterinary drug trace code: the application date (8 digits), the 5-digit enterprise number and
    11 random digits from :mod:`secrets`, as the national scheme lays it out."""
    if not isinstance(applied, date):
        raise LabelError(f"trace code application date: expected a date, found {type(applied).__name__}")
    if not isinstance(enterprise, str) or re.fullmatch(r"[0-9]{5}", enterprise) is None:
        raise LabelError(f"trace code enterprise number: expected 5 digits, found {enterprise!r}")
    return f"{applied:%Y%m%d}{enterprise}{secrets.randbelow(10**11):011d}"


# ----------------------------------------------------------------------------------------------------
# Parsing


def _text_of(data: object) -> str:
    """The payload as text: size first (so a huge input is refused unread), then UTF-8, then characters."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise LabelError(f"label payload of {len(raw)} bytes: a QR code holds at most {MAX_PAYLOAD_BYTES}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            found = f"byte 0x{raw[e.start]:02x} at offset {e.start}"
            raise LabelError(f"label payload: expected UTF-8, found {found}") from e
    elif isinstance(data, str):
        # A character is at least one byte, so a string longer than the limit is refused before encoding it.
        if len(data) > MAX_PAYLOAD_BYTES:
            raise LabelError(
                f"label payload of {len(data)} characters: a QR code holds at most {MAX_PAYLOAD_BYTES} bytes"
            )
        text = data
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_PAYLOAD_BYTES:
            raise LabelError(f"label payload of {size} bytes: a QR code holds at most {MAX_PAYLOAD_BYTES}")
    else:
        raise LabelError(f"label payload: expected text or bytes, found {type(data).__name__}")
    if not text:
        raise LabelError("label payload is empty")
    _check_characters(text)
    return text


def _check_characters(text: str) -> None:
    if text.isascii() and text.isprintable():
        return
    for position, ch in enumerate(text):
        if ch in _BIDI_CONTROLS:
            what = "a bidirectional control character, which can make a payload read differently from its bytes"
        else:
            what = _REFUSED_CATEGORIES.get(unicodedata.category(ch), "")
        if what:
            raise LabelError(f"label payload: character U+{ord(ch):04X} at position {position} is {what}; refused")


def parse_label(data: str | bytes) -> Label:
    """Read a label payload: a signed GS1 Digital Link, an unsigned one, a bare 24-digit veterinary drug trace code,
    or a signed veterinary drug label.

    Refuses with :class:`LabelError` (never another exception): payloads over :data:`MAX_PAYLOAD_BYTES` bytes, bytes
    that are not UTF-8, control, format (bidi) or unassigned characters, and anything that is none of the four
    forms. A signed payload must be exactly the spelling the issuing functions write: only the parameters ``17`` and
    ``s``, in that order, base64url in its one spelling, a lower-case host, ``https``, numeric AIs, a 14-digit GTIN.
    Surrounding whitespace is not stripped: a QR payload is taken byte for byte.
    """
    text = _text_of(data)
    if _VET_DIGITS_RE.fullmatch(text):
        return Label(text, VET_DRUG, identifiers.VET_DRUG_URN_PREFIX + text, trace_code=text)
    if not _HTTP_RE.match(text):
        raise LabelError(
            f"label payload {_short(text)}: expected a GS1 Digital Link URI or a 24-digit veterinary drug trace code"
        )
    base, question, query = text.partition("?")
    params = query.split("&") if question else []
    if any(p.partition("=")[0] == SIGNATURE_PARAMETER for p in params):
        return _parse_signed(text, base, params)
    return _parse_unsigned(text)


def _parse_unsigned(text: str) -> Label:
    try:
        link = identifiers.parse_digital_link(text)
    except IdentifierError as e:
        raise LabelError(f"label payload: {e}") from e
    if link.gtin is None:
        raise LabelError(f"label payload {_short(text)}: expected a Digital Link of a trade item (/01/{{GTIN}})")
    host = text.split("://", 1)[1].split("/", 1)[0]
    return Label(text, GS1, link.canonical, host, link.gtin, link.lot, link.serial, link.expiry)


def _signed_parts(text: str, params: list[str]) -> tuple[str | None, bytes, bytes]:
    """The raw expiry value and the key ID and signature of a signed payload's query."""
    values: dict[str, str] = {}
    for param in params:
        name, equals, value = param.partition("=")
        if name not in ("17", SIGNATURE_PARAMETER):
            raise LabelError(
                f"label payload {_short(text)}: unknown parameter {_short(name)} in the signed part; "
                f"expected only '17' (expiry) and '{SIGNATURE_PARAMETER}' (signature)"
            )
        if not equals or name in values:
            problem = "a repeated" if name in values else "a value-less"
            raise LabelError(f"label payload {_short(text)}: {problem} parameter {name!r}")
        values[name] = value
    encoded = values[SIGNATURE_PARAMETER]
    raw = None
    if _B64URL_RE.fullmatch(encoded):
        try:
            raw = base64.urlsafe_b64decode(encoded + "=")
        except (binascii.Error, ValueError):
            raw = None
    # The decoder ignores the unused low bits of the last character; re-encoding keeps one spelling per signature.
    if raw is None or base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != encoded:
        raise LabelError(
            f"label payload: signature parameter must be {_SIGNATURE_CHARS} characters of unpadded base64url "
            f"(key ID and Ed25519 signature), found {_short(encoded)}"
        )
    return values.get("17"), raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:]


def _parse_signed(text: str, base: str, params: list[str]) -> Label:
    expiry_value, key_id, signature = _signed_parts(text, params)
    vet = _VET_SIGNED_RE.fullmatch(base)
    if vet is not None:
        if expiry_value is not None:
            raise LabelError(f"label payload {_short(text)}: a veterinary drug label carries no expiry parameter")
        domain, digits = _check_domain_in(text, vet[1]), vet[2]
        label = Label(text, VET_DRUG, identifiers.VET_DRUG_URN_PREFIX + digits, domain, trace_code=digits)
    else:
        label = _parse_signed_gs1(text, base, expiry_value)
    label = _with_signature(label, key_id, signature)
    expected = _respelled(label, label.domain or "", key_id + signature)
    if expected != text:
        raise LabelError(f"label payload {_short(text)}: not in canonical form; the same label is spelled {expected}")
    return label


def _check_domain_in(text: str, domain: str) -> str:
    try:
        return _check_domain(domain)
    except LabelError as e:
        raise LabelError(f"label payload {_short(text)}: {e}") from e


def _parse_signed_gs1(text: str, base: str, expiry_value: str | None) -> Label:
    uri = base if expiry_value is None else f"{base}?17={expiry_value}"
    try:
        link = identifiers.parse_digital_link(uri)
    except IdentifierError as e:
        raise LabelError(f"label payload: {e}") from e
    if link.gtin is None or link.serial is None or link.sscc is not None or link.gln is not None:
        raise LabelError(f"label payload {_short(text)}: a signed GS1 label names a GTIN and a serial (/01/…/21/…)")
    path = identifiers.digital_link(link.gtin, lot=link.lot, serial=link.serial, domain="h")[len("https://h") :]
    if not base.startswith("https://") or not base.endswith(path) or len(base) <= len("https://") + len(path):
        raise LabelError(f"label payload {_short(text)}: not in canonical form; expected https://{{domain}}{path}")
    domain = _check_domain_in(text, base[len("https://") : -len(path)])
    return Label(text, GS1, link.canonical, domain, link.gtin, link.lot, link.serial, link.expiry)


def _with_signature(label: Label, key_id: bytes, signature: bytes) -> Label:
    return Label(
        label.payload,
        label.kind,
        label.code,
        label.domain,
        label.gtin,
        label.lot,
        label.serial,
        label.expiry,
        label.trace_code,
        key_id,
        signature,
    )


def _respelled(label: Label, domain: str, signed: bytes) -> str:
    """The signed payload as the issuing functions would write it, from the parsed values."""
    value = base64.urlsafe_b64encode(signed).decode("ascii").rstrip("=")
    if label.kind == VET_DRUG:
        return f"https://{domain}/{VET_PATH}/{label.trace_code}?{SIGNATURE_PARAMETER}={value}"
    try:
        uri = identifiers.digital_link(
            label.gtin or "", lot=label.lot, serial=label.serial, expiry=label.expiry, domain=domain
        )
    except IdentifierError as e:
        raise LabelError(f"label payload {_short(label.payload)}: {e}") from e
    return f"{uri}{'&' if '?' in uri else '?'}{SIGNATURE_PARAMETER}={value}"


# ----------------------------------------------------------------------------------------------------
# Verifying


@dataclass(frozen=True, slots=True)
class LabelCheck:
    """The outcome of checking a label's issuer signature; true only when :attr:`status` is :data:`VALID`."""

    label: Label
    status: str
    """:data:`VALID`, :data:`UNSIGNED`, :data:`UNKNOWN_ISSUER` or :data:`BAD_SIGNATURE`."""
    reason: str
    """One sentence for a person."""
    issuer: VerifierKey | None = None
    """The verifier key whose signature it is, when :data:`VALID`."""

    def __bool__(self) -> bool:
        return self.status == VALID


def _verifier_keys(verifiers: Iterable[str | VerifierKey]) -> list[VerifierKey]:
    if isinstance(verifiers, (str, VerifierKey)):
        # A bare string is iterable too, and would be read one character at a time.
        raise LabelSignatureError("verifiers must be a collection of verifier keys, found a single key")
    return [v if isinstance(v, VerifierKey) else VerifierKey.parse(v) for v in verifiers]


def verify_label(label: Label | str | bytes, verifiers: Iterable[str | VerifierKey]) -> LabelCheck:
    """Check a label's issuer signature against the issuer verifier keys held; never raises for a bad signature.

    A payload that does not parse raises :class:`LabelError`; a malformed verifier key string raises
    :class:`~tracechain.errors.SignatureError`. The signature is looked up by its key ID; every held key with that
    ID is tried (names are not on the label, so two issuers' IDs could collide).
    """
    parsed = label if isinstance(label, Label) else parse_label(label)
    keys = _verifier_keys(verifiers)
    if parsed.key_id is None or parsed.signature is None:
        return LabelCheck(parsed, UNSIGNED, f"{parsed.code} carries no issuer signature")
    candidates = [k for k in keys if k.key_id == parsed.key_id]
    if not candidates:
        return LabelCheck(
            parsed, UNKNOWN_ISSUER, f"{parsed.code} is signed by key ID {parsed.key_id.hex()}, which no verifier holds"
        )
    message = parsed.message()
    for key in candidates:
        if key.verify(message, parsed.signature):
            return LabelCheck(parsed, VALID, f"{parsed.code} is signed by {key.name}", key)
    names = ", ".join(sorted(k.name for k in candidates))
    reason = f"{parsed.code}: the signature under key ID {parsed.key_id.hex()} ({names}) does not verify"
    return LabelCheck(parsed, BAD_SIGNATURE, reason)


def check_label(label: Label | str | bytes, verifiers: Iterable[str | VerifierKey]) -> VerifierKey:
    """Like :func:`verify_label`, but raise :class:`LabelSignatureError` unless the signature verifies; returns the
    issuer's verifier key."""
    result = verify_label(label, verifiers)
    if not result:
        raise LabelSignatureError(f"label signature: {result.reason}", result)
    assert result.issuer is not None
    return result.issuer


def payload_for_code(code: str, key: SigningKey | None = None, *, domain: str = DEFAULT_RESOLVER) -> str:
    """The label payload of an item given by its code: a GS1 Digital Link (any host, with ``/21/`` serial and
    optionally ``/10/`` lot and ``17`` expiry) signed by ``key``, or a 24-digit veterinary drug trace code (bare
    digits or its URN), bare without ``key`` and signed with it. A GS1 code without ``key`` is refused: tracechain's
    GS1 labels are always signed."""
    if not isinstance(code, str):
        raise LabelError(f"item code: expected text, found {type(code).__name__}")
    text = code.strip()
    if text.startswith(identifiers.VET_DRUG_URN_PREFIX):
        text = text[len(identifiers.VET_DRUG_URN_PREFIX) :]
    if _VET_DIGITS_RE.fullmatch(text):
        return vet_payload(text, key, domain=None if key is None else domain)
    try:
        link = identifiers.parse_digital_link(text)
    except IdentifierError as e:
        raise LabelError(f"item code {_short(text)}: expected a GS1 Digital Link or a 24-digit trace code ({e})") from e
    if link.gtin is None or link.serial is None:
        raise LabelError(f"item code {_short(text)}: a label is for one item; expected /01/{{GTIN}}/…/21/{{serial}}")
    if key is None:
        raise LabelError(f"item code {_short(text)}: a GS1 label is signed; an issuer key is needed")
    return gs1_payload(link.gtin, link.serial, key, lot=link.lot, expiry=link.expiry, domain=domain)
