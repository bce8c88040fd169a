"""Key rotation and revocation: no sequence of documented operations leaves a ledger that fails verify (issue 10.1).

Found by a trial: registering a second operator key, then revoking the first with the first (the rotation done in
the natural order) made every later verify fail, because the revoke batch was signed by the key it revoked. A
revocation now takes effect after the batch that records it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import tracechain
from tests.battery.support import examples
from tests.conftest import ACTOR_USCC, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import SignatureError


def _key(name: str, label: str) -> SigningKey:
    return SigningKey.from_seed(name, hashlib.sha256(f"rotation:{label}".encode()).digest())


def test_an_operator_revoking_its_own_key_after_registering_the_next_leaves_a_valid_ledger(tmp_path: Path) -> None:
    op1, op2, plant = _key(ORIGIN, "op1"), _key(ORIGIN, "op2"), _key("plant.example.cn", "plant")
    with Ledger.create(tmp_path / "l.db", ORIGIN, op1, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, op1)
        led.register(op2.verifier, OPERATOR_USCC, op1, role="operator")
        led.revoke(op1.verifier, op1)  # the revoke batch is signed by the key it revokes
        with pytest.raises(SignatureError, match="revoked"):
            led.append_many([make_event(1)], op1)
        led.append_many([make_event(2)], plant)
        note = led.checkpoint(op2)
    report = tracechain.verify(tmp_path / "l.db", [note])
    assert report.ok, report.problems


def test_the_last_operator_key_that_can_sign_is_never_revoked(tmp_path: Path) -> None:
    op1 = _key(ORIGIN, "op1")
    with Ledger.create(tmp_path / "l.db", ORIGIN, op1, OPERATOR_USCC) as led:
        with pytest.raises(SignatureError, match="last operator key"):
            led.revoke(op1.verifier, op1)
        assert led.size == 2  # nothing written
    assert tracechain.verify(tmp_path / "l.db").ok


def test_a_key_revoked_in_an_earlier_batch_still_cannot_sign(tmp_path: Path) -> None:
    """The rule moved by one batch, not more: a seal by a key revoked before its batch is still reported."""
    from tests.battery.insider import forge_batch  # a tool that writes a correctly chained batch with any key

    op1, plant = _key(ORIGIN, "op1"), _key("plant.example.cn", "plant")
    path = tmp_path / "l.db"
    with Ledger.create(path, ORIGIN, op1, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, op1)
        led.revoke(plant.verifier, op1)
    forge_batch(path, [make_event(9)], plant, actor=ACTOR_USCC, signers=[op1], origin=ORIGIN)
    report = tracechain.verify(path)
    assert any("revoked at entry" in p.message for p in report.problems), report.problems


class Rotation(RuleBasedStateMachine):
    """Register, revoke, rotate, append and checkpoint with operator and actor keys, in any order the API allows."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0
        self.held: list[str] = []

    @initialize()
    def create(self) -> None:
        import tempfile

        self.folder = Path(tempfile.mkdtemp(prefix="tc-rotation-"))
        first = self._new(ORIGIN)
        self.ledger = Ledger.create(self.folder / "l.db", ORIGIN, first, OPERATOR_USCC)
        self.operators = [first]
        self.actors: list[SigningKey] = []
        self.revoked: list[SigningKey] = []

    def _new(self, name: str) -> SigningKey:
        self.generation += 1
        return _key(name, f"{name}-{self.generation}")

    def teardown(self) -> None:
        if hasattr(self, "ledger"):
            self.ledger.close()

    @rule(pick=st.integers(0, 50))
    def register_operator(self, pick: int) -> None:
        key = self._new(ORIGIN)
        self.ledger.register(key.verifier, OPERATOR_USCC, self.operators[pick % len(self.operators)], role="operator")
        self.operators.append(key)

    @rule(pick=st.integers(0, 50))
    def register_actor(self, pick: int) -> None:
        key = self._new("plant.example.cn")
        self.ledger.register(key.verifier, ACTOR_USCC, self.operators[pick % len(self.operators)])
        self.actors.append(key)

    @rule(victim=st.integers(0, 50), signer=st.integers(0, 50), operator=st.booleans())
    def revoke(self, victim: int, signer: int, operator: bool) -> None:
        pool = self.operators if operator or not self.actors else self.actors
        target = pool[victim % len(pool)]
        by = self.operators[signer % len(self.operators)]
        if pool is self.operators and len(self.operators) == 1:
            with pytest.raises(SignatureError, match="last operator key"):
                self.ledger.revoke(target.verifier, by)
            return
        self.ledger.revoke(target.verifier, by)  # the signer may be the key being revoked
        pool.remove(target)
        self.revoked.append(target)

    @rule(pick=st.integers(0, 50), count=st.integers(1, 3))
    def append(self, pick: int, count: int) -> None:
        if not self.actors:
            return
        start = self.ledger.size * 10
        self.ledger.append_many([make_event(start + i) for i in range(count)], self.actors[pick % len(self.actors)])

    @precondition(lambda self: bool(self.revoked))
    @rule(pick=st.integers(0, 50))
    def a_revoked_key_signs_nothing(self, pick: int) -> None:
        key = self.revoked[pick % len(self.revoked)]
        size = self.ledger.size
        with pytest.raises(SignatureError, match="revoked"):
            self.ledger.append_many([make_event(size * 10 + 7)], key)
        assert self.ledger.size == size

    @rule(pick=st.integers(0, 50))
    def checkpoint(self, pick: int) -> None:
        self.held.append(self.ledger.checkpoint(self.operators[pick % len(self.operators)]))

    @invariant()
    def the_ledger_verifies(self) -> None:
        if hasattr(self, "ledger"):
            report = tracechain.verify(self.folder / "l.db", self.held, workers=1)
            assert report.ok, report.problems


Rotation.TestCase.settings = settings(
    max_examples=examples(15),
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_no_documented_sequence_of_key_operations_breaks_verify = Rotation.TestCase
