"""Specification of tracechain.witness: C2SP tlog-witness answers, tlog-cosignature bytes, the quorum check, and a
witness that keeps one consistent history through forks and crashes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from tests.golang import build_go_program
from tracechain import merkle
from tracechain.checkpoints import Checkpoint
from tracechain.errors import QuorumError, SignatureError, WitnessError
from tracechain.keys import SigningKey
from tracechain.notes import add_signature, parse_note
from tracechain.witness import (
    MAX_PROOF_LINES,
    CosignerKey,
    Witness,
    cosign,
    cosignature_message,
    parse_logs,
    require_quorum,
    verified_cosigners,
)

LOG = SigningKey.from_seed("log.example/a", b"\x01" * 32)
IMPOSTOR = SigningKey.from_seed("log.example/a", b"\x09" * 32)  # the log's name, another key
W1 = SigningKey.from_seed("witness.example/w1", b"\x02" * 32)
W2 = SigningKey.from_seed("witness.example/w2", b"\x03" * 32)
W3 = SigningKey.from_seed("witness.example/w3", b"\x04" * 32)
LOGS = {LOG.name: [LOG.verifier_key]}

# Two histories of one log: B forks from A after FORK_AT leaves.
FORK_AT = 40
HISTORY_A = [hashlib.sha256(b"A%d" % i).digest() for i in range(200)]
HISTORY_B = HISTORY_A[:FORK_AT] + [hashlib.sha256(b"B%d" % i).digest() for i in range(FORK_AT, 200)]


def note(history: list[bytes], size: int, key: SigningKey = LOG) -> str:
    return Checkpoint(LOG.name, size, merkle.root(history[:size])).sign(key)


def body(history: list[bytes], old: int, size: int, key: SigningKey = LOG, proof: list[bytes] | None = None) -> bytes:
    if proof is None:
        proof = merkle.consistency_proof(history[:size], old) if 0 < old < size else []
    lines = [f"old {old}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n" + note(history, size, key)).encode()


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(W1, LOGS, tmp_path / "state.json", clock=lambda: 1_700_000_000)


def _status(witness: Witness, request: bytes) -> tuple[int, int | None]:
    try:
        witness.add_checkpoint(request)
    except WitnessError as e:
        return e.status, e.size
    return 200, None


# --- cosignatures ------------------------------------------------------------------------------------------


def test_a_cosignature_is_a_timestamped_type_4_ed25519_signature_over_the_c2sp_message() -> None:
    text = Checkpoint(LOG.name, 5, merkle.root(HISTORY_A[:5])).to_text()
    line = cosign(text, W1, 1_679_315_147)
    name, encoded = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(encoded)
    assert name == W1.name
    assert raw[:4] == hashlib.sha256(W1.name.encode() + b"\n\x04" + W1.public_bytes).digest()[:4]
    assert raw[4:12] == (1_679_315_147).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1679315147\n" + text.encode()
    assert cosignature_message(text, 1_679_315_147) == message
    assert W1.verifier_key.verify(message, raw[12:])
    assert CosignerKey.of(W1).verify(text, raw[4:]) == 1_679_315_147
    # The same key's plain note signature (type 0x01) is not a cosignature, and has another key ID.
    assert raw[:4] != W1.key_id


def test_a_cosigner_key_string_round_trips_and_is_refused_when_wrong() -> None:
    key = CosignerKey.of(W1)
    text = str(key)
    assert text.startswith(f"{W1.name}+{key.key_id.hex()}+")
    assert base64.b64decode(text.split("+", 2)[2])[0] == 0x04
    assert CosignerKey.parse(text) == key
    with pytest.raises(SignatureError, match="0x04"):
        CosignerKey.parse(W1.verifier)  # a type 0x01 note verifier key
    with pytest.raises(SignatureError, match="does not match"):
        CosignerKey.parse(text.replace(key.key_id.hex(), "00000000"))


def test_cosignatures_verify_only_for_their_text_and_key() -> None:
    checkpoint = note(HISTORY_A, 9)
    text = parse_note(checkpoint)[0]
    cosigned = checkpoint + cosign(text, W1, 7)
    assert verified_cosigners(cosigned, [CosignerKey.of(W1), CosignerKey.of(W2)]) == {CosignerKey.of(W1): 7}
    other = note(HISTORY_A, 10)
    moved = other + cosign(text, W1, 7)  # a cosignature carried over to another checkpoint
    with pytest.raises(SignatureError, match="does not verify"):
        verified_cosigners(moved, [CosignerKey.of(W1)])
    plain = add_signature(checkpoint, W1)  # W1's ordinary note signature: another key ID, so not counted
    assert verified_cosigners(plain, [CosignerKey.of(W1)]) == {}


def test_a_quorum_needs_k_distinct_named_witnesses() -> None:
    checkpoint = note(HISTORY_A, 12)
    text = parse_note(checkpoint)[0]
    witnesses = [str(CosignerKey.of(w)) for w in (W1, W2, W3)]
    one = checkpoint + cosign(text, W1, 1)
    two = one + cosign(text, W2, 2)
    assert require_quorum(two, witnesses, 2) == [CosignerKey.of(W1), CosignerKey.of(W2)]
    with pytest.raises(QuorumError) as short:
        require_quorum(one, witnesses, 2)
    assert str(short.value) == (
        "cosigned by 1 of the 3 named witnesses (witness.example/w1); 2 required;"
        " missing: witness.example/w2, witness.example/w3"
    )
    with pytest.raises(QuorumError, match="cannot be met"):
        require_quorum(two, witnesses[:1], 2)
    with pytest.raises(QuorumError, match="named twice"):
        require_quorum(two, [witnesses[0], witnesses[0]], 1)
    doubled = one + cosign(text, W1, 3)  # two lines by one witness still count once
    with pytest.raises(QuorumError):
        require_quorum(doubled, witnesses, 2)


# --- the log list ------------------------------------------------------------------------------------------


def test_the_logs_file_lists_origin_and_verifier_key_per_line() -> None:
    text = f"# county logs\n\n{LOG.name} {LOG.verifier}\n{LOG.name} {IMPOSTOR.verifier}\n"
    assert parse_logs(text) == {LOG.name: [LOG.verifier_key, IMPOSTOR.verifier_key]}
    with pytest.raises(WitnessError, match=r"line 1.*not by the origin"):
        parse_logs(f"other.example {LOG.verifier}")
    with pytest.raises(WitnessError, match=r"line 2.*expected"):
        parse_logs(f"{LOG.name} {LOG.verifier}\n{LOG.verifier}")


# --- the protocol ------------------------------------------------------------------------------------------


def test_the_witness_cosigns_a_growing_log_and_remembers_it(witness: Witness, tmp_path: Path) -> None:
    first = witness.add_checkpoint(body(HISTORY_A, 0, 10))
    assert (
        CosignerKey.of(W1).verify(
            parse_note(note(HISTORY_A, 10))[0], parse_note(note(HISTORY_A, 10) + first)[1][-1].signature
        )
        == 1_700_000_000
    )
    witness.add_checkpoint(body(HISTORY_A, 10, 50))
    assert witness.size_of(LOG.name) == 50
    assert witness.latest(LOG.name) == note(HISTORY_A, 50)
    again = Witness(W1, LOGS, tmp_path / "state.json")  # a restart reads the same state
    assert again.size_of(LOG.name) == 50
    assert _status(again, body(HISTORY_A, 50, 50)) == (200, None)  # the same checkpoint again
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["logs"][LOG.name]["size"] == 50


def test_c2sp_error_answers(witness: Witness) -> None:
    witness.add_checkpoint(body(HISTORY_A, 0, 20))
    other_log = Checkpoint("other.example/log", 3, bytes(32)).sign(
        SigningKey.from_seed("other.example/log", b"\x07" * 32)
    )
    assert _status(witness, b"old 0\n\n" + other_log.encode()) == (404, None)
    assert _status(witness, body(HISTORY_A, 20, 30, key=IMPOSTOR)) == (403, None)
    assert _status(witness, body(HISTORY_A, 31, 30)) == (400, None)  # old size beyond the checkpoint
    assert _status(witness, body(HISTORY_A, 10, 30)) == (409, 20)  # not the witness's size
    assert _status(witness, body(HISTORY_A, 0, 30)) == (409, 20)  # a client that does not know it asks with 0
    bad = merkle.consistency_proof(HISTORY_A[:30], 20)
    bad[0] = bytes(32)
    assert _status(witness, body(HISTORY_A, 20, 30, proof=bad)) == (422, None)
    assert _status(witness, body(HISTORY_A, 20, 30, proof=[])) == (422, None)
    assert witness.size_of(LOG.name) == 20  # no refusal moved the state


def test_a_proof_from_size_zero_must_be_empty(tmp_path: Path) -> None:
    fresh = Witness(W1, LOGS, tmp_path / "s.json")
    assert _status(fresh, body(HISTORY_A, 0, 8, proof=[bytes(32)])) == (422, None)
    assert _status(fresh, body(HISTORY_A, 0, 8)) == (200, None)


MALFORMED = {
    "no blank line": b"old 0\n" + note(HISTORY_A, 3).encode(),
    "no old line": b"\n\n" + note(HISTORY_A, 3).encode(),
    "leading zero": b"old 03\n\n" + note(HISTORY_A, 3).encode(),
    "negative": b"old -1\n\n" + note(HISTORY_A, 3).encode(),
    "two spaces": b"old  3\n\n" + note(HISTORY_A, 3).encode(),
    "proof not base64": b"old 0\nnot-base64!\n\n" + note(HISTORY_A, 3).encode(),
    "short hash": b"old 0\nAAAA\n\n" + note(HISTORY_A, 3).encode(),
    "64 proof lines": b"old 0\n"
    + (base64.b64encode(bytes(32)) + b"\n") * (MAX_PROOF_LINES + 1)
    + b"\n"
    + note(HISTORY_A, 3).encode(),
    "not UTF-8": b"old 0\n\n\xff",
    "not a checkpoint": b"old 0\n\nhello\n\n\xe2\x80\x94 x AAAAAAA=\n",
    "huge": b"old 0\n\n" + b"a" * 70_000,
}


@pytest.mark.parametrize("request_body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_requests_are_bad_requests(witness: Witness, request_body: bytes) -> None:
    assert _status(witness, request_body) == (400, None)


def test_a_fork_at_the_same_size_is_a_conflict_and_changes_nothing(witness: Witness, tmp_path: Path) -> None:
    witness.add_checkpoint(body(HISTORY_A, 0, 60))
    before = (tmp_path / "state.json").read_bytes()
    assert _status(witness, body(HISTORY_B, 60, 60)) == (409, 60)
    assert (tmp_path / "state.json").read_bytes() == before


def test_a_rewritten_past_is_refused_and_changes_nothing(witness: Witness, tmp_path: Path) -> None:
    witness.add_checkpoint(body(HISTORY_A, 0, 60))
    before = (tmp_path / "state.json").read_bytes()
    # The log rewrote entries below 60 and grew: with the witness's own size the proof cannot verify (422 by
    # C2SP), with any other old size it is a conflict (409), and a smaller tree is a conflict too.
    assert _status(witness, body(HISTORY_B, 60, 90)) == (422, None)
    assert _status(witness, body(HISTORY_B, FORK_AT, 90)) == (409, 60)
    assert _status(witness, body(HISTORY_B, 0, 50)) == (409, 60)
    assert (tmp_path / "state.json").read_bytes() == before
    assert _status(witness, body(HISTORY_A, 60, 90)) == (200, None)


def test_a_damaged_state_file_stops_the_witness_instead_of_forgetting(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    Witness(W1, LOGS, state).add_checkpoint(body(HISTORY_A, 0, 5))
    state.write_text(state.read_text()[:-10])
    with pytest.raises(WitnessError, match="damaged"):
        Witness(W1, LOGS, state)


# --- crashes -----------------------------------------------------------------------------------------------


class _CrashError(BaseException):
    """The witness process dying at a system call: a BaseException, so no handler of the witness catches it."""


def _crash_at(monkeypatch: pytest.MonkeyPatch, k: int) -> None:
    """Make the k-th os.open / os.write / os.fsync / os.replace from now die (a write dies half done)."""
    calls = {"n": 0}

    def wrap(name: str) -> None:
        original = getattr(os, name)

        def dying(*args: object) -> object:
            calls["n"] += 1
            if calls["n"] == k:
                if name == "write":  # a torn write: half the bytes reach the file
                    fd, data = args
                    original(fd, bytes(data)[: len(data) // 2])  # type: ignore[arg-type]
                raise _CrashError(name)
            return original(*args)

        monkeypatch.setattr(os, name, dying)

    for name in ("open", "write", "fsync", "replace"):
        wrap(name)


def _consistent(a: tuple[int, bytes], b: tuple[int, bytes]) -> bool:
    """Whether two cosigned (size, root) pairs can be views of one log: both in history A, or both in B."""
    return any(merkle.root(h[: a[0]]) == a[1] and merkle.root(h[: b[0]]) == b[1] for h in (HISTORY_A, HISTORY_B))


def crash_trials(tmp_path: Path, trials: int, seed: int) -> dict[str, int]:
    """Random add-checkpoint requests, each perhaps killed at a random system call, the witness restarted after.

    Returns counts; raises AssertionError if the witness ever cosigned two inconsistent checkpoints or its state
    went backwards.
    """
    rng = random.Random(seed)
    state = tmp_path / f"crash-{seed}.json"
    witness = Witness(W1, LOGS, state)
    cosigned: list[tuple[int, bytes]] = []
    counts = {"cosigned": 0, "refused": 0, "crashed": 0}
    last_size = 0
    for _ in range(trials):
        history = HISTORY_A if rng.random() < 0.75 else HISTORY_B
        current = witness.size_of(LOG.name)
        size = rng.randint(current, min(current + 30, len(history)))
        old = current if rng.random() < 0.8 else rng.randint(0, size)
        with pytest.MonkeyPatch.context() as mp:
            _crash_at(mp, rng.randint(1, 9))
            try:
                witness.add_checkpoint(body(history, old, size))
                outcome = "cosigned"
            except WitnessError:
                outcome = "refused"
            except _CrashError:
                outcome = "crashed"
        counts[outcome] += 1
        if outcome == "cosigned":
            cosigned.append((size, merkle.root(history[:size])))
        if outcome == "crashed":
            witness = Witness(W1, LOGS, state)  # restart from what is on disk
        now = witness.size_of(LOG.name)
        assert now >= last_size, f"the witness's state went back from {last_size} to {now}"
        last_size = now
    for i, a in enumerate(cosigned):
        for b in cosigned[i + 1 :]:
            assert _consistent(a, b), f"cosigned inconsistent checkpoints {a[0]} and {b[0]}"
    return counts


def test_crashes_during_add_checkpoint_never_make_the_witness_cosign_two_histories(tmp_path: Path) -> None:
    counts = crash_trials(tmp_path, 150, seed=16)
    assert all(counts.values()), counts


@pytest.mark.slow
def test_a_thousand_crashes_never_make_the_witness_cosign_two_histories(tmp_path: Path) -> None:
    counts = crash_trials(tmp_path, 2_500, seed=1600)
    assert counts["crashed"] >= 1_000, counts


# --- Go's sumdb/note opens the cosigned checkpoint -----------------------------------------------------------


def test_go_note_open_verifies_the_log_signature_and_each_cosignature(tmp_path: Path) -> None:
    binary = build_go_program("cosigcheck", tmp_path)
    checkpoint = note(HISTORY_A, 77)
    text = parse_note(checkpoint)[0]
    cosigned = checkpoint + cosign(text, W1, 1_679_315_147) + cosign(text, W2, 1_700_000_000)
    witnesses = [str(CosignerKey.of(w)) for w in (W1, W2)]

    def go(note_text: str, *keys: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(binary), LOG.verifier, *keys], input=note_text, capture_output=True, text=True, timeout=60, check=False
        )

    opened = go(cosigned, *witnesses)
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout) == [LOG.name, W1.name, W2.name]
    assert set(verified_cosigners(cosigned, witnesses)) == {CosignerKey.of(W1), CosignerKey.of(W2)}
    # A cosignature over another checkpoint is refused by Go as by tracechain.
    moved = note(HISTORY_A, 78) + cosign(text, W1, 5)
    assert go(moved, *witnesses).returncode == 1
    with pytest.raises(SignatureError):
        verified_cosigners(moved, witnesses)
