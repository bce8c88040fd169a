"""Label payloads: the signed GS1 Digital Link and vet-drug forms, the strict parser, and issuer signatures."""

from __future__ import annotations

import base64
import re
from datetime import date

import biip
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracechain import labels
from tracechain.errors import LabelError, LabelSignatureError, SignatureError, TracechainError
from tracechain.keys import SigningKey
from tracechain.labels import (
    BAD_SIGNATURE,
    UNKNOWN_ISSUER,
    UNSIGNED,
    VALID,
    check_label,
    gs1_payload,
    parse_label,
    verify_label,
    vet_payload,
)

BRAND = SigningKey.from_seed("brand.example.cn", bytes(range(32)))
OTHER = SigningKey.from_seed("other.example.cn", bytes(range(1, 33)))
GTIN13 = "6903215123455"
GTIN14 = "0" + GTIN13
DOMAIN = "qr.example.cn"
VET = "202503021023400000000157"


def signed(serial: str = "7KQ2M9XH3ZT4P", **kw: object) -> str:
    args: dict[str, object] = {"lot": "NL250301A", "expiry": date(2027, 2, 28), "domain": DOMAIN}
    args.update(kw)
    return gs1_payload(GTIN13, serial, BRAND, **args)  # type: ignore[arg-type]


def test_a_signed_payload_has_the_documented_shape_and_bytes() -> None:
    payload = signed()
    base, _, sig = payload.partition("&s=")
    assert base == f"https://{DOMAIN}/01/{GTIN14}/10/NL250301A/21/7KQ2M9XH3ZT4P?17=270228"
    raw = base64.urlsafe_b64decode(sig + "=")
    assert len(sig) == 91 and len(raw) == 68
    assert raw[:4] == BRAND.key_id
    # The message, built here from docs/SPEC.md rather than by label_message, verified by cryptography itself.
    message = (
        b"tracechain label signature v1\x00"
        + f"https://id.gs1.org/01/{GTIN14}/21/7KQ2M9XH3ZT4P".encode()
        + b"\nNL250301A\n270228"
    )
    Ed25519PublicKey.from_public_bytes(BRAND.public_bytes).verify(raw[4:], message)


def test_a_signed_payload_is_a_gs1_digital_link_biip_reads() -> None:
    result = biip.parse(signed())
    link = result.gs1_digital_link_uri
    assert link is not None and result.gtin is not None
    assert result.gtin.value == GTIN14 and result.gtin_error is None
    values = {es.ai.ai: es.value for es in link.element_strings}
    assert values == {"01": GTIN14, "10": "NL250301A", "21": "7KQ2M9XH3ZT4P", "17": "270228"}


def test_parse_reads_back_every_field() -> None:
    label = parse_label(signed())
    assert label.kind == labels.GS1 and label.domain == DOMAIN
    fields = (label.gtin, label.lot, label.serial, label.expiry)
    assert fields == (GTIN14, "NL250301A", "7KQ2M9XH3ZT4P", date(2027, 2, 28))
    assert label.code == f"https://id.gs1.org/01/{GTIN14}/21/7KQ2M9XH3ZT4P"
    assert label.key_id == BRAND.key_id and label.signed
    assert parse_label(signed().encode()) == label


def test_without_lot_or_expiry_the_payload_still_round_trips() -> None:
    payload = gs1_payload(GTIN13, "A1", BRAND)
    assert payload.startswith(f"https://id.gs1.org/01/{GTIN14}/21/A1?s=")
    label = parse_label(payload)
    assert label.lot is None and label.expiry is None
    assert verify_label(label, [BRAND.verifier])


def test_a_genuine_label_verifies_and_names_its_issuer() -> None:
    check = verify_label(signed(), [OTHER.verifier, BRAND.verifier])
    assert check and check.status == VALID and check.issuer == BRAND.verifier_key
    assert check_label(signed(), [BRAND.verifier_key]) == BRAND.verifier_key


def _swap_signature(payload: str, donor: str) -> str:
    return payload.partition("&s=")[0] + "&s=" + donor.partition("&s=")[2]


