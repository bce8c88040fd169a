"""Witness quorums for proof bundles and scan verdicts (issue 16, item 4): a bundle made at a checkpoint that two
real witnesses cosigned passes with a quorum of two, and fails — saying how many of which witnesses cosigned and how
many were required — with a quorum of three or when a cosignature is removed or altered; a verdict from a history
without its quorum is never GENUINE. The library first, then `tracechain verify-bundle` and `tracechain scan`."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from tracechain.cli import main

from tests.scanchain import START, Chain, build_chain
from tests.test_witness import W1, W2, W3
from tracechain import Ledger, SigningKey, bundles, scan
from tracechain.checkpoints import Checkpoint
from tracechain.errors import BundleError, QuorumError
from tracechain.notes import NoteSignature, parse_note
from tracechain.trace import Genealogy
from tracechain.witness import CosignerKey, Witness

AT = START + timedelta(days=12)  # the sold can's sale is 2 days old: GENUINE
A, B, C = (CosignerKey.of(w) for w in (W1, W2, W3))
PASSWORD = "quorum test password"


@dataclass
class Witnessed:
    """The scan chain with its latest checkpoint cosigned by W1 and W2 through real witnesses (W3 never asked)."""

    chain: Chain
    note: str
    bundle: bundles.Bundle


@pytest.fixture(scope="module")
def witnessed(tmp_path_factory: pytest.TempPathFactory) -> Witnessed:
    folder = tmp_path_factory.mktemp("quorum")
    chain = build_chain(folder)
    with Ledger.open(chain.ledger) as led:
        note = led.checkpoints()[-1]
        logs = {led.origin: [chain.operator.verifier_key]}
        lines = ""
        for key in (W1, W2):
            # A witness with no state for this log cosigns a first checkpoint shown with "old 0" (C2SP tlog-witness).
            witness = Witness(key, logs, folder / f"{key.name.replace('/', '_')}.json")
            lines += witness.add_checkpoint(("old 0\n\n" + note).encode())
        stored = led.add_cosignatures(note + lines, [A, B])
        bundle = bundles.write_bundle(led, chain.sold)
    assert [s.name for s in parse_note(stored)[1]] == [chain.operator.name, W1.name, W2.name]
    assert bundle.checkpoint == stored
    return Witnessed(chain, stored, bundle)


def _with_note(bundle: bundles.Bundle, note: str) -> bundles.Bundle:
    return bundles.Bundle(bundle.code, note, bundle.entries, bundle.batches)


def _without(note: str, name: str) -> str:
    text, signatures = parse_note(note)
    return text + "\n" + "".join(s.to_line() for s in signatures if s.name != name)


def _altered(note: str, name: str) -> str:
    """The note with ``name``'s cosignature changed in its last byte: the line keeps its name and key ID."""
    text, signatures = parse_note(note)
    lines = ""
    for s in signatures:
        if s.name == name:
            s = NoteSignature(s.name, s.key_id, s.signature[:-1] + bytes([s.signature[-1] ^ 1]))
        lines += s.to_line()
    return text + "\n" + lines


# --- proof bundles ------------------------------------------------------------------------------------------


