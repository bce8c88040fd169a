"""An insider's toolkit: someone who holds the database file and every private key rewrites the ledger directly.

`read_batches` turns a ledger file back into its batches; `write_batches` writes batches back as a complete,
self-consistent ledger (entries re-hashed and re-chained, seals re-signed with the real keys, tiles, every
projection and the keys table rebuilt, stored checkpoints replaced by one freshly signed), which is the strongest
forgery there is. Only a checkpoint held outside can tell it from the original. Everything here uses plain sqlite3 and
tracechain's public building blocks, never the `Ledger` writer, so a bug there cannot hide a bug here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracechain import Event, SigningKey, encoding, merkle
from tracechain._tiles import TileEdge
from tracechain.checkpoints import Checkpoint
from tracechain.entries import ENTRY_VERSION, ZERO_HASH, batch_message
from tracechain.storage import PROJECTIONS

from .support import ORIGIN, entries_of


@dataclass
class Batch:
    """One signed batch: who signed it and its entries' (kind, body); an event's body is its canonical bytes."""

    public: bytes
    actor: str
    items: list[tuple[str, Any]] = field(default_factory=list)


def read_batches(path: Path) -> list[Batch]:
    batches: list[Batch] = []
    pending: list[tuple[str, Any]] = []
    for data in entries_of(path):
        _version, _index, _prev, kind, body = encoding.decode_entry(data)
        if kind == "seal":
            batches.append(Batch(body["public"], body["actor"], pending))
            pending = []
        else:
            pending.append((kind, body))
    assert not pending, "the ledger ends with entries no seal covers"
    return batches


def boundaries_of(batches: list[Batch]) -> list[int]:
    """The ledger size after each batch."""
    out, size = [], 0
    for batch in batches:
        size += len(batch.items) + 1
        out.append(size)
    return out


@dataclass
class _Tables:
    entries: list[tuple[int, bytes]] = field(default_factory=list)
    projected: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {p.name: [] for p in PROJECTIONS})
    keys: dict[bytes, list[Any]] = field(default_factory=dict)
    leaves: list[bytes] = field(default_factory=list)


def _key_rows(tables: _Tables, kind: str, body: Any, index: int) -> None:
    if kind == "genesis":
        op = body["operator"]
        tables.keys[op["public"]] = [op["public"], op["name"], op["actor"], "operator", index, None]
    elif kind == "key":
        tables.keys[body["public"]] = [body["public"], body["name"], body["actor"], body["role"], index, None]
    elif kind == "revoke":
        tables.keys[body["public"]][5] = index


def write_batches(
    path: Path,
    batches: list[Batch],
    signers: dict[bytes, SigningKey],
    signature: Callable[[int, bytes], bytes | None] | None = None,
    origin: str = ORIGIN,
) -> bytes:
    """Replace every table of the ledger at ``path`` with ``batches``, re-hashed and re-signed; returns the root.

    ``signature(batch number, message)`` may give a seal's signature instead of signing (to transplant one).
    The stored checkpoints are replaced by one of the new tree, signed by the operator key then in force.
    """
    tables = _Tables()
    edge = TileEdge()
    tiles: list[tuple[int, int, bytes]] = []
    prev, index = ZERO_HASH, 0

    def add(kind: str, body: Any) -> bytes:
        nonlocal prev, index
        value = Event.from_canonical(body) if kind == "event" else body
        for projection in PROJECTIONS:
            if kind in projection.kinds:
                tables.projected[projection.name] += projection.derive(value, index)
        data = encoding.encode_entry(ENTRY_VERSION, index, prev, kind, body)
        prev = merkle.leaf_hash(data)
        tables.entries.append((index, data))
        tables.leaves.append(prev)
        tiles.extend(edge.append(prev))
        index += 1
        return prev

    for number, batch in enumerate(batches):
        first, hashes = index, []
        for kind, body in batch.items:
            _key_rows(tables, kind, body, index)
            hashes.append(add(kind, body))
        root = merkle.root(hashes)
        message = batch_message(origin, first, len(hashes), root)
        seal = {
            "actor": batch.actor,
            "count": len(hashes),
            "first": first,
            "public": batch.public,
            "root": root,
            "sig": (signature and signature(number, message)) or signers[batch.public].sign(message),
        }
        add("seal", seal)
    tiles += edge.flush()
    tree_root = merkle.root(tables.leaves)
    con = sqlite3.connect(path)
    try:
        with con:
            for table in ("entries", "tiles", "keys", *tables.projected):
                con.execute(f"DELETE FROM {table}")
            con.executemany("INSERT INTO entries (idx, data) VALUES (?, ?)", tables.entries)
            con.executemany("INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)", tiles)
            for name, rows in tables.projected.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    con.executemany(f"INSERT OR IGNORE INTO {name} VALUES ({marks})", rows)
            con.executemany(
                "INSERT INTO keys (public, name, actor, role, registered, revoked) VALUES (?, ?, ?, ?, ?, ?)",
                [tuple(row) for row in tables.keys.values()],
            )
            live = [row[0] for row in tables.keys.values() if row[3] == "operator" and row[5] is None]
            note = Checkpoint(origin, index, tree_root).sign(signers[live[-1]])
            con.execute("DELETE FROM checkpoints")
            con.execute("INSERT INTO checkpoints (size, note) VALUES (?, ?)", (index, note))
    finally:
        con.close()
    return tree_root


def rewrite_entries(path: Path, entries: list[bytes]) -> None:
    """Replace the entries table only (nothing re-hashed): the clumsy insider."""
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute("DELETE FROM entries")
            con.executemany("INSERT INTO entries (idx, data) VALUES (?, ?)", enumerate(entries))
    finally:
        con.close()


def forge_batch(
    path: Path,
    events: list[dict[str, Any]],
    key: SigningKey,
    *,
    actor: str,
    signers: list[SigningKey],
    origin: str = ORIGIN,
) -> None:
    """Append a batch of ``events`` signed by ``key`` for ``actor`` whatever the ledger's rules say (a revoked
    key, another enterprise's events), rewriting the whole ledger as `write_batches` does with ``signers``."""
    batches = read_batches(path)
    batches.append(Batch(key.public_bytes, actor, [("event", Event.from_dict(e).canonical_bytes()) for e in events]))
    write_batches(path, batches, {k.public_bytes: k for k in [*signers, key]}, origin=origin)
