"""Scan verdicts from a ledger: each verdict from the situation that calls for it, with its reasons, the timeline in
both languages and a proof of every event against the signed checkpoint."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import biip
import pytest

from tests.scanchain import (
    CST,
    DISTRIBUTOR,
    EXPIRY,
    GTIN,
    LOT,
    OTHER_GTIN,
    PLANT,
    SHOP,
    START,
    Chain,
    build_chain,
    event,
    lot_class,
    packing,
    recall,
)
from tests.test_profiles import EXAMPLES
from tests.test_qr import _sheet_photo
from tracechain import Ledger, SigningKey, labels, merkle, qr, scan, vocabulary
from tracechain.checkpoints import open_checkpoint
from tracechain.errors import LabelError, SignatureError, ValidationError

AT = datetime(2026, 3, 6, 12, 0, tzinfo=CST)  # after the shop received case 0, before anything was sold


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return build_chain(tmp_path_factory.mktemp("chain"), images="png")


@pytest.fixture
def fresh(tmp_path: Path) -> Chain:
    return build_chain(tmp_path)


def judge(chain: Chain, scanned: Any, **kwargs: Any) -> scan.Verdict:
    kwargs.setdefault("issuers", chain.issuers)
    kwargs.setdefault("at", AT)
    with Ledger.open(chain.ledger, readonly=True) as led:
        return scan.verdict(scanned, led, **kwargs)


def _check_proofs(chain: Chain, result: scan.Verdict) -> None:
    """Every event of the timeline is proved against the operator's signed checkpoint."""
    cp = result.checkpoint
    assert cp is not None
    with Ledger.open(chain.ledger, readonly=True) as led:
        note = led.checkpoints()[-1]
    assert open_checkpoint(note, [chain.operator.verifier]) == cp
    for item in result.timeline:
        assert item.proof is not None and item.proof.root == cp.root and item.proof.size == cp.size
        with Ledger.open(chain.ledger, readonly=True) as led:
            assert item.proof.leaf_hash == led.entry(item.index).leaf_hash
        merkle.verify_inclusion(item.proof.leaf_hash, item.index, cp.size, item.proof.path, cp.root)


# --- GENUINE ----------------------------------------------------------------------------------------------------


def test_a_png_label_by_tracechain_decodes_parses_and_scans_genuine_with_its_whole_history(
    chain: Chain,
) -> None:
    code = chain.units[chain.cases[0]][1]
    serial = code.rsplit("/", 1)[1]
    assert chain.issued.images_dir is not None
    (found,) = qr.decode_image(chain.issued.images_dir / f"{serial}.png")
    parsed = biip.parse(found.text)
    assert parsed.gs1_digital_link_uri is not None and parsed.gtin is not None and parsed.gtin_error is None
    assert parsed.gtin.value == GTIN and parsed.gtin.check_digit == int(GTIN[-1])
    result = judge(chain, found.data + b"\r\n")  # a scanner in keyboard mode ends with a newline
    assert result.verdict == scan.GENUINE and result.ok and bool(result)
    assert result.code == code and result.issuer == chain.brand.verifier_key
    steps = [(t.step, t.via) for t in result.timeline]
    assert steps == [
        ("commissioning", "item"),
        ("inspecting", "item"),
        ("packing", "item"),
        ("shipping", "container"),
        ("receiving", "container"),
        ("shipping", "container"),
        ("receiving", "container"),
    ]
    assert [t.enterprise for t in result.timeline] == [PLANT["uscc"]] * 4 + [DISTRIBUTOR["uscc"]] * 2 + [SHOP["uscc"]]
    assert result.timeline[3].through == chain.cases[0]
    assert result.timeline[3].signer == (PLANT["uscc"], chain.keys["plant"].name)
    assert result.timeline[4].region == "441721"  # the distributor's USCC says Yangxi County
    _check_proofs(chain, result)
    shipped = result.timeline[3]
    assert shipped.what("zh") == "发货，运输中" and shipped.what("en") == "shipped, in transit"
    assert "阳西县惠民食品批发有限公司" in result.timeline[4].sentence("zh")


