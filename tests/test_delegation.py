"""Events speak for an enterprise only with its key or a recorded delegation, checked on append and by verify
(issue 10.5); log shows who signed."""

from __future__ import annotations

from pathlib import Path

import pytest

import tracechain
from tests.battery.insider import forge_batch
from tests.conftest import ACTOR_USCC, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import SignatureError, ValidationError

OTHER_USCC = "91440101MA59ABCD1D"  # another company: a plant the logistics provider records for


def _for(enterprise: str, i: int) -> dict[str, object]:
    event = make_event(i)
    event["tc:kde"] = {**event["tc:kde"], "enterprise_uscc": enterprise}  # type: ignore[dict-item]
    return event


def test_an_event_in_another_company_s_name_is_refused(ledger: Ledger, actor_key: SigningKey) -> None:
    size = ledger.size
    with pytest.raises(SignatureError, match=f"names enterprise {OTHER_USCC}.*tracechain delegate"):
        ledger.append_many([make_event(1), _for(OTHER_USCC, 2)], actor_key)
    assert ledger.size == size


def test_a_delegation_lets_an_agent_record_for_a_principal_until_withdrawn(
    ledger: Ledger, actor_key: SigningKey, operator_key: SigningKey
) -> None:
    ledger.delegate(ACTOR_USCC, OTHER_USCC, operator_key)
    ledger.append_many([_for(OTHER_USCC, 1)], actor_key)
    with pytest.raises(ValidationError, match="already records"):
        ledger.delegate(ACTOR_USCC, OTHER_USCC, operator_key)
    ledger.delegate(ACTOR_USCC, OTHER_USCC, operator_key, withdraw=True)
    with pytest.raises(SignatureError, match="no delegation"):
        ledger.append_many([_for(OTHER_USCC, 2)], actor_key)
    with pytest.raises(ValidationError, match="not in force"):
        ledger.delegate(ACTOR_USCC, OTHER_USCC, operator_key, withdraw=True)
    with pytest.raises(SignatureError, match="not to the ledger operator"):
        ledger.delegate(ACTOR_USCC, OTHER_USCC, actor_key)
    assert tracechain.verify(ledger.path).ok


def test_verify_finds_an_event_written_for_another_company_without_a_delegation(tmp_path: Path) -> None:
    operator, plant = SigningKey.generate(ORIGIN), SigningKey.generate("plant.example.cn")
    path = tmp_path / "l.db"
    with Ledger.create(path, ORIGIN, operator, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, operator)
        led.append_many([make_event(1)], plant)
    forge_batch(path, [make_event(2), _for(OTHER_USCC, 3)], plant, actor=ACTOR_USCC, signers=[operator], origin=ORIGIN)
    report = tracechain.verify(path)
    assert [(p.index, p.message.split(",")[0]) for p in report.problems] == [
        (7, f"event recorded for enterprise {OTHER_USCC} in a batch signed by {ACTOR_USCC}")
    ]


def test_the_signer_of_every_entry_is_one_lookup_away(ledger: Ledger, actor_key: SigningKey) -> None:
    receipt = ledger.append_many([make_event(i) for i in range(3)], actor_key)
    signer = ledger.signer(receipt.first + 1)
    assert signer is not None and signer[0] == ACTOR_USCC and signer[1].public_bytes == actor_key.public_bytes
    assert ledger.signer(ledger.size) is None