@pytest.mark.parametrize(
    ("forged", "status"),
    [
        (signed().replace("7KQ2M9XH3ZT4P", "7KQ2M9XH3ZT4Q"), BAD_SIGNATURE),  # changed serial
        (_swap_signature(signed("AAAAAAAAAAAAA"), signed("BBBBBBBBBBBBB")), BAD_SIGNATURE),  # re-used signature
        (signed().replace("/10/NL250301A/", "/10/NL250301B/"), BAD_SIGNATURE),  # changed lot
        (signed().replace("17=270228", "17=290228"), BAD_SIGNATURE),  # extended expiry
        (signed().replace(DOMAIN, "evil.example.cn"), VALID),  # the resolver domain is not signed (SPEC)
        (gs1_payload(GTIN13, "7KQ2M9XH3ZT4P", OTHER, lot="NL250301A", domain=DOMAIN), UNKNOWN_ISSUER),
        (f"https://{DOMAIN}/01/{GTIN14}/10/NL250301A/21/7KQ2M9XH3ZT4P", UNSIGNED),
    ],
)
def test_forgeries_fail_with_a_typed_result_and_error(forged: str, status: str) -> None:
    check = verify_label(forged, [BRAND.verifier])
    assert check.status == status
    if status == VALID:
        return
    assert not check
    with pytest.raises(LabelSignatureError) as caught:
        check_label(forged, [BRAND.verifier])
    assert caught.value.check == check
    assert isinstance(caught.value, SignatureError)


def test_a_label_signature_is_not_a_signature_of_anything_else() -> None:
    # The same key signing the bare canonical code (as a note or another protocol might) must not verify.
    label = parse_label(signed())
    assert label.signature is not None
    assert not BRAND.verifier_key.verify(label.code.encode(), label.signature)
    assert label.message().startswith(b"tracechain label signature v1\x00")


def test_vet_drug_payloads_bare_and_signed() -> None:
    assert vet_payload(VET) == VET
    bare = parse_label(VET)
    assert bare.kind == labels.VET_DRUG and bare.code == f"urn:tracechain:vetdrug:{VET}" and not bare.signed
    assert verify_label(bare, [BRAND.verifier]).status == UNSIGNED
    payload = vet_payload(VET, BRAND, domain="vd.example.cn")
    assert payload.startswith(f"https://vd.example.cn/vd/{VET}?s=")
    label = parse_label(payload)
    assert label.trace_code == VET and verify_label(label, [BRAND.verifier])
    other_code = payload.replace(VET, VET[:-1] + "8")
    assert verify_label(other_code, [BRAND.verifier]).status == BAD_SIGNATURE
    with pytest.raises(LabelError, match="resolver domain"):
        vet_payload(VET, BRAND)
    with pytest.raises(LabelError, match="24 digits"):
        vet_payload(VET[:-1])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (signed() + "&x=1", "unknown parameter 'x'"),
        (signed().replace("?17=270228&", "?11=250301&17=270228&"), "unknown parameter '11'"),
        (signed().replace("&s=", "&s=A&s="), "repeated parameter"),
        (signed().replace("https://", "HTTPS://"), "canonical"),
        (signed().replace("https://", "http://"), "canonical"),
        (signed().replace(DOMAIN, "QR.example.cn"), "lower-case host"),
        (signed().replace(f"/01/{GTIN14}", f"/01/{GTIN13}"), "canonical"),
        (signed().replace(f"/01/{GTIN14}", f"/gtin/{GTIN14}"), "canonical"),
        (signed().replace("17=270228&s=", "s=") + "&17=270228", "canonical"),
        (signed()[:-1], "base64url"),
        (signed()[:-1] + ("B" if signed()[-1] != "B" else "C"), ""),  # canonical trailing bits or a bad signature
        (signed() + "=", "base64url"),
        (signed().replace("&s=", "&s=+"), "base64url"),
        (signed() + "#frag", "base64url"),
        (signed().replace("/21/7KQ2M9XH3ZT4P", "/21/7KQ%32M9XH3ZT4P"), "canonical"),
        (" " + signed(), "expected a GS1 Digital Link"),
        (signed() + "\n", "U+000A"),
        ("\u202e" + signed(), "bidirectional"),
        (signed().replace("NL250301A", "NL2503\u200b01A"), "U+200B"),
        ("x" * 2954, "at most 2953"),
        ("", "empty"),
        ("hello", "expected a GS1 Digital Link"),
        (f"https://{DOMAIN}/vd/{VET}?17=270228&s=" + signed().partition("&s=")[2], "no expiry"),
        (f"https://{DOMAIN}/00/106141412345678908?s=" + signed().partition("&s=")[2], "GTIN and a serial"),
        (f"https://{DOMAIN}/01/{GTIN14}/10/L?s=" + signed().partition("&s=")[2], "GTIN and a serial"),
    ],
)
def test_malformed_and_non_canonical_payloads_are_refused(payload: str, message: str) -> None:
    if not message:
        # Changing the last base64url character either leaves non-zero unused bits or changes the signature.
        try:
            label = parse_label(payload)
        except LabelError as e:
            problem = str(e)
        else:
            problem = verify_label(label, [BRAND.verifier]).status
        assert "base64url" in problem or problem == BAD_SIGNATURE
        return
    with pytest.raises(LabelError, match=re.escape(message)):
        parse_label(payload)