def test_a_bundle_cosigned_by_two_witnesses_meets_a_quorum_of_two_not_three(witnessed: Witnessed) -> None:
    data, operator = witnessed.bundle.to_bytes(), witnessed.chain.operator.verifier
    report = bundles.verify_bundle(data, [operator], witnesses=[A, B], quorum=2)
    assert report.ok, report.problems
    assert report.cosigned_by == (A, B)
    assert report.to_dict()["witnesses"] == {
        "required": 2,
        "named": [W1.name, W2.name],
        "cosigned_by": [W1.name, W2.name],
    }
    assert report.history.note == witnessed.note  # the verdict sees the cosignatures the bundle was checked with

    short = bundles.verify_bundle(data, [operator], witnesses=[str(A), str(B), str(C)], quorum=3)
    assert not short.ok
    (problem,) = short.problems
    assert problem.index is None
    assert problem.message == (
        f"the checkpoint (size {short.checkpoint.size if short.checkpoint else -1}) lacks its witness quorum (3 of 3"
        f" named witnesses): cosigned by 2 of the 3 named witnesses ({W1.name}, {W2.name}); 3 required;"
        f" missing: {W3.name}"
    )
    with pytest.raises(BundleError):
        _ = short.history  # a bundle without its quorum is never handed to a verdict
    assert bundles.verify_bundle(data, [operator], witnesses=[A, B, C], quorum=2).ok
    nobody = bundles.verify_bundle(data, [operator], witnesses=[C])
    assert not nobody.ok
    assert (
        "cosigned by 0 of the 1 named witnesses; 1 required; missing: witness.example/w3" in nobody.problems[0].message
    )


def test_a_bundle_with_a_cosignature_removed_or_altered_fails_its_quorum(witnessed: Witnessed) -> None:
    operator = witnessed.chain.operator.verifier
    removed = _with_note(witnessed.bundle, _without(witnessed.note, W2.name))
    report = bundles.verify_bundle(removed.to_bytes(), [operator], witnesses=[A, B], quorum=2)
    assert not report.ok
    assert [p.message.split(": ", 1)[1] for p in report.problems] == [
        f"cosigned by 1 of the 2 named witnesses ({W1.name}); 2 required; missing: {W2.name}"
    ]
    assert bundles.verify_bundle(removed.to_bytes(), [operator], witnesses=[A, B], quorum=1).ok

    altered = _with_note(witnessed.bundle, _altered(witnessed.note, W2.name))
    report = bundles.verify_bundle(altered.to_bytes(), [operator], witnesses=[A, B], quorum=2)
    assert not report.ok
    assert "carries a witness cosignature that fails" in report.problems[0].message
    assert f"cosignature by known witness {W2.name!r}" in report.problems[0].message
    # A named witness's bad line fails even when the quorum is met without it (C2SP: a known key's bad signature
    # rejects the note); the same line under a witness nobody named is passed over.
    assert not bundles.verify_bundle(altered.to_bytes(), [operator], witnesses=[A, B], quorum=1).ok
    assert bundles.verify_bundle(altered.to_bytes(), [operator], witnesses=[A]).ok


def test_without_a_policy_every_line_must_be_checked_and_with_one_unnamed_witnesses_are_passed_over(
    witnessed: Witnessed,
) -> None:
    data, operator = witnessed.bundle.to_bytes(), witnessed.chain.operator.verifier
    bare = bundles.verify_bundle(data, [operator])
    assert not bare.ok
    assert [p.message.split(" (")[0] for p in bare.problems] == [
        f"the checkpoint carries a signature by {W1.name}",
        f"the checkpoint carries a signature by {W2.name}",
    ]
    assert all("name the witnesses whose cosignatures count" in p.message for p in bare.problems)
    trusting_one = bundles.verify_bundle(data, [operator], witnesses=[A])  # W2's line is neither given nor named
    assert trusting_one.ok and trusting_one.cosigned_by == (A,)
    assert trusting_one.to_dict()["witnesses"]["cosigned_by"] == [W1.name]
    assert bundles.verify_bundle(data, [operator]).to_dict()["witnesses"] is None


def test_a_policy_that_cannot_be_met_is_refused_before_anything_is_read(witnessed: Witnessed) -> None:
    data, operator = witnessed.bundle.to_bytes(), witnessed.chain.operator.verifier
    with pytest.raises(QuorumError, match="from 1 to the 2 witnesses named"):
        bundles.verify_bundle(data, [operator], witnesses=[A, B], quorum=3)
    with pytest.raises(QuorumError, match="named twice"):
        bundles.verify_bundle(data, [operator], witnesses=[A, A])
    with pytest.raises(QuorumError, match="needs the witnesses it counts"):
        scan.verdict(None, _history(witnessed), code=witnessed.chain.sold, quorum=1)


