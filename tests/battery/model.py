"""A stateful model test: random sequences of ledger operations against a simple in-memory model.

Rules: append a batch (valid key), try to append with a revoked key, reopen, checkpoint, prove an entry against a
checkpoint, rotate an actor's key, rotate the operator's key, and tamper with the file (an entry byte, a deleted
or swapped entry, a tile, the keys table, the item index). Invariants after every step: `verify`, given every
checkpoint signed so far, passes exactly when nothing was tampered with; untampered, the size is the model's and
never shrinks, and every checkpoint is consistent with every later one.
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

import tracechain
from tracechain import Ledger, SigningKey, merkle
from tracechain.checkpoints import parse_unverified
from tracechain.errors import SignatureError

from .support import OPERATOR_USCC, ORIGIN, PLANT_USCC, SHIPPER_USCC, Tally, event, foreign, key, remove_ledger, timed

ACTORS = {"plant.example.cn": PLANT_USCC, "shipper.example.cn": SHIPPER_USCC}
TAMPERS = ("entry byte", "entry deleted", "entries swapped", "tile byte", "keys table", "item index")


def run_model(workdir: Path, examples: int, steps: int = 25) -> Tally:
    tally = Tally("stateful model", f"{examples} runs of up to {steps} steps")
    counter = itertools.count()

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.path = workdir / f"model-{next(counter)}.db"
            remove_ledger(self.path)
            self.generation = itertools.count(1)
            self.op = key(ORIGIN, "model-operator-0")
            self.led: Ledger | None = Ledger.create(str(self.path), ORIGIN, self.op, OPERATOR_USCC)
            self.size = 2
            self.actors: dict[str, SigningKey] = {}
            self.revoked: list[SigningKey] = []
            for name, uscc in ACTORS.items():
                self.actors[name] = key(name, f"model-{name}-0")
                self.ledger.register(self.actors[name].verifier, uscc, self.op)
                self.size += 2
            self.checkpoints: list[str] = []
            self.events: dict[int, bytes] = {}
            self.unit = itertools.count()
            self.tampered: str | None = None
            self.largest = self.size
            tally.trials += 1

        @property
        def ledger(self) -> Ledger:
            if self.led is None:
                self.led = Ledger.open(str(self.path))
            return self.led

        def teardown(self) -> None:
            if self.led is not None:
                self.led.close()
            remove_ledger(self.path)
            tally.ok_as("tampered runs" if self.tampered else "clean runs")

        # --- operations ----------------------------------------------------------------------------------

        @precondition(lambda self: self.tampered is None)
        @rule(count=st.integers(1, 5), actor=st.sampled_from(sorted(ACTORS)))
        def append(self, count: int, actor: str) -> None:
            events = [event(next(self.unit)) for _ in range(count)]
            receipt = self.ledger.append_many(events, self.actors[actor])
            assert receipt.first == self.size
            for i, e in enumerate(events):
                self.events[self.size + i] = e.canonical_bytes()
            self.size += count + 1
            tally.ok_as("appends")

        @precondition(lambda self: self.tampered is None and self.revoked)
        @rule(data=st.data())
        def append_with_a_revoked_key(self, data: st.DataObject) -> None:
            revoked = data.draw(st.sampled_from(self.revoked))
            try:
                self.ledger.append(event(next(self.unit)), revoked)
            except SignatureError:
                tally.ok_as("revoked key refused")
            else:
                raise AssertionError("a revoked key appended a batch")
            assert self.ledger.size == self.size

        @rule()
        def reopen(self) -> None:
            if self.led is not None:
                self.led.close()
            self.led = None

        @precondition(lambda self: self.tampered is None)
        @rule()
        def checkpoint(self) -> None:
            note = self.ledger.checkpoint(self.op)
            assert parse_unverified(note).size == self.size
            self.checkpoints.append(note)
            tally.ok_as("checkpoints")

        @precondition(lambda self: self.tampered is None and self.checkpoints)
        @rule(data=st.data())
        def prove(self, data: st.DataObject) -> None:
            held = parse_unverified(data.draw(st.sampled_from(self.checkpoints)))
            index = data.draw(st.integers(0, held.size - 1))
            proof = self.ledger.prove_inclusion(index, held.size)
            assert proof.root == held.root
            proof.verify()
            entry = self.ledger.entry(index)
            assert entry.leaf_hash == proof.leaf_hash
            if index in self.events:
                assert entry.kind == "event" and entry.body == self.events[index]
            tally.ok_as("inclusion proofs")

        @precondition(lambda self: self.tampered is None)
        @rule(actor=st.sampled_from(sorted(ACTORS)))
        def rotate_actor_key(self, actor: str) -> None:
            new = key(actor, f"model-{actor}-{next(self.generation)}")
            self.ledger.register(new.verifier, ACTORS[actor], self.op)
            self.ledger.revoke(self.actors[actor].verifier, self.op)
            self.revoked.append(self.actors[actor])
            self.actors[actor] = new
            self.size += 4
            tally.ok_as("actor key rotations")

        @precondition(lambda self: self.tampered is None)
        @rule()
        def rotate_operator_key(self) -> None:
            new = key(ORIGIN, f"model-operator-{next(self.generation)}")
            self.ledger.register(new.verifier, OPERATOR_USCC, self.op, role="operator")
            self.ledger.revoke(self.op.verifier, new)
            self.revoked.append(self.op)
            self.op = new
            self.size += 4
            tally.ok_as("operator key rotations")

        @precondition(lambda self: self.tampered is None)
        @rule(kind=st.sampled_from(TAMPERS), data=st.data())
        def tamper(self, kind: str, data: st.DataObject) -> None:
            if self.led is not None:
                self.led.close()
                self.led = None
            con = sqlite3.connect(self.path)
            try:
                with con:
                    _tamper(con, kind, data, self.size)
            finally:
                con.close()
            self.tampered = kind
            tally.ok_as(f"tampered: {kind}")

        # --- invariants ----------------------------------------------------------------------------------

        @invariant()
        def verify_passes_exactly_when_untampered(self) -> None:
            report = tracechain.verify(self.path, self.checkpoints)
            if self.tampered is None:
                assert report.ok, [p.to_dict() for p in report.problems]
                assert report.size == self.size
            else:
                assert not report.ok, f"tampering ({self.tampered}) went unnoticed"
                assert report.first_bad_index is not None

        @invariant()
        def sizes_never_shrink(self) -> None:
            if self.tampered is None:
                size = self.ledger.size
                assert size == self.size >= self.largest
                self.largest = size

        @invariant()
        def every_checkpoint_is_consistent_with_every_later_one(self) -> None:
            if self.tampered is not None:
                return
            held = [parse_unverified(n) for n in self.checkpoints]
            for old, new in itertools.combinations(held, 2):
                proof = self.ledger.prove_consistency(old.size, new.size)
                merkle.verify_consistency(old.size, new.size, old.root, new.root, list(proof.path))

    with timed(tally):
        try:
            run_state_machine_as_test(
                LedgerMachine,
                settings=settings(
                    max_examples=examples,
                    stateful_step_count=steps,
                    deadline=None,
                    database=None,
                    phases=(Phase.generate, Phase.shrink),
                    suppress_health_check=list(HealthCheck),
                ),
            )
        except Exception as e:
            tally.fail("model violated", foreign(e))
    return tally


def _tamper(con: sqlite3.Connection, kind: str, data: st.DataObject, size: int) -> None:
    """One change made with SQL behind the library's back."""
    pick = data.draw
    if kind == "entry byte":
        index = pick(st.integers(0, size - 1))
        (blob,) = con.execute("SELECT data FROM entries WHERE idx = ?", (index,)).fetchone()
        at = pick(st.integers(0, len(blob) - 1))
        damaged = bytes(blob[:at]) + bytes([blob[at] ^ (1 << pick(st.integers(0, 7)))]) + bytes(blob[at + 1 :])
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (damaged, index))
    elif kind == "entry deleted":
        con.execute("DELETE FROM entries WHERE idx = ?", (pick(st.integers(0, size - 1)),))
    elif kind == "entries swapped":
        i, j = sorted(pick(st.lists(st.integers(0, size - 1), min_size=2, max_size=2, unique=True)))
        rows: list[Any] = [con.execute("SELECT data FROM entries WHERE idx = ?", (k,)).fetchone()[0] for k in (i, j)]
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (rows[1], i))
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (rows[0], j))
    elif kind == "tile byte":
        level, index, blob = con.execute("SELECT level, idx, hashes FROM tiles ORDER BY level, idx LIMIT 1").fetchone()
        at = pick(st.integers(0, len(blob) - 1))
        con.execute(
            "UPDATE tiles SET hashes = ? WHERE level = ? AND idx = ?",
            (bytes(blob[:at]) + bytes([blob[at] ^ 1]) + bytes(blob[at + 1 :]), level, index),
        )
    elif kind == "keys table":
        con.execute("UPDATE keys SET actor = ? WHERE rowid = (SELECT MAX(rowid) FROM keys)", ("91110000100000123T",))
    else:
        con.execute("INSERT INTO items (code, idx) VALUES (?, ?)", ("https://id.gs1.org/01/06901234567892", 1))