def test_bytes_that_are_not_utf8_or_too_long_are_refused_unread() -> None:
    with pytest.raises(LabelError, match="expected UTF-8, found byte 0xff at offset 3"):
        parse_label(b"abc\xff")
    with pytest.raises(LabelError, match="at most 2953"):
        parse_label(b"1" * 10_000_000)
    with pytest.raises(LabelError, match="expected UTF-8"):
        parse_label(signed().encode("utf-16"))
    with pytest.raises(LabelError, match="expected text or bytes"):
        parse_label(12345)  # type: ignore[arg-type]


def test_unsigned_digital_links_from_other_printers_are_read_leniently() -> None:
    label = parse_label("https://example.cn/gtin/6901234567892/ser/SER1?17=270101&utm=x")
    assert label.code == "https://id.gs1.org/01/06901234567892/21/SER1" and not label.signed
    assert label.expiry == date(2027, 1, 1)
    with pytest.raises(LabelError, match="check digit"):
        parse_label("https://example.cn/01/6901234567893/21/SER1")


def test_serials_are_random_crockford_symbols() -> None:
    serials = {labels.new_serial() for _ in range(2000)}
    assert len(serials) == 2000
    assert all(len(s) == labels.SERIAL_LENGTH and set(s) <= set(labels.SERIAL_ALPHABET) for s in serials)
    # Every symbol turns up in every position over 2000 draws unless the draw is biased or fixed.
    for position in range(labels.SERIAL_LENGTH):
        assert {s[position] for s in serials} == set(labels.SERIAL_ALPHABET)


def test_vet_trace_codes_follow_the_national_layout() -> None:
    code = labels.new_vet_trace_code(date(2025, 3, 2), "10234")
    assert len(code) == 24 and code.isdigit() and code.startswith("2025030210234")
    assert len({labels.new_vet_trace_code(date(2025, 3, 2), "10234") for _ in range(500)}) == 500
    with pytest.raises(LabelError, match="5 digits"):
        labels.new_vet_trace_code(date(2025, 3, 2), "1023")


def test_issuing_refuses_bad_input_with_label_errors() -> None:
    with pytest.raises(LabelError, match="check digit"):
        gs1_payload("6903215123456", "A", BRAND)
    with pytest.raises(LabelError, match="character set 82"):
        gs1_payload(GTIN13, "序列", BRAND)
    with pytest.raises(LabelError, match="lower-case host"):
        gs1_payload(GTIN13, "A", BRAND, domain="Example.CN")
    with pytest.raises(LabelError, match="SigningKey"):
        gs1_payload(GTIN13, "A", BRAND.verifier)  # type: ignore[arg-type]
    with pytest.raises(LabelError, match="canonical"):
        labels.label_message(f"https://example.cn/01/{GTIN14}/21/A")