# --- scan verdicts ------------------------------------------------------------------------------------------


def _history(witnessed: Witnessed, note: str | None = None) -> bundles.BundleHistory:
    bundle = witnessed.bundle if note is None else _with_note(witnessed.bundle, note)
    report = bundles.verify_bundle(bundle.to_bytes(), [witnessed.chain.operator.verifier], witnesses=[A])
    assert report.ok, report.problems
    return report.history


def test_a_verdict_from_the_ledger_needs_its_quorum_to_be_genuine(witnessed: Witnessed) -> None:
    chain = witnessed.chain
    payload = chain.payload(chain.sold)
    with Ledger.open(chain.ledger, readonly=True) as led:
        met = scan.verdict(payload, led, issuers=chain.issuers, at=AT, witnesses=[A, B], quorum=2)
        short = scan.verdict(payload, led, issuers=chain.issuers, at=AT, witnesses=[A, B, C], quorum=3)
        plain = scan.verdict(payload, led, issuers=chain.issuers, at=AT)
    assert met.verdict == scan.GENUINE and met.ok
    assert any(
        r.message.endswith(f"cosigned by 2 of the 2 named witnesses ({W1.name}, {W2.name}); 2 required")
        for r in met.reasons_for(scan.GENUINE)
    )
    assert met.to_dict()["witnesses"] == {"required": 2, "named": [W1.name, W2.name], "cosigned_by": [W1.name, W2.name]}
    assert plain.verdict == scan.GENUINE and plain.to_dict()["witnesses"] is None

    assert short.verdict == scan.UNWITNESSED and not short.ok
    (why,) = short.reasons_for(scan.UNWITNESSED)
    assert why.message.endswith(
        f"lacks its witness quorum: cosigned by 2 of the 3 named witnesses ({W1.name}, {W2.name}); 3 required;"
        f" missing: {W3.name}"
    )
    words = short.to_dict()["verdict_words"]
    assert words["code"] == "UNWITNESSED" and words["zh"].startswith("未获见证")
    assert short.to_dict()["witnesses"]["cosigned_by"] == [W1.name, W2.name]
    # Everything else is judged as before: the history, its proofs and the other findings are all there.
    assert [t.to_dict() for t in short.timeline] == [t.to_dict() for t in met.timeline]


def test_a_verdict_from_a_bundle_with_a_cosignature_removed_or_altered_is_unwitnessed(witnessed: Witnessed) -> None:
    chain = witnessed.chain
    payload = chain.payload(chain.sold)
    judged = {
        name: scan.verdict(payload, _history(witnessed, note), issuers=chain.issuers, at=AT, witnesses=[A, B])
        for name, note in (
            ("whole", witnessed.note),
            ("removed", _without(witnessed.note, W2.name)),
            ("altered", _altered(witnessed.note, W2.name)),
        )
    }
    assert judged["whole"].verdict == scan.GENUINE
    assert judged["removed"].verdict == scan.UNWITNESSED
    assert (
        judged["removed"]
        .reasons_for(scan.UNWITNESSED)[0]
        .message.endswith(f"cosigned by 1 of the 2 named witnesses ({W1.name}); 2 required; missing: {W2.name}")
    )
    assert judged["altered"].verdict == scan.UNWITNESSED
    assert "carries a witness cosignature that fails" in judged["altered"].reasons_for(scan.UNWITNESSED)[0].message


def test_what_the_history_says_against_an_item_outranks_an_unmet_quorum(witnessed: Witnessed) -> None:
    chain = witnessed.chain
    late = AT + timedelta(days=30)  # the can was sold 42 days before: it should not be on sale
    result = scan.verdict(chain.payload(chain.sold), _history(witnessed), issuers=chain.issuers, at=late, witnesses=[C])
    assert result.verdict == scan.DESTROYED_OR_SOLD
    assert {r.verdict for r in result.reasons} >= {scan.DESTROYED_OR_SOLD, scan.UNWITNESSED}
    assert scan.VERDICTS.index(scan.UNWITNESSED) == len(scan.VERDICTS) - 2  # just before GENUINE