def test_every_label_on_a_rotated_blurred_jpeg_photo_scans_genuine(chain: Chain) -> None:
    codes = chain.codes()[:6]
    photo = _sheet_photo([chain.payload(c) for c in codes], 30, 1.2, 70)
    found = qr.decode_image(photo)
    assert len(found) == len(codes)
    results = [judge(chain, f.data) for f in found]
    assert sorted(r.code for r in results) == sorted(codes)
    for result in results:
        assert result.verdict == scan.GENUINE, result.reasons
        assert result.timeline[0].step == "commissioning" and len(result.timeline) >= 5
        _check_proofs(chain, result)


def test_the_verdict_json_has_the_documented_shape_in_both_languages(chain: Chain) -> None:
    result = judge(chain, chain.payload(chain.codes()[2])).to_dict()
    assert {"verdict", "code", "reasons", "events"} <= set(result)
    assert result["verdict"] == "GENUINE" and result["verdict_words"] == {
        "code": "GENUINE",
        "en": "genuine",
        "zh": "正品",
    }
    assert result["reasons"] and all(isinstance(r, str) for r in result["reasons"])
    first = result["events"][0]
    assert first["step"] == {"code": "commissioning", "en": "code issued (commissioned)", "zh": "生产赋码"}
    assert first["who"]["enterprise_name"] == PLANT["name"] and first["who"]["signer"]["actor"] == PLANT["uscc"]
    assert first["proof"]["root"] == result["checkpoint"]["root"]
    assert result["label"]["lot"] == LOT and result["label"]["expiry"] == EXPIRY.isoformat()


def test_a_verdict_from_the_ledgers_own_keys_or_the_callers_log_key_agree_and_a_stranger_key_is_refused(
    chain: Chain,
) -> None:
    payload = chain.payload(chain.codes()[3])
    assert judge(chain, payload).to_dict() == judge(chain, payload, log_keys=[chain.operator.verifier]).to_dict()
    stranger = SigningKey.generate(chain.operator.name)
    with pytest.raises(SignatureError):
        judge(chain, payload, log_keys=[stranger.verifier])


# --- FORGED -----------------------------------------------------------------------------------------------------


def _swap_serial(payload: str, serial: str) -> str:
    return re.sub(r"/21/[^?]+", f"/21/{serial}", payload)


def test_a_changed_serial_a_reused_signature_and_an_unknown_issuer_are_forged(chain: Chain) -> None:
    a, b = chain.codes()[:2]
    genuine_a, genuine_b = chain.payload(a), chain.payload(b)
    serial_b = b.rsplit("/", 1)[1]
    changed = _swap_serial(genuine_a, serial_b)  # a's signature, b's serial: a real code, a wrong signature
    assert labels.parse_label(changed).code == b
    reused = genuine_b.split("&s=")[0] + "&s=" + genuine_a.split("&s=")[1]
    stranger = SigningKey.generate("brand.nanling.example.cn")  # the same name, another key
    invented = labels.gs1_payload(GTIN, serial_b, stranger, lot=LOT, expiry=EXPIRY, domain="qr.nanling.example.cn")
    for payload, why in ((changed, "does not verify"), (reused, "does not verify"), (invented, "not an issuer key")):
        result = judge(chain, payload)
        assert result.verdict == scan.FORGED and not result
        assert why in " ".join(result.to_dict()["reasons"])
        assert result.timeline == []  # a forged label shows no history of the code it copies
    unsigned = f"https://qr.nanling.example.cn/01/{GTIN}/10/{LOT}/21/{serial_b}"
    assert judge(chain, unsigned).verdict == scan.FORGED


def test_a_brands_key_does_not_vouch_for_another_brands_codes(chain: Chain) -> None:
    other_brand = SigningKey.generate("brand.other.example.cn")
    issuers = {"6903215": chain.brand.verifier, "6912345": other_brand.verifier}
    # The real brand signs a code of the other brand's GTIN: its signature verifies, but it is not that code's owner.
    foreign = labels.gs1_payload(OTHER_GTIN, "SN0001", chain.brand, lot="L1")
    result = judge(chain, foreign, issuers=issuers)
    assert result.verdict == scan.FORGED and "not an issuer key of GTIN" in result.reasons[0].message
    assert judge(chain, labels.gs1_payload(OTHER_GTIN, "SN0001", other_brand, lot="L1"), issuers=issuers).verdict == (
        scan.UNKNOWN_CODE
    )
    assert judge(chain, chain.payload(chain.codes()[0]), issuers={}).verdict == scan.FORGED  # no issuer known
    # A whole GTIN can be tied to a key too.
    only_gtin = {GTIN: chain.brand.verifier}
    assert judge(chain, chain.payload(chain.codes()[2]), issuers=only_gtin).verdict == scan.GENUINE