def test_payload_size_for_a_typical_label_fits_qr_version_9_m() -> None:
    # docs/labels.md states the budget: this is the arithmetic behind it.
    payload = signed(labels.new_serial())
    assert len(payload.encode()) == 151 + len(DOMAIN) + len("NL250301A")


# ----------------------------------------------------------------------------------------------------
# Hostile input: the parser answers with a LabelError or a Label, never anything else.

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_label_error(data: str | bytes) -> None:
    try:
        label = parse_label(data)
    except LabelError:
        return
    # Whatever parses must re-verify without raising, and a signed one must be in canonical form.
    verify_label(label, [BRAND.verifier])
    assert isinstance(label.code, str)


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes_give_label_errors_only(data: bytes) -> None:
    _parse_or_label_error(data)


@FUZZ
@given(st.text(max_size=400))
def test_random_text_gives_label_errors_only(text: str) -> None:
    _parse_or_label_error(text)


@FUZZ
@given(st.sampled_from(["utf-16", "utf-16-le", "gb18030", "big5", "latin-1", "utf-32"]), st.text(min_size=1))
def test_wrong_encodings_give_label_errors_only(encoding: str, text: str) -> None:
    try:
        data = (signed() + text).encode(encoding)
    except UnicodeEncodeError:
        data = signed().encode(encoding, "replace")
    _parse_or_label_error(data)


@FUZZ
@given(st.integers(2954, 50_000), st.sampled_from(["a", "1", "中", "\x00"]))
def test_huge_payloads_are_refused(size: int, unit: str) -> None:
    with pytest.raises(LabelError, match="at most 2953"):
        parse_label(unit * size)
    with pytest.raises(LabelError, match="at most 2953"):
        parse_label((unit * size).encode())


_SEGMENTS = st.sampled_from(
    ["01", GTIN14, GTIN13, "10", "21", "17", "00", "414", "vd", VET, "gtin", "ser", "NL250301A", "%2F", "%", "..", ""]
)
_PARAMS = st.lists(
    st.tuples(
        st.sampled_from(["17", "s", "11", "x", "", "S", "s "]),
        st.one_of(st.just(signed().partition("&s=")[2]), st.sampled_from(["270228", "991399", "", "%00"]), st.text()),
    ),
    max_size=4,
)


@FUZZ
@given(
    st.sampled_from(["https://", "http://", "HTTPS://", "https:/", "ftp://"]),
    st.sampled_from([DOMAIN, "QR.example.cn", "a", "xn--fiqs8s.cn", "x.cn:99999", "x.cn/p", "中国.cn", "[::1]", ""]),
    st.lists(_SEGMENTS, max_size=8),
    _PARAMS,
    st.sampled_from(["", "#f", "?", "&"]),
)
def test_crafted_uris_give_label_errors_only(
    scheme: str, host: str, segments: list[str], params: list[tuple[str, str]], tail: str
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    uri = f"{scheme}{host}/{'/'.join(segments)}" + (f"?{query}" if query else "") + tail
    _parse_or_label_error(uri)


@FUZZ
@given(st.integers(0, 172), st.characters())
def test_one_changed_character_is_refused_or_fails_verification(position: int, ch: str) -> None:
    payload = signed()
    position %= len(payload)
    if payload[position] == ch:
        return
    tampered = payload[:position] + ch + payload[position + 1 :]
    try:
        label = parse_label(tampered)
    except LabelError:
        return
    # Only the resolver domain is outside the signature.
    host_end = len("https://") + len(DOMAIN)
    assert verify_label(label, [BRAND.verifier]).status != VALID or position < host_end


def test_every_label_error_is_a_tracechain_error() -> None:
    assert issubclass(LabelError, TracechainError) and issubclass(LabelSignatureError, TracechainError)


@FUZZ
@given(st.one_of(st.text(max_size=300), _SEGMENTS.map(lambda s: f"https://x.cn/01/{GTIN14}/21/{s}")))
def test_codes_for_the_qr_command_give_label_errors_only(code: str) -> None:
    try:
        payload = labels.payload_for_code(code, BRAND, domain=DOMAIN)
    except LabelError:
        return
    assert verify_label(payload, [BRAND.verifier])
