"""A C2SP tlog-witness, its Ed25519 cosignatures (C2SP tlog-cosignature) and the k-of-n quorum check.

A witness keeps, per log origin, the last size and root it cosigned. On ``add-checkpoint`` it verifies the log's
signature, checks the client's old size against its own, verifies the consistency proof from its last size,
persists the new state, and only then cosigns. The check and the update happen under one lock (a thread lock
and an exclusive lock on a file beside the state), so two requests can never both pass the check against the
same old state: the race C2SP tlog-witness warns of cannot roll the witness back.

The state is one JSON file replaced atomically (written to a temporary file, fsynced, renamed, folder fsynced),
so a crash at any point leaves either the old state or the new one, never a mix; a cosignature is returned only
after the new state is durable.

A cosignature is a note signature line whose key ID is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and
whose signature is an 8-byte big-endian UNIX time followed by the Ed25519 signature over
``cosignature/v1\\ntime <time>\\n`` and the checkpoint text. :class:`CosignerKey` is the verifier side (its string
form is a C2SP vkey of type 0x04); :func:`require_quorum` asks k of n named witnesses to have cosigned a note.

The HTTP face is :mod:`tracechain.witness_http`; the log's side, submitting checkpoints, is
:mod:`tracechain.witness_client`. (About 420 lines: the state file, the check under its lock and the cosignature
format are the witness's one guarantee, kept in one place to be read together.)
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from tracechain import merkle
from tracechain.checkpoints import Checkpoint, open_checkpoint, parse_unverified
from tracechain.errors import KeyFileError, ProofError, QuorumError, SignatureError, WitnessError
from tracechain.keys import (
    _NAME_LINE_PREFIX,
    ED25519_TYPE,
    SigningKey,
    VerifierKey,
    _b64decode_canonical,
    _read_public_file,
    _shorten,
    key_id,
    verifier_from_file,
    verify_ed25519,
)
from tracechain.notes import NoteSignature, parse_note

__all__ = [
    "COSIGNATURE_TYPE",
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "CosignerKey",
    "Witness",
    "WitnessEndpoint",
    "cosign",
    "cosignature_message",
    "cosigner_from_file",
    "parse_logs",
    "parse_witness",
    "quorum_shortfall",
    "require_quorum",
    "verified_cosigners",
]

COSIGNATURE_TYPE = 0x04
"""The C2SP signature type byte of a timestamped Ed25519 witness cosignature."""

MAX_PROOF_LINES = 63
"""C2SP tlog-witness: a client sends at most 63 consistency proof lines."""

MAX_REQUEST_BYTES = 64 * 1024
"""An add-checkpoint body longer than this is refused unread (a checkpoint and 63 proof lines are ~4 KiB)."""

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")
_STATE_VERSION = 1


def cosignature_message(text: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosignature signs: ``cosignature/v1``, the time line, then the checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class CosignerKey:
    """A witness's cosigning public key: its name, the type-0x04 key ID and the 32-byte Ed25519 key."""

    name: str
    public_bytes: bytes

    def __post_init__(self) -> None:
        # VerifierKey checks the name and key length with the messages used everywhere else.
        VerifierKey.from_public(self.name, self.public_bytes)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_bytes, COSIGNATURE_TYPE)

    @classmethod
    def of(cls, key: SigningKey) -> Self:
        return cls(key.name, key.public_bytes)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse ``<name>+<8 hex key ID>+<base64(0x04 || public key)>``; :class:`SignatureError` if malformed."""
        if not isinstance(text, str):
            raise SignatureError(f"witness key must be a string, found {type(text).__name__}")
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise SignatureError(f"witness key must be <name>+<key id>+<key>, found {_shorten(text)}")
        name, id_hex, encoded = parts
        raw = _b64decode_canonical(encoded)
        if raw is not None and len(raw) == 33 and raw[0] == ED25519_TYPE:
            raise SignatureError(
                f"witness key {_shorten(name)}: found a verifier key (type 0x01); a witness is named by its cosigner"
                " key (type 0x04), which tracechain witness vkey prints"
            )
        if raw is None or len(raw) != 33 or raw[0] != COSIGNATURE_TYPE:
            raise SignatureError(
                f"witness key {_shorten(name)}: expected base64 of the type byte 0x04 and a 32-byte Ed25519 key,"
                f" found {_shorten(encoded)}"
            )
        key = cls(name, raw[1:])
        if id_hex != key.key_id.hex():
            raise SignatureError(
                f"witness key {_shorten(name)}: key ID {_shorten(id_hex)} does not match the name and key"
                f" (expected {key.key_id.hex()})"
            )
        return key

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_TYPE]) + self.public_bytes).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, text: str, signature: bytes) -> int | None:
        """The cosignature's timestamp if ``signature`` is this witness's cosignature of ``text``, else None."""
        if len(signature) != 72:
            return None
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp >= 1 << 63:
            return None
        if not verify_ed25519(self.public_bytes, cosignature_message(text, timestamp), signature[8:]):
            return None
        return timestamp


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness as a log submits to it: its submission prefix (``https://host/path``; ``/add-checkpoint`` is
    appended) and its cosigner key. Its text form is ``<cosigner key> <URL>``."""

    url: str
    key: CosignerKey

    def __str__(self) -> str:
        return f"{self.key} {self.url}"