def test_issuer_owners_must_be_prefixes_gtins_or_vet_enterprises(chain: Chain) -> None:
    for owner in ("69", "690321500000001", "06903215123456", "vd:123", "brand"):
        with pytest.raises(ValidationError):
            scan.Issuers({owner: chain.brand.verifier})
    with pytest.raises(SignatureError):
        scan.Issuers({"6903215": "not a key"})


# --- UNKNOWN_CODE -----------------------------------------------------------------------------------------------


def test_a_correctly_signed_code_that_was_never_recorded_is_unknown(chain: Chain) -> None:
    payload = labels.gs1_payload(GTIN, "NEVERMADE01", chain.brand, lot=LOT, expiry=EXPIRY)
    result = judge(chain, payload)
    assert result.verdict == scan.UNKNOWN_CODE and result.timeline == []
    assert "no event in the ledger names" in result.to_dict()["reasons"][0]


def test_a_bare_vet_drug_trace_code_needs_no_signature(tmp_path: Path) -> None:
    from tests.conftest import ACTOR_USCC, OPERATOR_USCC, ORIGIN

    operator, plant = SigningKey.generate(ORIGIN), SigningKey.generate("vet.example.cn")
    example = json.loads((EXAMPLES / "vet_drug" / "commissioning.json").read_text())
    example["tc:kde"]["enterprise_uscc"] = ACTOR_USCC
    code = example["tc:kde"]["trace_code"]
    with Ledger.create(tmp_path / "v.db", ORIGIN, operator, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, operator)
        led.append(example, plant)
        led.checkpoint(operator)
        at = datetime(2025, 3, 3, tzinfo=CST)
        result = scan.verdict(code + "\n", led, at=at)
        assert result.verdict == scan.GENUINE, result.reasons
        assert "carries no signature" in result.reasons[0].message
        assert scan.verdict(code[:-3] + "999", led, at=at).verdict == scan.UNKNOWN_CODE
        # The signed form is checked against the keys tied to the enterprise number inside the code.
        brand = SigningKey.generate("vet-brand.example.cn")
        signed = labels.vet_payload(code, brand, domain="vd.example.cn")
        owners = {f"vd:{code[8:13]}": brand.verifier}
        assert scan.verdict(signed, led, issuers=owners, at=at).verdict == scan.GENUINE
        assert scan.verdict(signed, led, issuers={"vd:99999": brand.verifier}, at=at).verdict == scan.FORGED


# --- RECALLED ---------------------------------------------------------------------------------------------------


def test_a_unit_of_a_lot_recalled_after_aggregation_into_a_case_is_recalled(fresh: Chain) -> None:
    unit = fresh.units[fresh.cases[1]][2]  # in case 1, at the distributor, never named by the recall
    fresh.append([recall(START + timedelta(days=4), quantityList=[{"epcClass": lot_class(), "quantity": 12}])], "plant")
    result = judge(fresh, fresh.payload(unit), at=START + timedelta(days=5))
    assert result.verdict == scan.RECALLED and not result
    (why,) = result.reasons_for(scan.RECALLED)
    assert "recalled (阪崎肠杆菌不合格)" in why.message and lot_class() in why.message
    assert result.timeline[-1].via == "lot" and result.timeline[-1].disposition == "recalled"
    _check_proofs(fresh, result)
    assert result.problems and result.problems[0].index == why.index


def test_a_recall_of_the_case_covers_the_units_inside_it_but_not_those_taken_out_before(fresh: Chain) -> None:
    case = fresh.cases[1]
    inside, removed = fresh.units[case][0], fresh.units[case][1]
    took_out = packing(START + timedelta(days=2), case, [removed], action="DELETE")
    recalled = recall(START + timedelta(days=4), epcList=[case])
    fresh.append([took_out], "plant", checkpoint=False)
    fresh.append([recalled], "plant")
    assert judge(fresh, fresh.payload(inside)).verdict == scan.RECALLED
    out = judge(fresh, fresh.payload(removed))
    assert out.verdict == scan.GENUINE, out.reasons
    taken_out = (START + timedelta(days=2)).isoformat()
    assert [t.step for t in out.timeline if t.via == "container"] == ["shipping", "receiving"]
    assert all(t.time < taken_out for t in out.timeline if t.via == "container")


