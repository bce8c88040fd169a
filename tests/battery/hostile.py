"""Hostile input: Hypothesis against every parser tracechain exposes.

Parsers: event JSON (`parse_json`, `Event.from_dict` with its product profile, then `Ledger.append`), canonical
msgpack (`encoding.decode`, `decode_entry`, `Entry.from_bytes`, `Event.from_canonical` and what reads it),
signed notes and checkpoints (`parse_note`, `open_note`, `Checkpoint.from_text`, `open_checkpoint`,
`Ledger.open_checkpoint`, `Ledger.prove_against`, `verify` with the note held), verifier key strings
(`VerifierKey.parse`, `open_note`, `Ledger.register`) and key files (`SigningKey.load`).

Inputs are random, or a genuine input mutated: deep nesting, duplicate keys, NaN and Infinity, huge numbers,
wrong types, lone surrogates and invalid UTF-8, control characters, truncation, repeated lines. Only
`TracechainError` subclasses may come out, and a rejected write leaves the ledger byte for byte as it was.
Every run function returns a `Tally`; a foreign exception is re-raised inside Hypothesis so that it shrinks it,
then counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import string
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import tracechain
from tracechain import Event, Ledger, SigningKey, VerifierKey, encoding, merkle
from tracechain._tiles import TileEdge
from tracechain.checkpoints import Checkpoint, open_checkpoint, parse_unverified
from tracechain.entries import Entry
from tracechain.errors import TracechainError
from tracechain.events import parse_json, to_json
from tracechain.notes import open_note, parse_note

from .support import (
    OPERATOR_USCC,
    ORIGIN,
    PLANT_USCC,
    Tally,
    actor_key,
    copy_ledger,
    event_dict,
    foreign,
    operator_key,
    remove_ledger,
    timed,
)
from .support import entries_of as _entries_of

PASSWORD = "a long battery password, not a secret"


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )


def _run(tally: Tally, test: Callable[[], None]) -> Tally:
    """Run a Hypothesis test; a failure it shrank and re-raised counts as one failure of its kind."""
    with timed(tally):
        try:
            test()
        except Exception as e:
            if isinstance(e, WrittenOnRejectionError):
                tally.fail("written on rejection", foreign(e))
            elif isinstance(e, AssertionError):
                tally.fail("property violated", foreign(e))
            else:
                tally.fail("foreign exception", foreign(e))
    return tally


class WrittenOnRejectionError(AssertionError):
    """A write that was refused changed the ledger all the same."""


# --- strategies --------------------------------------------------------------------------------------------

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\n",
        "\r\n",
        "\u2014 ",
        "+",
        "\ud800",
        "\udfff",
        "\ufeff",
        "é",
        "e\u0301",
        "\u202e",
        "😀",
        "NaN",
        "-Infinity",
        "1e999999999",
        "9" * 400,
        "-0",
        "0x10",
        "１２",
        "null",
        "{}",
        "[]",
        "\\u0000",
        "\x7f\x85",
    ]
)
TEXT = st.one_of(st.text(max_size=40), NASTY_TEXT)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    TEXT,
)
JSON = st.recursive(LEAF, lambda c: st.lists(c, max_size=4) | st.dictionaries(TEXT, c, max_size=4), max_leaves=12)


def _dumps(value: Any) -> str:
    return to_json(value)  # decimals as JSON numbers; NaN and Infinity as JavaScript's literals


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@lru_cache(maxsize=1)
def _valid_events() -> tuple[str, ...]:
    """Valid events of every product: the project's examples (they pass the product profiles), else our own."""
    found = tuple(p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*/*.json")))
    return found or tuple(_dumps(event_dict(i)) for i in range(4))


def _edit_text(text: str, data: st.DataObject, alphabet: st.SearchStrategy[str] = TEXT) -> str:
    """A few random character-level edits: replace, insert or delete a run, or cut the text short."""
    for _ in range(data.draw(st.integers(1, 3))):
        if not text:
            text = data.draw(alphabet)
            continue
        at = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if op == "replace":
            text = text[:at] + data.draw(alphabet) + text[at + 1 :]
        elif op == "insert":
            text = text[:at] + data.draw(alphabet) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 20)) :]
        else:
            text = text[:at]
    return text


def _edit_lines(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    op = data.draw(st.sampled_from(["duplicate", "delete", "swap", "repeat"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    j = data.draw(st.integers(0, len(lines) - 1))
    if op == "duplicate":
        lines.insert(i, lines[j])
    elif op == "delete":
        del lines[i]
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i:i] = [lines[j]] * data.draw(st.integers(2, 150))
    return "\n".join(lines)


@st.composite
def event_json(draw: st.DrawFn) -> str | bytes:
    """Event JSON text: random, mutated from a valid event, deeply nested, with duplicates, huge or invalid."""
    data = draw(st.data())
    base = dict(parse_json(draw(st.sampled_from(_valid_events()))))
    shape = draw(
        st.sampled_from(
            ["random", "field", "nested", "delete", "deep", "duplicate", "number", "unicode", "bytes", "edit", "valid"]
        )
    )
    if shape == "random":
        return _dumps(draw(JSON))
    if shape == "field":
        base[draw(st.sampled_from([*base, "epcList", "quantityList", "x:ext", "tc:kde", "sensorElementList"]))] = draw(
            JSON
        )
    elif shape == "nested":
        target = draw(st.sampled_from(["tc:kde", "readPoint", "ilmd"]))
        base[target] = {**base.get(target, {}), draw(TEXT): draw(JSON)}
    elif shape == "delete":
        del base[draw(st.sampled_from(sorted(base)))]
    elif shape == "deep":
        depth = draw(st.integers(1, 100_000))
        inner = draw(st.sampled_from(["[", '{"a":']))
        nested = inner * depth + "1" + ("]" if inner == "[" else "}") * depth
        return _dumps(base)[:-1] + f', "x:deep": {nested}}}' if draw(st.booleans()) else nested
    elif shape == "duplicate":
        key = draw(st.sampled_from(sorted(base)))
        return "{" + json.dumps(key) + ": " + _dumps(draw(JSON)) + ", " + _dumps(base)[1:]
    elif shape == "number":
        number = draw(
            st.sampled_from(
                [
                    "NaN",
                    "Infinity",
                    "-Infinity",
                    "1e999999999",
                    "1E-999999999",
                    "9" * 5000,
                    "-" + "9" * 20,
                    "0." + "0" * 400 + "1",
                    "-0",
                    "1.0",
                    "12.50",
                    "2e3",
                ]
            )
        )
        return _dumps({**base, "quantityList": [{"epcClass": "x", "quantity": "@N@"}]}).replace('"@N@"', number)
    elif shape == "unicode":
        value = draw(st.sampled_from(['"\\ud800"', '"\\udc00x"', '"a\\u0000b"', '"\\uffff"', '"e\\u0301"']))
        key = draw(st.sampled_from(["eventID", "bizStep", "type", "eventTimeZoneOffset", "tc:product"]))
        return _dumps({**base, key: "@V@"}).replace('"@V@"', value)
    elif shape == "bytes":
        raw = _dumps(base).encode()
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at + 1 :]
    elif shape == "edit":
        return _edit_text(_dumps(base), data, st.one_of(TEXT, st.sampled_from(list('{}[]":,\\0123456789-.eE'))))
    return _dumps(base)


def _entry_bytes() -> list[bytes]:
    """Genuine entry bytes of each kind, from a tiny ledger built in memory by hand."""
    op = operator_key(0)
    body = {
        "created": 1,
        "format": 1,
        "operator": {"actor": OPERATOR_USCC, "name": ORIGIN, "public": op.public_bytes},
        "origin": ORIGIN,
    }
    genesis = encoding.encode_entry(1, 0, bytes(32), "genesis", body)
    ev = Event.from_dict(event_dict(2), check_profile=False).canonical_bytes()
    event_entry = encoding.encode_entry(1, 1, bytes(range(32)), "event", ev)
    seal = encoding.encode_entry(
        1,
        2,
        bytes(32),
        "seal",
        {"actor": PLANT_USCC, "count": 1, "first": 1, "public": op.public_bytes, "root": bytes(32), "sig": bytes(64)},
    )
    return [genesis, event_entry, seal, ev]


@st.composite
def msgpack_bytes(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["random", "value", "mutated", "prefix"]))
    if shape == "random":
        return draw(st.binary(max_size=300))
    if shape == "value":
        try:
            return encoding.encode(draw(JSON.filter(lambda v: not isinstance(v, float))))
        except TracechainError:
            return b"\xc1"
    genuine = draw(st.sampled_from(_entry_bytes()))
    if shape == "prefix":
        return genuine[: draw(st.integers(0, len(genuine)))] + draw(st.binary(max_size=8))
    out = bytearray(genuine)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["set", "insert", "delete"]))
        if op == "set":
            out[at] = draw(st.integers(0, 255))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=9))
        elif len(out) > 1:
            del out[at]
    return bytes(out)


# --- the batteries -----------------------------------------------------------------------------------------


def _ledger(workdir: Path, name: str) -> tuple[Ledger, SigningKey, SigningKey]:
    path = workdir / name
    remove_ledger(path)
    op, plant = operator_key(0), actor_key("plant.example.cn")
    led = Ledger.create(str(path), ORIGIN, op, OPERATOR_USCC)
    led.register(plant.verifier, PLANT_USCC, op)
    led.append_many([Event.from_dict(event_dict(i), check_profile=False) for i in range(5)], plant)
    return led, op, plant


def _state(led: Ledger) -> tuple[int, bytes, int, int]:
    return led.size, led.root(), len(led.keys()), len(led.checkpoints())


def run_event_json(workdir: Path, examples: int) -> Tally:
    tally = Tally("hostile input", "event JSON → validate → append")
    led, _op, plant = _ledger(workdir, "hostile-events.db")

    @_settings(examples)
    @given(event_json())
    def check(text: str | bytes) -> None:
        tally.trials += 1
        try:
            ev = Event.from_dict(parse_json(text, source="battery"))
        except TracechainError:
            tally.ok_as("rejected")
            return
        before = _state(led)
        try:
            led.append(ev, plant)
        except TracechainError:
            if _state(led) != before:
                raise WrittenOnRejectionError(f"a rejected append changed the ledger: {text!r:.200}") from None
            tally.ok_as("rejected at append")
            return
        tally.ok_as("accepted")

    try:
        return _run(tally, check)
    finally:
        led.close()


def run_msgpack(examples: int) -> Tally:
    tally = Tally("hostile input", "canonical msgpack bytes")

    @_settings(examples)
    @given(msgpack_bytes())
    def check(data: bytes) -> None:
        tally.trials += 1
        try:
            value = encoding.decode(data)
        except TracechainError:
            tally.ok_as("rejected")
        else:
            assert encoding.encode(value) == data, "decode accepted bytes that are not the canonical encoding"
            tally.ok_as("accepted (canonical)")
        for read in (
            lambda: encoding.decode_entry(data),
            lambda: Entry.from_bytes(data).to_dict(),
            lambda: Event.from_canonical(data).to_dict(),
            lambda: list(Event.from_canonical(data).item_codes()),
        ):
            with contextlib.suppress(TracechainError):
                read()

    return _run(tally, check)


def run_notes(workdir: Path, examples: int) -> Tally:
    tally = Tally("hostile input", "signed notes and checkpoints")
    led, op, _plant = _ledger(workdir, "hostile-notes.db")
    genuine = led.checkpoint(op)
    truth = parse_unverified(genuine)
    path = led.path
    verifier = op.verifier

    @_settings(examples)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        tally.trials += 1
        shape = data.draw(st.sampled_from(["chars", "lines", "random", "both"]))
        if shape == "random":
            note = data.draw(st.text(max_size=300))
        elif shape == "lines":
            note = _edit_lines(genuine, data)
        elif shape == "chars":
            note = _edit_text(genuine, data)
        else:
            note = _edit_text(_edit_lines(genuine, data), data)
        same = False
        for read in (
            lambda: parse_note(note),
            lambda: open_note(note, [verifier]),
            lambda: Checkpoint.from_text(note.split("\n\n")[0] + "\n"),
            lambda: open_checkpoint(note, [verifier], origin=ORIGIN),
            lambda: led.open_checkpoint(note),
            lambda: led.prove_against(note),
        ):
            try:
                read()
            except TracechainError:
                continue
        try:
            same = open_checkpoint(note, [verifier], origin=ORIGIN) == truth
        except TracechainError:
            same = False
        report = tracechain.verify(path, [note])  # must never raise
        if report.ok:
            assert same, f"verify accepted a held note that is not the genuine checkpoint: {note!r}"
            tally.ok_as("harmless edit accepted")
        else:
            tally.ok_as("rejected")

    try:
        return _run(tally, check)
    finally:
        led.close()


def run_verifier_keys(workdir: Path, examples: int) -> Tally:
    tally = Tally("hostile input", "verifier key strings")
    led, op, _plant = _ledger(workdir, "hostile-keys.db")
    genuine = actor_key("shipper.example.cn").verifier
    note = Checkpoint(ORIGIN, 1, bytes(32)).sign(op)
    alphabet = st.one_of(TEXT, st.sampled_from(list(string.hexdigits + "+/=") + ["+", "++", "=="]))

    @_settings(examples)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        tally.trials += 1
        text = data.draw(st.one_of(st.text(max_size=80), st.just(genuine).map(lambda g: _edit_text(g, data, alphabet))))
        try:
            vk = VerifierKey.parse(text)
        except TracechainError:
            tally.ok_as("rejected")
        else:
            assert str(vk) == text or VerifierKey.parse(str(vk)) == vk
            tally.ok_as("parsed")
        with contextlib.suppress(TracechainError):
            open_note(note, [text])
        before = _state(led)
        try:
            led.register(text, PLANT_USCC, op)
        except TracechainError:
            if _state(led) != before:
                raise WrittenOnRejectionError(f"a rejected registration changed the ledger: {text!r}") from None

    try:
        return _run(tally, check)
    finally:
        led.close()


def run_key_files(workdir: Path, examples: int) -> Tally:
    tally = Tally("hostile input", "key files and passwords")
    genuine_path = workdir / "genuine.key"
    genuine_path.unlink(missing_ok=True)
    key = SigningKey.from_seed("battery.example/key", bytes(range(32)))
    key.save(genuine_path, PASSWORD)
    genuine = genuine_path.read_text()
    target = workdir / "hostile.key"
    passwords = st.one_of(
        st.just(PASSWORD),
        st.text(max_size=30),
        st.binary(max_size=30),
        st.sampled_from(["", "\ud800", PASSWORD + "x", PASSWORD.encode()]),
    )

    @_settings(examples)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        tally.trials += 1
        shape = data.draw(st.sampled_from(["chars", "lines", "bytes", "random", "mode", "genuine"]))
        if shape == "bytes":
            raw = bytearray(genuine.encode())
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at : at + 1] = data.draw(st.binary(min_size=0, max_size=4))
            content = bytes(raw)
        elif shape == "random":
            content = data.draw(st.binary(max_size=400))
        elif shape == "lines":
            content = _edit_lines(genuine, data).encode("utf-8", "surrogatepass")
        elif shape == "chars":
            content = _edit_text(genuine, data).encode("utf-8", "surrogatepass")
        else:
            content = genuine.encode()
        mode = data.draw(st.sampled_from([0o600, 0o400, 0o640, 0o604, 0o660, 0o700])) if shape == "mode" else 0o600
        password = data.draw(passwords) if shape != "genuine" else PASSWORD
        target.unlink(missing_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, content)
        os.close(fd)
        os.chmod(target, mode)
        try:
            loaded = SigningKey.load(target, password)
        except TracechainError as e:
            text = str(e)
            quoted = str(target) + content.decode("utf-8", "replace")  # the path and file may be quoted, not secret
            if isinstance(password, str) and len(password) >= 8 and password in text and password not in quoted:
                raise AssertionError(f"an error message shows the password: {text}") from None
            tally.ok_as("refused")
            return
        assert mode & 0o077 == 0, "a key file open to group or others was accepted"
        assert password in (PASSWORD, PASSWORD.encode()), f"loaded with password {password!r} ({shape})"
        assert loaded.public_bytes == key.public_bytes, f"another key was loaded from {content!r}"
        tally.ok_as("loaded (genuine file and password)")

    return _run(tally, check)


BODY_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.binary(max_size=70),
    TEXT,
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)
BODY = st.recursive(BODY_LEAF, lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=4), max_leaves=8)


def _rechain(entries: list[bytes], at: int, kind: str, body: Any) -> list[bytes]:
    """The entries with entry ``at`` replaced and every later entry re-linked to it (no seal re-signed)."""
    out = entries[:at]
    prev = merkle.leaf_hash(out[-1]) if out else bytes(32)
    for i in range(at, len(entries)):
        version, index, _prev, old_kind, old_body = encoding.decode_entry(entries[i])
        if i == at:
            old_kind, old_body = kind, body
        out.append(encoding.encode_entry(version, index, prev, old_kind, old_body))
        prev = merkle.leaf_hash(out[-1])
    return out


def run_entries(workdir: Path, examples: int) -> Tally:
    """Entries an insider crafted (any kind, any canonical body, chain and tiles re-linked) read by `verify`."""
    tally = Tally("hostile input", "crafted ledger entries → verify and read")
    led, _op, _plant = _ledger(workdir, "hostile-entries-base.db")
    base = Path(led.path)
    led.close()
    entries = [bytes(e) for e in _entries_of(base)]
    target = workdir / "hostile-entries.db"

    @_settings(examples)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        tally.trials += 1
        at = data.draw(st.integers(0, len(entries) - 1))
        _version, _index, _prev, kind, body = encoding.decode_entry(entries[at])
        if data.draw(st.booleans()) and isinstance(body, dict) and body:
            body = dict(body)
            field = data.draw(st.sampled_from(sorted(body)))
            if data.draw(st.booleans()):
                body[field] = data.draw(BODY)
            else:
                del body[field]
        else:
            body = data.draw(BODY)
        kind = data.draw(st.sampled_from([kind, "genesis", "event", "key", "revoke", "seal", "other"]))
        try:
            crafted = _rechain(entries, at, kind, body)
        except TracechainError:
            tally.ok_as("not encodable, so not writable")
            return
        copy_ledger(base, target)
        _write_entries_and_tiles(target, crafted)
        report = tracechain.verify(target)  # must never raise
        tally.ok_as("reported" if not report.ok else "verified")
        try:
            with Ledger.open(str(target)) as forged:
                for read in (
                    lambda: [e.to_dict() for e in forged.entries()],
                    lambda: [list(e.event.item_codes()) for e in forged.entries() if e.event is not None],
                    lambda: forged.prove_inclusion(at),
                    forged.keys,
                ):
                    with contextlib.suppress(TracechainError):
                        read()
        except TracechainError:
            pass

    return _run(tally, check)


def _write_entries_and_tiles(path: Path, entries: list[bytes]) -> None:
    edge = TileEdge()
    tiles = [t for data in entries for t in edge.append(merkle.leaf_hash(data))] + edge.flush()
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute("DELETE FROM entries")
            con.execute("DELETE FROM tiles")
            con.executemany("INSERT INTO entries (idx, data) VALUES (?, ?)", enumerate(entries))
            con.executemany("INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)", tiles)
    finally:
        con.close()


HOSTILE: dict[str, Callable[[Path, int], Tally]] = {
    "entries": run_entries,
    "event JSON": run_event_json,
    "msgpack": lambda _workdir, n: run_msgpack(n),
    "notes": run_notes,
    "verifier keys": run_verifier_keys,
    "key files": run_key_files,
}