def parse_witness(text: str) -> WitnessEndpoint:
    """A witness given as ``<cosigner key> <URL>`` (two fields separated by white space; the URL http or https).

    Raises :class:`WitnessError` saying what was expected and found.
    """
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 2:
        raise WitnessError(f"a witness is '<cosigner key> <URL>', found {_shorten(str(text))}")
    vkey, url = parts
    if not url[:8].lower().startswith(("http://", "https://")) or len(url) > 2000:
        raise WitnessError(f"witness {_shorten(vkey, 40)}: its URL must be http:// or https://, found {_shorten(url)}")
    try:
        return WitnessEndpoint(url, CosignerKey.parse(vkey))
    except SignatureError as e:
        raise WitnessError(f"witness at {_shorten(url)}: {e}") from e


def cosign(text: str, key: SigningKey, timestamp: int) -> str:
    """The cosignature line of ``key`` over checkpoint ``text`` at ``timestamp`` (seconds since the epoch)."""
    if not 0 <= timestamp < 1 << 63:
        raise SignatureError(f"a cosignature timestamp must be in [0, 2**63), found {timestamp}")
    signature = timestamp.to_bytes(8, "big") + key.sign(cosignature_message(text, timestamp))
    return NoteSignature(key.name, key_id(key.name, key.public_bytes, COSIGNATURE_TYPE), signature).to_line()


def verified_cosigners(note: str, witnesses: Iterable[CosignerKey | str]) -> dict[CosignerKey, int]:
    """The named witnesses whose cosignature on ``note`` verifies, each with its timestamp.

    Signature lines of other keys are ignored; a line under a named witness's name and key ID that does not
    verify raises :class:`SignatureError` (C2SP: a known key's bad signature rejects the note).
    """
    keys = [CosignerKey.parse(w) if isinstance(w, str) else w for w in witnesses]
    known = {(k.name, k.key_id): k for k in keys}
    text, signatures = parse_note(note)
    found: dict[CosignerKey, int] = {}
    for line in signatures:
        key = known.get((line.name, line.key_id))
        if key is None:
            continue
        timestamp = key.verify(text, line.signature)
        if timestamp is None:
            raise SignatureError(f"cosignature by known witness {key.name!r} ({key.key_id.hex()}) does not verify")
        found[key] = max(timestamp, found.get(key, 0))
    return found


def require_quorum(note: str, witnesses: Sequence[CosignerKey | str], k: int) -> list[CosignerKey]:
    """The witnesses among ``witnesses`` that cosigned ``note``, if at least ``k`` did; else :class:`QuorumError`.

    Only cosignatures are counted here: the log's own signature is checked by whoever opens the checkpoint.
    """
    keys = [CosignerKey.parse(w) if isinstance(w, str) else w for w in witnesses]
    if len({(w.name, w.key_id) for w in keys}) != len(keys):
        raise QuorumError("the same witness key is named twice; a quorum must count distinct witnesses")
    if not 1 <= k <= len(keys):
        raise QuorumError(f"a quorum of {k} of {len(keys)} named witnesses cannot be met; name at least {k}")
    found = verified_cosigners(note, keys)
    if len(found) < k:
        raise QuorumError(quorum_shortfall(keys, [w for w in keys if w in found], k))
    return [w for w in keys if w in found]