class _Unsigned:
    """A history whose ledger has no signed checkpoint yet."""

    def __init__(self, history: bundles.BundleHistory) -> None:
        self._history = history
        self.genealogy: Genealogy = history.genealogy
        self.checkpoint: Checkpoint | None = None
        self.note: str | None = None

    def proofs(self, indexes: object) -> dict[int, object]:
        return {}

    def signer(self, index: int) -> tuple[str, str] | None:
        return self._history.signer(index)


def test_a_history_without_a_checkpoint_is_unwitnessed(witnessed: Witnessed) -> None:
    chain = witnessed.chain
    history = _Unsigned(_history(witnessed))
    result = scan.verdict(chain.payload(chain.sold), history, issuers=chain.issuers, at=AT, witnesses=[A])  # type: ignore[arg-type]
    assert result.verdict == scan.UNWITNESSED
    assert result.reasons_for(scan.UNWITNESSED)[0].message.startswith("no signed checkpoint")
    assert scan.verdict(chain.payload(chain.sold), history, issuers=chain.issuers, at=AT).verdict == scan.GENUINE  # type: ignore[arg-type]


# --- the command line ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(witnessed: Witnessed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The bundle and every form a witness key is given in: strings, a cosigner key file, a witness key file."""
    folder = tmp_path_factory.mktemp("quorum-cli")
    bundle = folder / "can.bundle"
    bundle.write_bytes(witnessed.bundle.to_bytes())
    operator = folder / "operator.pub"
    operator.write_text(witnessed.chain.operator.verifier + "\n")
    vkey = folder / "w2.vkey"
    vkey.write_text(f"# witness w2\n{B}\n")
    keyfile = folder / "w1.key"
    W1.save(str(keyfile), PASSWORD)
    old = os.environ.get("TRACECHAIN_PASSWORD")
    os.environ["TRACECHAIN_PASSWORD"] = PASSWORD
    yield {"bundle": str(bundle), "operator": str(operator), "w1_keyfile": str(keyfile), "w2_vkey": str(vkey)}
    if old is None:
        del os.environ["TRACECHAIN_PASSWORD"]
    else:
        os.environ["TRACECHAIN_PASSWORD"] = old


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_verify_bundle_with_a_quorum(witnessed: Witnessed, files: dict[str, str]) -> None:
    base = ("verify-bundle", files["bundle"], "--verifier", files["operator"])
    code, out, err = run(*base, "--witness", files["w1_keyfile"], "--witness", files["w2_vkey"], "--quorum", "2")
    assert code == 0, err
    assert f"cosigned by {W1.name}, {W2.name}: 2 of the 2 named witnesses, 2 required" in out
    code, out, err = run(*base, "--witness", str(A), "--witness", str(B), "--witness", str(C), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["witnesses"] == {
        "required": 3,
        "named": [W1.name, W2.name, W3.name],
        "cosigned_by": [W1.name, W2.name],
    }
    assert "cosigned by 2 of the 3 named witnesses" in report["problems"][0]["message"]
    code, _, err = run(*base, "--witness", str(A), "--witness", str(B), "--witness", str(C), "--quorum", "3")
    assert code == 1 and f"missing: {W3.name}" in err
    code, out, _ = run("--lang", "zh", *base, "--witness", str(A))
    assert code == 0 and f"已由 {W1.name} 联署：指定的 1 个见证方中有 1 个，要求 1 个" in out
    code, _, err = run(*base)
    assert code == 1 and "a key not given" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quorum", "1"], "needs the witnesses it counts"),
        (["--witness", "A", "--quorum", "2"], "from 1 to the 1 witnesses named"),
        (["--witness", "A", "--witness", "A"], "named twice"),
        (["--witness", "nonsense"], "neither a file nor a witness cosigner key string"),
        (["--witness", "VERIFIER"], "a witness is named by its cosigner key (type 0x04)"),
        (["--witness", "OPERATOR_FILE"], "a witness is named by its cosigner key (type 0x04)"),
        (["--witness", "A", "--quorum", "0"], "0 is not in the range x>=1"),
    ],
)
def test_a_witness_policy_that_cannot_be_used_is_a_usage_error(
    witnessed: Witnessed, files: dict[str, str], args: list[str], message: str
) -> None:
    given = {"A": str(A), "VERIFIER": W1.verifier, "OPERATOR_FILE": files["operator"]}
    for command in (
        ["verify-bundle", files["bundle"], "--verifier", files["operator"]],
        ["scan", "--bundle", files["bundle"], "--verifier", files["operator"]],
        ["verify", str(witnessed.chain.ledger)],
    ):
        code, _, err = run(*command, *[given.get(a, a) for a in args])
        assert code == 2, (command, err)
        assert message in " ".join(err.split()), (command, err)