def test_a_non_conformant_inspection_of_the_lot_recalls_it(fresh: Chain) -> None:
    failed = event(
        PLANT,
        "inspecting",
        "non_conformant",
        START + timedelta(days=5),
        {
            "lot": LOT,
            "inspection_result": "non_conformant",
            "inspection_kind": "supervisory_sampling",
            "testing_body": "阳江市食品检验所",
            "report_number": "JD-2026-0042",
            "failed_items": ["蛋白质"],
        },
        quantityList=[{"epcClass": lot_class(), "quantity": 2}],
    )
    fresh.append([failed], "plant")
    result = judge(fresh, fresh.payload(fresh.codes()[5]))
    assert result.verdict == scan.RECALLED
    assert "failed inspection (failed: 蛋白质)" in result.reasons_for(scan.RECALLED)[0].message


def test_a_recalled_ingredient_lot_recalls_what_was_made_from_it(fresh: Chain) -> None:
    milk = "https://id.gs1.org/01/06903215000183/10/RM260226"
    example = json.loads((EXAMPLES / "infant_formula" / "transformation.json").read_text())
    example.pop("sensorElementList", None)
    example["eventTime"] = (START - timedelta(hours=1)).isoformat()
    example["inputQuantityList"] = [{"epcClass": milk, "quantity": 12000.0, "uom": "LTR"}]
    example["outputQuantityList"] = [{"epcClass": lot_class(), "quantity": 12}]
    example["tc:kde"] |= {
        "enterprise_uscc": PLANT["uscc"],
        "lot": LOT,
        "production_date": "2026-03-01",
        "expiry_date": EXPIRY.isoformat(),
    }
    milk_recall = recall(START + timedelta(days=6), quantityList=[{"epcClass": milk, "quantity": 12000}])
    milk_recall["tc:kde"]["lot"] = "RM260226"
    fresh.append([example, milk_recall], "plant")
    result = judge(fresh, fresh.payload(fresh.codes()[7]), at=START + timedelta(days=7))
    assert result.verdict == scan.RECALLED
    (why,) = result.reasons_for(scan.RECALLED)
    assert "RM260226" in why.message and "an ingredient lot" in why.message
    assert {t.via for t in result.timeline} == {"item", "container", "lot", "input"}


# --- DESTROYED_OR_SOLD and EXPIRED ------------------------------------------------------------------------------


def test_a_sale_long_ago_or_a_second_first_sale_takes_the_code_out_of_circulation(chain: Chain) -> None:
    payload = chain.payload(chain.sold)
    soon = judge(chain, payload, at=START + timedelta(days=12))
    assert soon.verdict == scan.GENUINE and "within 14 days" in soon.reasons[1].message
    late = judge(chain, payload, at=START + timedelta(days=40))
    assert (
        late.verdict == scan.DESTROYED_OR_SOLD
        and "should no longer be on sale" in late.reasons_for(late.verdict)[0].message
    )
    till = scan.new_scan(START + timedelta(days=11), "441721", by=SHOP["uscc"], first_sale=True)
    again = judge(chain, payload, scan=till)
    assert again.verdict == scan.DESTROYED_OR_SOLD and "before this first-sale scan" in again.to_dict()["reasons"][0]
    before = judge(chain, payload, at=START + timedelta(days=6))  # the sale is later than the moment judged
    assert before.verdict == scan.GENUINE


def test_a_destroyed_lot_is_out_of_circulation(fresh: Chain) -> None:
    destroyed = event(
        PLANT,
        "destroying",
        "destroyed",
        START + timedelta(days=5),
        {"lot": LOT, "destruction_method": "焚烧", "destruction_supervisor": "阳西县市场监督管理局"},
        action="DELETE",
        quantityList=[{"epcClass": lot_class(), "quantity": 12}],
    )
    fresh.append([destroyed], "plant")
    result = judge(fresh, fresh.payload(fresh.codes()[9]), at=START + timedelta(days=6))
    assert result.verdict == scan.DESTROYED_OR_SOLD
    assert judge(fresh, fresh.payload(fresh.codes()[9]), at=START + timedelta(days=4)).verdict == scan.GENUINE