def quorum_shortfall(named: Sequence[CosignerKey], cosigned: Sequence[CosignerKey], k: int) -> str:
    """What a quorum lacks, in one sentence: how many of which named witnesses cosigned, how many were required,
    and who is missing ("cosigned by 1 of the 3 named witnesses (w1); 2 required; missing: w2, w3")."""
    by = f" ({', '.join(w.name for w in cosigned)})" if cosigned else ""
    missing = ", ".join(w.name for w in named if w not in cosigned)
    return f"cosigned by {len(cosigned)} of the {len(named)} named witnesses{by}; {k} required; missing: {missing}"


def cosigner_from_file(path: str | os.PathLike[str], password: Callable[[], str | bytes] | None = None) -> CosignerKey:
    """The witness cosigner key a file gives: a file holding one cosigner key string (what ``tracechain witness
    vkey`` prints; blank lines and ``#`` comments aside), or the witness's key file, from its public key line or,
    for a file without one, by loading it with ``password()``.

    Raises `KeyFileError` naming the file and saying what it found; a file holding a verifier key (type 0x01)
    rather than a cosigner key is refused with a hint, since a witness signs cosignatures (type 0x04).
    """
    where = os.fspath(path)
    data = _read_public_file(where)
    if data.startswith(_NAME_LINE_PREFIX.encode()):
        verifier = verifier_from_file(where, password)  # the key file's own public key, as for any key
        return CosignerKey(verifier.name, verifier.public_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise KeyFileError(f"{where}: not a cosigner key file (not UTF-8 text; bad byte at offset {e.start})") from e
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) != 1:
        raise KeyFileError(
            f"{where}: a cosigner key file holds one witness key (<name>+<key id>+<key>), found {len(lines)} lines"
        )
    try:
        return CosignerKey.parse(lines[0])
    except SignatureError as e:
        raise KeyFileError(f"{where}: not a cosigner key file: {e}") from e


