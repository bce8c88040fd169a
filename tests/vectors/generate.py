"""Writes tests/vectors/vectors.json from this implementation; run it only when the format changes on purpose.

    python tests/vectors/generate.py

The vectors are for other implementations of docs/SPEC.md and guard this one against silent format changes:
tests/test_vectors.py recomputes each value and also checks it with plain msgpack and hashlib.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tracechain import encoding, merkle
from tracechain.checkpoints import Checkpoint
from tracechain.entries import ENTRY_VERSION, batch_message
from tracechain.events import Event, to_json
from tracechain.keys import SigningKey

HERE = Path(__file__).resolve().parent
SEED = bytes(range(32))
ORIGIN = "vectors.tracechain.example/log"

EVENTS: list[tuple[str, dict[str, Any]]] = [
    (
        "minimal object event, CBV URI and a Digital Link on a custom domain",
        {
            "eventTimeZoneOffset": "+08:00",
            "type": "ObjectEvent",
            "action": "ADD",
            "eventTime": "2026-03-01T09:30:00+08:00",
            "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
            "epcList": ["https://trace.example.cn/01/6901234567892/21/SN%2F001"],
            "tc:product": "food",
        },
    ),
    (
        "decimals, an integral decimal, NFC text and a time with microseconds in UTC",
        {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventTime": "2026-03-01T01:30:00.123456Z",
            "eventTimeZoneOffset": "+08:00",
            "quantityList": [
                {
                    "epcClass": "https://id.gs1.org/01/06901234567892/10/LOT1",
                    "quantity": Decimal("12.50"),
                    "uom": "KGM",
                },
                {"epcClass": "https://id.gs1.org/01/06901234567892/10/LOT2", "quantity": Decimal("3.0")},
            ],
            "tc:product": "edible_oil",
            "tc:kde": {"note": "Cafe\u0301 压榨"},
        },
    ),
    (
        "transformation event (no action) with an element-string input",
        {
            "type": "TransformationEvent",
            "eventTime": "2026-03-02T10:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "inputEPCList": ["(01)06901234567892(21)RAW1"],
            "outputEPCList": ["https://id.gs1.org/01/06901234567892/21/OUT1"],
            "bizStep": "commissioning",
            "tc:product": "liquor",
        },
    ),
]


def build() -> dict[str, Any]:
    key = SigningKey.from_seed(ORIGIN, SEED)
    out: dict[str, Any] = {"events": [], "batch": {}, "checkpoint": {}}
    prev = bytes(32)
    leaves = []
    for index, (name, raw) in enumerate(EVENTS):
        event = Event.from_dict(raw, check_profile=False)
        canonical = event.canonical_bytes()
        entry = encoding.encode_entry(ENTRY_VERSION, index, prev, "event", canonical)
        leaf = merkle.leaf_hash(entry)
        out["events"].append(
            {
                "name": name,
                "json": to_json(raw),
                "canonical_hex": canonical.hex(),
                "index": index,
                "prev": prev.hex(),
                "entry_hex": entry.hex(),
                "leaf_hash": leaf.hex(),
            }
        )
        leaves.append(leaf)
        prev = leaf
    root = merkle.root(leaves)
    message = batch_message(ORIGIN, 0, len(leaves), root)
    out["batch"] = {
        "origin": ORIGIN,
        "first": 0,
        "count": len(leaves),
        "root": root.hex(),
        "message_hex": message.hex(),
        "seed_hex": SEED.hex(),
        "public_hex": key.public_bytes.hex(),
        "signature_hex": key.sign(message).hex(),
    }
    out["checkpoint"] = {"verifier": key.verifier, "note": Checkpoint(ORIGIN, len(leaves), root).sign(key)}
    return out


if __name__ == "__main__":
    (HERE / "vectors.json").write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n")
