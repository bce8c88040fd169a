"""What every battery shares: deterministic keys, a varied ledger, counted results and a logical snapshot.

The snapshot reads a ledger file with the standard library's sqlite3 in immutable mode, independently of
tracechain, so that "provably harmless" can be judged by comparing every table row for row.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import random
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import tracechain
from tracechain import Event, Ledger, SigningKey
from tracechain.checkpoints import Checkpoint
from tracechain.identifiers import gtin_check_digit

ORIGIN = "battery.tracechain.example/ledger"
OPERATOR_USCC = "91350100M000100Y43"
PLANT_USCC = "91512081MA62K0260E"
SHIPPER_USCC = "91440101MA59ABCD1D"
GTIN14 = "0690123456789" + str(gtin_check_digit("0690123456789"))
GLN = "690123456789" + str(gtin_check_digit("690123456789"))

LONG_EXAMPLES = 10_000
TABLES = ("meta", "entries", "tiles", "items", "keys", "checkpoints")


def integrity_pass(path: str | Path, held: list[str], *, span: int = 37, workers: int = 1) -> tracechain.VerifyReport:
    """``verify(contents=False, signatures=False)`` in spans of ``span`` entries (see `spanned`)."""
    return spanned(path, held, span=span, workers=workers, signatures=False, contents=False)


def spanned(
    path: str | Path, held: list[str], *, span: int = 37, workers: int = 1, **options: Any
) -> tracechain.VerifyReport:
    """``verify`` reading spans of ``span`` entries (in ``workers`` processes when above 1), whatever the size.

    Spans this short put span boundaries inside batches, between an entry and its seal, and at checkpoint sizes,
    which is where joining the spans' results could go wrong; the ledgers here are too small for the default.
    """
    module = importlib.import_module("tracechain.verification._scan")
    names = ("_SPAN", "_PARALLEL_ENTRIES", "_CONTENT_SPAN", "_PARALLEL_CONTENT_ENTRIES")
    saved = [getattr(module, name) for name in names]
    for name, value in zip(names, (span, 0, span, 0), strict=True):
        setattr(module, name, value)
    try:
        return tracechain.verify(path, held, workers=workers, **options)
    finally:
        for name, value in zip(names, saved, strict=True):
            setattr(module, name, value)


def key(name: str, label: str) -> SigningKey:
    """A deterministic key: the same label always gives the same key, in every process."""
    return SigningKey.from_seed(name, hashlib.sha256(f"battery:{label}".encode()).digest())


def operator_key(generation: int = 0) -> SigningKey:
    return key(ORIGIN, f"operator-{generation}")


def actor_key(name: str, generation: int = 0) -> SigningKey:
    return key(name, f"actor-{name}-{generation}")


def writer_name(writer: int) -> str:
    """The key name of writer process ``writer`` in the crash and concurrency batteries."""
    return f"writer-{writer}.example.cn"


def examples(default: int) -> int:
    """Hypothesis examples per parser: ``TRACECHAIN_EXAMPLES=N`` or ``TRACECHAIN_LONG=1`` raise the fast default."""
    if os.environ.get("TRACECHAIN_EXAMPLES"):
        return int(os.environ["TRACECHAIN_EXAMPLES"])
    if os.environ.get("TRACECHAIN_LONG") == "1":
        return LONG_EXAMPLES
    return default


# --- events ------------------------------------------------------------------------------------------------


def _sscc(i: int) -> str:
    body = f"0690123450{i % 10**7:07d}"
    return f"https://id.gs1.org/00/{body}{gtin_check_digit(body)}"


def event_dict(i: int) -> dict[str, Any]:
    """A valid event for unit ``i``; the type and extras vary with ``i`` so the ledger holds every shape."""
    base: dict[str, Any] = {
        "eventTime": f"2026-03-{1 + i % 28:02d}T08:{(i // 60) % 60:02d}:{i % 60:02d}+08:00",
        "eventTimeZoneOffset": "+08:00",
        "readPoint": {"id": f"https://id.gs1.org/414/{GLN}"},
        "tc:product": "food",
        "tc:kde": {"lot": f"L{i % 7:04d}", "producerUSCC": PLANT_USCC, "note": f"unit {i} 批次"},
    }
    unit = f"https://id.gs1.org/01/{GTIN14}/21/U{i:06d}"
    shape = i % 4
    if shape == 0:
        return {
            **base,
            "type": "ObjectEvent",
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "epcList": [unit],
            "ilmd": {"bestBefore": "2027-03-01"},
        }
    if shape == 1:
        return {
            **base,
            "type": "AggregationEvent",
            "action": "ADD",
            "bizStep": "packing",
            "parentID": _sscc(i),
            "childEPCs": [unit, f"https://id.gs1.org/01/{GTIN14}/21/V{i:06d}"],
        }
    if shape == 2:
        return {
            **base,
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "quantityList": [
                {
                    "epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L{i % 7:04d}",
                    "quantity": Decimal("12.5"),
                    "uom": "KGM",
                }
            ],
            "sourceList": [{"type": "owning_party", "source": f"urn:uscc:{PLANT_USCC}"}],
            "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:po:{i}"}],
            "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": i % 9, "uom": "CEL"}]}],
        }
    return {
        **base,
        "type": "TransformationEvent",
        "bizStep": "commissioning",
        "inputQuantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/R{i:04d}", "quantity": 3}],
        "outputEPCList": [unit],
    }


def event(i: int) -> Event:
    """`event_dict` validated against the envelope (product profiles are another battery's concern)."""
    return Event.from_dict(event_dict(i), check_profile=False)


# --- a varied ledger ---------------------------------------------------------------------------------------


@dataclass
class Built:
    """A closed ledger and what its outside holders keep: a checkpoint after every batch."""

    path: Path
    size: int
    root: bytes
    boundaries: list[int]  # the size after each batch, ascending, starting with the genesis batch
    held: list[str]  # a signed checkpoint at every boundary, as a witness would hold them
    signers: dict[bytes, SigningKey]  # every key that ever signed, by public key

    @property
    def final(self) -> str:
        return self.held[-1]

    def held_up_to(self, size: int) -> list[str]:
        return [note for b, note in zip(self.boundaries, self.held, strict=True) if b <= size]


def build_ledger(path: Path, *, events: int = 220, seed: int = 5) -> Built:
    """A ledger of about ``events`` events in batches of 1 to 6, from two actors, with an actor key rotation,
    an operator key rotation, revocations and stored checkpoints; closed, its WAL folded into the file."""
    rng = random.Random(seed)
    op0, op1 = operator_key(0), operator_key(1)
    plant0, plant1 = actor_key("plant.example.cn", 0), actor_key("plant.example.cn", 1)
    shipper = actor_key("shipper.example.cn")
    signers = {k.public_bytes: k for k in (op0, op1, plant0, plant1, shipper)}
    boundaries: list[int] = []
    held: list[str] = []
    op = op0

    def mark(led: Ledger) -> None:
        boundaries.append(led.size)
        held.append(Checkpoint(ORIGIN, led.size, led.root()).sign(op))

    with Ledger.create(str(path), ORIGIN, op0, OPERATOR_USCC) as led:
        mark(led)
        led.register(plant0.verifier, PLANT_USCC, op)
        mark(led)
        led.register(shipper.verifier, SHIPPER_USCC, op)
        mark(led)
        plant = plant0
        n = 0
        batch = 0
        while n < events:
            count = rng.randint(1, 6)
            signer = plant if batch % 3 else shipper
            led.append_many([event(n + j) for j in range(count)], signer)
            n += count
            batch += 1
            mark(led)
            if batch == 8:  # actor key rotation: the new key first, then the old one revoked
                led.register(plant1.verifier, PLANT_USCC, op)
                mark(led)
                led.revoke(plant0.verifier, op)
                mark(led)
                plant = plant1
            if batch == 20:  # operator key rotation
                led.register(op1.verifier, OPERATOR_USCC, op, role="operator")
                mark(led)
                led.revoke(op0.verifier, op1)
                op = op1
                mark(led)
            if batch % 7 == 0:
                led.checkpoint(op)
        led.checkpoint(op)
        size, root = led.size, led.root()
    assert not Path(f"{path}-wal").exists(), "closing the ledger must fold the WAL into the file"
    return Built(path, size, root, boundaries, held, signers)


def copy_ledger(src: Path, dst: Path) -> Path:
    """A copy of a closed ledger file, without any -wal/-shm the copy's previous use left beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    return dst


def remove_ledger(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- a logical snapshot ------------------------------------------------------------------------------------

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(path: Path) -> Snapshot | None:
    """Every row of every table and the schema, read with plain sqlite3; None if SQLite cannot read it all."""
    try:
        con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except (sqlite3.Error, UnicodeDecodeError):  # SQLite's message may quote damaged bytes
        return None
    try:
        con.text_factory = bytes  # damaged text must not stop the dump: compare raw bytes
        # SQL ignores the letter case of keywords and names (and the schema holds no string literal), so a schema
        # that differs only in case is the same schema.
        schema = con.execute("SELECT type, lower(name), lower(tbl_name), lower(sql) FROM sqlite_master ORDER BY 2")
        out: Snapshot = {"schema": schema.fetchall()}
        out["application_id"] = con.execute("PRAGMA application_id").fetchall()
        for table in TABLES:
            out[table] = con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        return out
    except (sqlite3.Error, UnicodeDecodeError):
        return None
    finally:
        con.close()


def entries_of(path: Path) -> list[bytes]:
    """The entry bytes in index order, read with plain sqlite3."""
    con = sqlite3.connect(path)
    try:
        return [bytes(r[0]) for r in con.execute("SELECT data FROM entries ORDER BY idx")]
    finally:
        con.close()


def first_difference(a: list[bytes], b: list[bytes]) -> int | None:
    """The first index at which two entry lists differ (one ending early counts), or None if equal."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


# --- counted results ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counted results of one check: outcomes (all fine) and failures (each one a defect), with examples."""

    battery: str
    check: str
    trials: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def ok_as(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    def fail(self, kind: str, message: str) -> None:
        self.failures[kind] += 1
        if self.failures[kind] <= 5:  # a few examples of each kind of failure
            self.examples.append(f"{kind}: {message}")

    @property
    def ok(self) -> bool:
        return not self.failures and self.trials > 0

    def summary(self) -> str:
        good = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        bad = ", ".join(f"{k} {v}" for k, v in sorted(self.failures.items())) or "none"
        return f"{self.battery}/{self.check}: {self.trials} trials; {good}; failures: {bad}"

    def assert_ok(self) -> None:
        assert self.ok, self.summary() + "\n" + "\n".join(self.examples)


@contextmanager
def timed(tally: Tally) -> Iterator[Tally]:
    start = time.monotonic()
    try:
        yield tally
    finally:
        tally.seconds += time.monotonic() - start


def foreign(error: BaseException) -> str:
    """A short description of an exception that is not tracechain's own, with where it came from."""
    tb = error.__traceback__
    where = ""
    while tb is not None:
        where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f"{type(error).__name__}: {str(error)[:200]} at {where}"
