"""The checked-in vectors of docs/SPEC.md, recomputed, and cross-checked with plain msgpack and hashlib."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgpack
import pytest

from tests.vectors.generate import build
from tracechain import encoding, merkle
from tracechain.checkpoints import open_checkpoint
from tracechain.entries import batch_message
from tracechain.events import Event, parse_json
from tracechain.keys import SigningKey, verify_ed25519

VECTORS = json.loads((Path(__file__).parent / "vectors" / "vectors.json").read_text())


def test_the_vectors_are_what_this_implementation_computes() -> None:
    assert build() == VECTORS


@pytest.mark.parametrize("vector", VECTORS["events"], ids=lambda v: v["name"])
def test_event_vector(vector: dict[str, Any]) -> None:
    event = Event.from_dict(parse_json(vector["json"]), check_profile=False)
    canonical = bytes.fromhex(vector["canonical_hex"])
    assert event.canonical_bytes() == canonical
    # Independently: plain msgpack reads it as a map with sorted keys, and the entry wraps it as SPEC §3 says.
    plain = msgpack.unpackb(canonical, raw=False, ext_hook=lambda code, data: (code, data))
    assert list(plain) == sorted(plain, key=lambda k: k.encode())
    entry = bytes.fromhex(vector["entry_hex"])
    assert msgpack.unpackb(entry, raw=False) == [1, vector["index"], bytes.fromhex(vector["prev"]), "event", canonical]
    assert hashlib.sha256(b"\x00" + entry).hexdigest() == vector["leaf_hash"]
    assert encoding.decode(canonical) == dict(event.data)


def test_batch_and_checkpoint_vectors() -> None:
    batch = VECTORS["batch"]
    leaves = [bytes.fromhex(v["leaf_hash"]) for v in VECTORS["events"]]
    assert merkle.root(leaves).hex() == batch["root"]
    message = bytes.fromhex(batch["message_hex"])
    assert message == b"tracechain batch signature v1\x00" + batch["origin"].encode() + b"\n" + (
        batch["first"].to_bytes(8, "big") + batch["count"].to_bytes(8, "big") + bytes.fromhex(batch["root"])
    )
    assert batch_message(batch["origin"], batch["first"], batch["count"], bytes.fromhex(batch["root"])) == message
    key = SigningKey.from_seed(batch["origin"], bytes.fromhex(batch["seed_hex"]))
    assert key.public_bytes.hex() == batch["public_hex"]
    assert verify_ed25519(key.public_bytes, message, bytes.fromhex(batch["signature_hex"]))
    cp = open_checkpoint(VECTORS["checkpoint"]["note"], [VECTORS["checkpoint"]["verifier"]], origin=batch["origin"])
    assert (cp.size, cp.root.hex()) == (batch["count"], batch["root"])
