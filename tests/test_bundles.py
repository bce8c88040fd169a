"""Offline proof bundles: written from a ledger, read in one spelling only, checked with verifier keys alone, read
by Go's sumdb packages as C2SP tlog-proofs, and a changed byte anywhere is caught."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.golang import build_go_program
from tests.scanchain import DISTRIBUTOR, SHOP, START, Chain, build_chain, shipping, uscc
from tracechain import Ledger, SigningKey, bundles, scan
from tracechain.errors import BundleError, ProofError
from tracechain.notes import add_signature

AT = START + timedelta(days=12)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return build_chain(tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="module")
def bundle(chain: Chain) -> bundles.Bundle:
    with Ledger.open(chain.ledger, readonly=True) as led:
        return bundles.write_bundle(led, chain.sold)


def _rewrite(data: bytes) -> bytes:
    """The bundle with its digest line made to match its other lines: what a deliberate tamperer would do."""
    body = data.rsplit(b"sha256 ", 1)[0]
    return body + f"sha256 {hashlib.sha256(body).hexdigest()}\n".encode()


def test_a_bundle_holds_the_items_events_with_their_seals_and_key_entries_and_reads_back_identically(
    chain: Chain, bundle: bundles.Bundle
) -> None:
    data = bundle.to_bytes()
    assert data.startswith(b"tracechain/proof-bundle@v1\ncode " + chain.sold.encode() + b"\nc2sp.org/tlog-proof@v1\n")
    assert bundles.parse_bundle(data) == bundle
    with Ledger.open(chain.ledger, readonly=True) as led:
        kinds = {e.index: led.entry(e.index).kind for e in bundle.entries}
        keys = {k.registered for k in led.keys()}  # noqa: SIM118 (Ledger.keys() is a list)
    assert 0 in kinds and kinds[0] == "genesis"
    assert keys <= set(kinds)  # plant, distributor and shop each signed something the item went through
    events = [i for i, kind in kinds.items() if kind == "event"]
    assert len(events) == 8
    assert {b.index for b in bundle.batches} == {i for i, kind in kinds.items() if kind != "seal"}
    report = bundles.verify_bundle(data, [chain.operator.verifier])
    assert report.ok, report.problems
    assert (report.code, report.events, report.entries) == (chain.sold, 8, len(bundle.entries))
    assert report.signatures_checked == len({b.seal for b in bundle.batches})


def test_a_verdict_from_the_bundle_is_the_verdict_from_the_ledger(chain: Chain, bundle: bundles.Bundle) -> None:
    report = bundles.verify_bundle(bundle.to_bytes(), [chain.operator.verifier])
    payload = chain.payload(chain.sold)
    from_bundle = scan.verdict(payload, report.history, issuers=chain.issuers, at=AT)
    with Ledger.open(chain.ledger, readonly=True) as led:
        from_ledger = scan.verdict(payload, led, issuers=chain.issuers, at=AT)
    assert from_bundle.verdict == scan.GENUINE
    assert from_bundle.to_dict() == from_ledger.to_dict()
    late = scan.verdict(None, report.history, code=chain.sold, at=AT + timedelta(days=30))
    assert late.verdict == scan.DESTROYED_OR_SOLD


def test_go_reads_every_entry_of_a_bundle_as_a_c2sp_tlog_proof(
    chain: Chain, bundle: bundles.Bundle, tmp_path: Path
) -> None:
    binary = build_go_program("tlogproofcheck", tmp_path)
    path = tmp_path / "can.tlog-bundle"
    path.write_bytes(bundle.to_bytes())
    run = subprocess.run(
        [str(binary), str(path), chain.operator.verifier], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"proofs": len(bundle.entries), "indexes": [e.index for e in bundle.entries]}
    stranger = SigningKey.generate(chain.operator.name)
    run = subprocess.run([str(binary), str(path), stranger.verifier], capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "checkpoint" in run.stderr


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_changed_byte_anywhere_is_caught(chain: Chain, bundle: bundles.Bundle, data: st.DataObject) -> None:
    raw = bundle.to_bytes()
    at = data.draw(st.integers(0, len(raw) - 1), label="position")
    flip = data.draw(st.integers(1, 255), label="xor")
    changed = bytearray(raw)
    changed[at] ^= flip
    assert not bundles.verify_bundle(bytes(changed), [chain.operator.verifier]).ok
    # A tamperer who also recomputes the digest is caught by the proofs, signatures and the one-spelling rule.
    body_end = raw.rindex(b"sha256 ")
    if at < body_end:
        assert not bundles.verify_bundle(_rewrite(bytes(changed)), [chain.operator.verifier]).ok


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_are_bundle_errors_only(data: bytes) -> None:
    with pytest.raises(BundleError):
        bundles.parse_bundle(data)
    assert not bundles.verify_bundle(data, [SigningKey.generate("x.example").verifier]).ok


def test_a_bundle_cut_short_reordered_or_respelled_is_refused(chain: Chain, bundle: bundles.Bundle) -> None:
    raw = bundle.to_bytes()
    lines = raw.split(b"\n")
    for cut in (len(raw) // 3, len(raw) - 80, len(raw) - 1):
        with pytest.raises(BundleError, match="damaged or cut short"):
            bundles.parse_bundle(raw[:cut])
    # Whole blocks dropped and the digest fixed: what is left no longer pairs every entry with its batch path.
    block = raw.index(b"c2sp.org/tlog-proof@v1\n", raw.index(b"c2sp.org/tlog-proof@v1\n") + 1)
    following = raw.index(b"c2sp.org/tlog-proof@v1\n", block + 1)
    dropped = _rewrite(raw[:block] + raw[following:])
    assert not bundles.verify_bundle(dropped, [chain.operator.verifier]).ok
    # The same hash in unpadded base64, or a number with a leading zero, is another spelling: refused.
    index_line = next(i for i, line in enumerate(lines) if line.startswith(b"index ") and line != b"index 0")
    respelled = lines.copy()
    respelled[index_line] = b"index 0" + respelled[index_line][6:]
    with pytest.raises(BundleError):
        bundles.parse_bundle(_rewrite(b"\n".join(respelled)))
    reordered = bundles.Bundle(bundle.code, bundle.checkpoint, bundle.entries[::-1], bundle.batches)
    assert not bundles.verify_bundle(reordered, [chain.operator.verifier]).ok


def test_every_signature_on_the_checkpoint_must_be_checkable(chain: Chain, bundle: bundles.Bundle) -> None:
    witness = SigningKey.generate("witness.county.example.cn")
    cosigned = bundles.Bundle(bundle.code, add_signature(bundle.checkpoint, witness), bundle.entries, bundle.batches)
    report = bundles.verify_bundle(cosigned.to_bytes(), [chain.operator.verifier])
    assert not report.ok and "a key not given" in report.problems[0].message
    assert bundles.verify_bundle(cosigned.to_bytes(), [chain.operator.verifier, witness.verifier]).ok
    stranger = SigningKey.generate(chain.operator.name)
    report = bundles.verify_bundle(bundle.to_bytes(), [stranger.verifier])
    assert not report.ok and "checkpoint" in report.problems[-1].message
    assert not bundles.verify_bundle(bundle.to_bytes(), []).ok
    with pytest.raises(BundleError):
        _ = report.history  # a failed bundle's events are never handed to a verdict


def test_a_relabelled_bundle_proves_inclusion_not_completeness(chain: Chain, bundle: bundles.Bundle) -> None:
    """What a bundle cannot prove, stated as a test: its code line is not signed. Relabelled to a sibling in the
    same case, every event in it is still genuine and still names that sibling, so it verifies — but it lacks the
    sibling's own later events, which only the ledger (or a bundle from someone you trust) can give."""
    sibling = chain.units[chain.cases[0]][1]
    relabelled = bundles.Bundle(sibling, bundle.checkpoint, bundle.entries, bundle.batches)
    report = bundles.verify_bundle(relabelled.to_bytes(), [chain.operator.verifier])
    assert report.ok
    with Ledger.open(chain.ledger, readonly=True) as led:
        assert bundles.write_bundle(led, sibling) != relabelled