def test_scan_with_a_quorum_from_a_ledger_and_from_a_bundle(witnessed: Witnessed, files: dict[str, str]) -> None:
    chain = witnessed.chain
    when = ("--when", AT.isoformat(), "--region", "441721")
    label = ("--text", chain.payload(chain.sold), "--issuer", f"6903215={chain.brand.verifier}")
    ledger = ("scan", *label, "--ledger", str(chain.ledger), *when)
    code, out, err = run(*ledger, "--witness", files["w1_keyfile"], "--witness", str(B), "--quorum", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["verdict"] == "GENUINE"
    code, out, _ = run(*ledger, "--witness", str(A), "--witness", str(B), "--witness", str(C), "--quorum", "3")
    assert code == 1
    assert out.startswith("UNWITNESSED  未获见证：记录缺少所需见证方的联署 / not vouched for:")
    assert f"cosigned by 2 of the 3 named witnesses ({W1.name}, {W2.name}); 3 required; missing: {W3.name}" in out

    bundle = ("scan", *label, "--bundle", files["bundle"], "--verifier", files["operator"], *when)
    code, out, err = run(*bundle, "--witness", str(A), "--witness", files["w2_vkey"], "--json")
    assert code == 0, err
    assert json.loads(out)["witnesses"]["cosigned_by"] == [W1.name, W2.name]
    code, out, err = run(*bundle, "--witness", str(A), "--witness", str(C))  # quorum: all named
    assert code == 1 and out == ""  # the bundle fails as verify-bundle would: no verdict is given from it
    assert f"cosigned by 1 of the 2 named witnesses ({W1.name}); 2 required; missing: {W3.name}" in err


def test_verify_takes_witness_keys_as_files_too(witnessed: Witnessed, files: dict[str, str]) -> None:
    ledger = str(witnessed.chain.ledger)
    code, out, err = run("verify", ledger, "--witness", files["w1_keyfile"], "--witness", files["w2_vkey"])
    assert code == 0, err
    assert "cosigned by 2 of 2 named witnesses" in out
    code, out, _ = run("verify", ledger, "--witness", files["w1_keyfile"], "--witness", str(C), "--json")
    assert code == 1 and f"missing: {W3.name}" in out


def test_the_witness_keys_given_as_files_are_the_witnesses_keys(files: dict[str, str]) -> None:
    from tracechain.witness import cosigner_from_file

    assert cosigner_from_file(files["w2_vkey"]) == B
    assert cosigner_from_file(files["w1_keyfile"]) == A  # its public key line: no password asked
    stranger = SigningKey.generate("witness.example/w1")  # W1's name, another key
    assert CosignerKey.of(stranger) != A