def parse_logs(text: str, where: str = "logs file") -> dict[str, list[VerifierKey]]:
    """A witness's log list: one ``<origin> <verifier key>`` per line; ``#`` comments and blank lines skipped.

    A log may be listed more than once, one line per key (key rotation). The verifier key must be named by the
    origin, since tracechain checkpoints are signed by a key so named. Raises :class:`WitnessError` by line.
    """
    logs: dict[str, list[VerifierKey]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise WitnessError(f"{where} line {number}: expected '<origin> <verifier key>', found {_shorten(line)}")
        origin, vkey = parts
        try:
            verifier = VerifierKey.parse(vkey)
        except SignatureError as e:
            raise WitnessError(f"{where} line {number}: {e}") from e
        if verifier.name != origin:
            raise WitnessError(
                f"{where} line {number}: the key is named {verifier.name!r}, not by the origin {origin!r}"
            )
        logs.setdefault(origin, []).append(verifier)
    return logs


@dataclass(frozen=True)
class _Request:
    old_size: int
    proof: list[bytes]
    note: str


def _parse_request(body: bytes) -> _Request:
    """An add-checkpoint body: ``old <n>``, proof lines, a blank line, then the checkpoint note (status 400)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessError(f"request body is longer than {MAX_REQUEST_BYTES} bytes", 400)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WitnessError(f"request body is not UTF-8 (bad byte at offset {e.start})", 400) from e
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise WitnessError("request body has no blank line between the proof and the checkpoint", 400)
    lines = head.split("\n")
    match = _OLD_LINE.fullmatch(lines[0])
    if match is None:
        raise WitnessError(f"request line 1: expected 'old <size>' in decimal, found {_shorten(lines[0])}", 400)
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError(f"request has {len(lines) - 1} proof lines; at most {MAX_PROOF_LINES} are allowed", 400)
    proof: list[bytes] = []
    for number, line in enumerate(lines[1:], start=2):
        value = _b64decode_canonical(line)
        if value is None or len(value) != 32:
            raise WitnessError(
                f"request line {number}: expected the base64 of a 32-byte hash, found {_shorten(line)}", 400
            )
        proof.append(value)
    return _Request(int(match.group(1)), proof, note)


class _StateFile:
    """The witness's state: per origin the last cosigned size, root and checkpoint, in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        import fcntl  # POSIX; a witness runs on a server

        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise WitnessError(f"cannot open the witness lock file {self.lock_path}: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise WitnessError(f"cannot read the witness state {self.path}: {e.strerror}") from e
        try:
            doc = json.loads(raw)
            if doc.get("version") != _STATE_VERSION or not isinstance(doc.get("logs"), dict):
                raise ValueError("not a tracechain witness state of version 1")
            logs: dict[str, dict[str, Any]] = doc["logs"]
            for origin, entry in logs.items():
                root = base64.b64decode(entry["root"], validate=True)
                if not isinstance(entry["size"], int) or entry["size"] < 0 or len(root) != 32:
                    raise ValueError(f"bad entry for {origin!r}")
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise WitnessError(f"the witness state {self.path} is damaged ({e}); restore it from a backup") from e
        return logs

    def save(self, logs: Mapping[str, Mapping[str, Any]]) -> None:
        data = json.dumps({"version": _STATE_VERSION, "logs": logs}, indent=1, sort_keys=True).encode()
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise WitnessError(f"cannot save the witness state {self.path}: {e.strerror}") from e


class Witness:
    """A witness named by its key, for the logs of ``logs`` (origin → verifier keys), keeping its state at ``state``.

    Safe for many threads and, through the lock file beside the state, for several processes on one state.
    """

    def __init__(
        self,
        key: SigningKey,
        logs: Mapping[str, Sequence[VerifierKey]],
        state: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.cosigner = CosignerKey.of(key)
        self.logs = {origin: list(keys) for origin, keys in logs.items()}
        self._state = _StateFile(Path(state))
        self._thread_lock = threading.Lock()
        self._clock = clock
        self._state.load()  # a damaged state refuses to start, not at the first request

    def size_of(self, origin: str) -> int:
        """The size of the last checkpoint of ``origin`` this witness cosigned (0 if none)."""
        entry = self._state.load().get(origin)
        return int(entry["size"]) if entry else 0

    def latest(self, origin: str) -> str | None:
        """The last checkpoint of ``origin`` this witness cosigned, as the log signed it (None if none)."""
        entry = self._state.load().get(origin)
        return str(entry["checkpoint"]) if entry else None

    def add_checkpoint(self, body: bytes) -> str:
        """Handle one add-checkpoint request body; returns the cosignature line(s) to answer with.

        Steps (C2SP tlog-witness): parse the request (400); the origin must be a known log (404); a known log key
        must have signed it (403); the old size must not exceed the checkpoint's (400). Then, under the lock: the
        old size must equal the witness's size for the log (409, with that size); at equal sizes the roots must
        be equal (409); the consistency proof from the witness's size and root must verify (422). The new state
        is saved before the cosignature is made. Refusals raise :class:`WitnessError` carrying the status.
        """
        request = _parse_request(body)
        try:
            claimed = parse_unverified(request.note)
        except SignatureError as e:
            raise WitnessError(f"the checkpoint is malformed: {e}", 400) from e
        keys = self.logs.get(claimed.origin)
        if keys is None:
            raise WitnessError(f"this witness does not witness the log {claimed.origin!r}", 404)
        try:
            checkpoint = open_checkpoint(request.note, keys, origin=claimed.origin)
        except SignatureError as e:
            raise WitnessError(f"the checkpoint is not signed by a key of log {claimed.origin!r}: {e}", 403) from e
        if request.old_size > checkpoint.size:
            raise WitnessError(f"old size {request.old_size} exceeds the checkpoint's size {checkpoint.size}", 400)
        with self._thread_lock, self._state.locked():
            logs = self._state.load()
            self._check(checkpoint, request, logs.get(checkpoint.origin))
            logs[checkpoint.origin] = {
                "size": checkpoint.size,
                "root": base64.b64encode(checkpoint.root).decode("ascii"),
                "checkpoint": request.note,
            }
            self._state.save(logs)
            return cosign(checkpoint.to_text(), self.key, int(self._clock()))

    @staticmethod
    def _check(checkpoint: Checkpoint, request: _Request, entry: Mapping[str, Any] | None) -> None:
        size = int(entry["size"]) if entry else 0
        root = base64.b64decode(entry["root"]) if entry else merkle.EMPTY_ROOT
        if request.old_size != size:
            raise WitnessError(
                f"old size {request.old_size} is not the size this witness last cosigned for"
                f" {checkpoint.origin!r} ({size})",
                409,
                size,
            )
        if checkpoint.size == size and checkpoint.root != root:
            raise WitnessError(
                f"checkpoint of size {size} has root {checkpoint.root.hex()}, but this witness cosigned root"
                f" {root.hex()} at that size: the log has forked",
                409,
                size,
            )
        try:
            merkle.verify_consistency(size, checkpoint.size, root, checkpoint.root, request.proof)
        except ProofError as e:
            raise WitnessError(f"the consistency proof from size {size} does not verify: {e}", 422) from e