def test_a_bundle_needs_a_recorded_item_and_a_checkpoint_covering_it(tmp_path: Path) -> None:
    chain = build_chain(tmp_path, units=6)
    with Ledger.open(chain.ledger, readonly=True) as led, pytest.raises(BundleError, match="names"):
        bundles.write_bundle(led, f"https://id.gs1.org/01/{chain.issued.gtin}/21/NOTMADE")
    more = shipping(DISTRIBUTOR, SHOP, START + timedelta(days=5), chain.cases[:1])
    chain.append(more[:1], "distributor", checkpoint=False)
    with Ledger.open(chain.ledger, readonly=True) as led, pytest.raises(ProofError, match="newer than the latest"):
        bundles.write_bundle(led, chain.codes()[0])


def test_an_event_recorded_on_anothers_behalf_carries_its_delegation(tmp_path: Path) -> None:
    chain = build_chain(tmp_path, units=6)
    logistics = {"uscc": uscc("91441721MA5LKG15T"), "name": "阳西县快运物流有限公司", "gln": DISTRIBUTOR["gln"]}
    agent = SigningKey.generate("logistics.example.cn")
    with Ledger.open(chain.ledger) as led:
        led.register(agent.verifier, logistics["uscc"], chain.operator)
        led.delegate(logistics["uscc"], DISTRIBUTOR["uscc"], chain.operator)
        # The logistics provider records the distributor's shipment to the shop, on the distributor's behalf.
        led.append_many(shipping(DISTRIBUTOR, SHOP, START + timedelta(days=6), chain.cases[:1])[:1], agent)
        led.checkpoint(chain.operator)
        bundle = bundles.write_bundle(led, chain.codes()[0])
        kinds = {e.index: led.entry(e.index).kind for e in bundle.entries}
    assert "delegation" in kinds.values()
    assert bundles.verify_bundle(bundle.to_bytes(), [chain.operator.verifier]).ok
    delegation = next(i for i, kind in kinds.items() if kind == "delegation")
    without = bundles.Bundle(
        bundle.code,
        bundle.checkpoint,
        tuple(e for e in bundle.entries if e.index != delegation),
        tuple(b for b in bundle.batches if b.index != delegation),
    )
    report = bundles.verify_bundle(without.to_bytes(), [chain.operator.verifier])
    assert not report.ok and "no delegation shown" in " ".join(p.message for p in report.problems)