def test_past_the_expiry_date_is_expired(chain: Chain) -> None:
    payload = chain.payload(chain.codes()[4])
    assert judge(chain, payload, at=datetime(2028, 2, 28, 23, 0, tzinfo=CST)).verdict == scan.GENUINE
    result = judge(chain, payload, at=datetime(2028, 2, 29, 0, 30, tzinfo=CST))
    assert result.verdict == scan.EXPIRED and "expired on 2028-02-28" in result.to_dict()["reasons"][0]


def test_a_recall_outranks_every_other_finding(fresh: Chain) -> None:
    fresh.append([recall(START + timedelta(days=4), epcList=[fresh.sold])], "plant")
    result = judge(fresh, fresh.payload(fresh.sold), at=datetime(2029, 1, 1, tzinfo=CST))
    assert {r.verdict for r in result.reasons} >= {scan.RECALLED, scan.DESTROYED_OR_SOLD, scan.EXPIRED}
    assert result.verdict == scan.RECALLED
    assert [f["verdict"] for f in result.to_dict()["findings"]][:3] == ["RECALLED", "DESTROYED_OR_SOLD", "EXPIRED"]


# --- inputs and words -------------------------------------------------------------------------------------------


def test_payloads_that_are_not_labels_are_label_errors_and_one_newline_is_all_that_is_stripped(chain: Chain) -> None:
    payload = chain.payload(chain.codes()[0])
    assert scan.read_payload(payload + "\r\n").code == scan.read_payload(payload.encode() + b"\n").code
    for bad in (payload + "\n\n", " " + payload, payload + "\t", b"\xff" + payload.encode(), "x" * 3000):
        with pytest.raises(LabelError):
            judge(chain, bad)


def test_scan_times_and_places_are_validated() -> None:
    for args, kwargs in (
        ((datetime(2026, 3, 1), "441721"), {}),
        ((START, "4417"), {}),
        ((START, "991721"), {}),
        ((START, "441721"), {"lat": 21.7}),
        ((START, "441721"), {"lat": 91.0, "lon": 111.0}),
        ((START, "441721"), {"by": "shop\n2"}),
    ):
        with pytest.raises(ValidationError):
            scan.new_scan(*args, **kwargs)
    made = scan.new_scan(START, "441721", lat=21.7, lon=111.6, by="till 3", first_sale=True)
    assert (made.zone, made.region, made.first_sale) == ("+08:00", "441721", True)
    assert made.time == int(START.timestamp()) * 1_000_000


def test_every_cbv_step_and_disposition_has_words_in_both_languages() -> None:
    from tracechain.events import BIZ_STEPS, DISPOSITIONS

    for kind, values in (("step", BIZ_STEPS), ("disposition", DISPOSITIONS), ("verdict", scan.VERDICTS)):
        for value in values:
            words = vocabulary.describe(kind, value)
            assert words["en"] and "_" not in words["en"], (kind, value)  # a word, not the code
            assert words["zh"] != value and not words["zh"].isascii(), (kind, value)
    assert vocabulary.word("step", "urn:example:step:x", "zh") == "urn:example:step:x"


def test_a_verdict_needs_a_label_or_a_code(chain: Chain) -> None:
    with pytest.raises(ValidationError):
        judge(chain, None)
    result = judge(chain, None, code=chain.codes()[2].replace("https://id.gs1.org", "http://example.com"))
    assert result.verdict == scan.GENUINE and "no label was scanned" in result.reasons[0].message


def test_the_library_example_in_docs_scan_md_runs(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "scan.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(chain.folder)
    (chain.folder / "formula.db").unlink(missing_ok=True)
    (chain.folder / "formula.db").symlink_to(chain.ledger)
    payload = chain.payload(chain.codes()[2])
    printed: list[tuple[Any, ...]] = []
    namespace = {"payload": payload, "brand_verifier_key": chain.brand.verifier, "print": lambda *a: printed.append(a)}
    exec(compile(code, "docs/scan.md", "exec"), namespace)
    assert printed[0][0] in scan.VERDICTS and len(printed) == 1 + len(namespace["result"].timeline)  # type: ignore[attr-defined]
