"""The log's side of C2SP tlog-witness: submit a checkpoint to witnesses, collect and check their cosignatures.

:func:`collect_cosignatures` posts a signed checkpoint with a consistency proof to each witness's
``add-checkpoint`` (HTTP through :class:`tracechain.http_client.HttpClient`); on a 409 it learns the witness's size
and retries once with a proof from that size; it keeps only cosignature lines that verify under the witness key it
was given (C2SP: cosignatures from other keys are ignored), and returns the checkpoint with those lines appended.
:func:`witness_checkpoint` is the whole job for a ledger: sign a checkpoint, have it cosigned, store it cosigned.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tracechain.checkpoints import parse_unverified
from tracechain.errors import FetchError, SignatureError, WitnessError
from tracechain.http_client import HttpAnswer, HttpClient
from tracechain.keys import SigningKey
from tracechain.ledger import Ledger
from tracechain.notes import parse_note
from tracechain.witness import CosignerKey, WitnessEndpoint, verified_cosigners

__all__ = ["CosignOutcome", "CosignResult", "WitnessEndpoint", "collect_cosignatures", "witness_checkpoint"]

SIZE_CONTENT_TYPE = "text/x.tlog.size"
_ANSWER_LIMIT = 64 * 1024  # a witness answers with a few signature lines, a size, or a one-line reason


@dataclass(frozen=True)
class CosignOutcome:
    """What one witness answered: its verified cosignature line(s), or why there are none."""

    witness: WitnessEndpoint
    lines: str = ""
    error: str = ""
    size: int | None = None  # the witness's size after the exchange, when known


@dataclass(frozen=True)
class CosignResult:
    """The checkpoint with every verified cosignature appended, and each witness's outcome."""

    note: str
    outcomes: tuple[CosignOutcome, ...]

    @property
    def cosigners(self) -> list[CosignerKey]:
        return [o.witness.key for o in self.outcomes if o.lines]


def _body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = [f"old {old_size}"] + [base64.b64encode(h).decode("ascii") for h in proof]
    return ("\n".join(lines) + "\n\n" + note).encode("utf-8")


def _post(client: HttpClient, endpoint: WitnessEndpoint, body: bytes) -> HttpAnswer:
    url = endpoint.url.rstrip("/") + "/add-checkpoint"
    try:
        return client.post(url, body, content_type="text/plain; charset=utf-8", limit=_ANSWER_LIMIT)
    except FetchError as e:
        raise WitnessError(f"witness {endpoint.key.name} at {url} could not be reached: {e}") from e


def _conflict_size(response: HttpAnswer) -> int | None:
    if response.media_type != SIZE_CONTENT_TYPE:
        return None
    text = response.text
    if not text.endswith("\n") or not text[:-1].isdigit() or len(text) > 21:
        return None
    return int(text[:-1])


def _submit(
    client: HttpClient,
    endpoint: WitnessEndpoint,
    note: str,
    size: int,
    prove: Callable[[int], Sequence[bytes]],
    old: int,
) -> CosignOutcome:
    response = _post(client, endpoint, _body(old, prove(old) if old else [], note))
    if response.status == 409:
        theirs = _conflict_size(response)
        if theirs is None or theirs == old:
            return CosignOutcome(endpoint, error=f"conflict: {response.text.strip()[:200]}", size=theirs)
        if theirs > size:
            return CosignOutcome(
                endpoint, error=f"the witness has cosigned size {theirs}, beyond this checkpoint's {size}", size=theirs
            )
        # The witness is at another size of this log: prove consistency from there, once.
        response = _post(client, endpoint, _body(theirs, prove(theirs) if theirs else [], note))
        if response.status == 409:
            return CosignOutcome(
                endpoint, error="conflict again after retrying from the witness's size", size=_conflict_size(response)
            )
    if response.status != 200:
        return CosignOutcome(endpoint, error=f"HTTP {response.status}: {response.text.strip()[:200]}")
    try:
        lines = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return CosignOutcome(endpoint, error="the witness answered with bytes that are not UTF-8")
    try:
        _text, signatures = parse_note(note + lines)
        found = verified_cosigners(note + lines, [endpoint.key])
    except SignatureError as e:
        return CosignOutcome(endpoint, error=f"the witness answered with no valid cosignature: {e}")
    if endpoint.key not in found:
        return CosignOutcome(endpoint, error="the witness's answer holds no cosignature by its key")
    own = "".join(
        s.to_line()
        for s in signatures[len(parse_note(note)[1]) :]
        if (s.name, s.key_id) == (endpoint.key.name, endpoint.key.key_id)
    )
    return CosignOutcome(endpoint, lines=own, size=size)


def collect_cosignatures(
    note: str,
    witnesses: Sequence[WitnessEndpoint],
    prove: Callable[[int], Sequence[bytes]],
    *,
    known_sizes: Mapping[str, int] | None = None,
    timeout: float = 10.0,
    client: HttpClient | None = None,
) -> CosignResult:
    """Submit the signed checkpoint ``note`` to each witness and return it cosigned by those that agreed.

    ``prove(old_size)`` must return the consistency proof from ``old_size`` to the checkpoint's size (for a
    ledger: ``lambda m: ledger.prove_consistency(m, size).path``). ``known_sizes`` maps a witness URL to the size
    it last cosigned, if the log remembers it; otherwise the first request says ``old 0`` and, as C2SP suggests,
    the 409 answer tells the witness's size. Witnesses that refuse or cannot be reached are reported in
    ``outcomes``, never raised; the note is returned with the lines of every witness that cosigned. ``client``
    is an HTTP client to use instead of a new one with ``timeout``.
    """
    size = parse_unverified(note).size
    outcomes: list[CosignOutcome] = []
    http = HttpClient(timeout=timeout) if client is None else client
    try:
        for endpoint in witnesses:
            old = (known_sizes or {}).get(endpoint.url, 0)
            try:
                outcomes.append(_submit(http, endpoint, note, size, prove, old))
            except WitnessError as e:
                outcomes.append(CosignOutcome(endpoint, error=str(e)))
    finally:
        if client is None:
            http.close()
    cosigned = note + "".join(o.lines for o in outcomes)
    parse_note(cosigned)  # every line was checked; this bounds the count and size once more
    return CosignResult(cosigned, tuple(outcomes))


def witness_checkpoint(
    ledger: Ledger,
    key: SigningKey,
    witnesses: Sequence[WitnessEndpoint] | None = None,
    *,
    timeout: float = 10.0,
    client: HttpClient | None = None,
) -> CosignResult:
    """Sign a checkpoint of the whole ledger, have ``witnesses`` cosign it, and store it with their cosignatures.

    ``witnesses`` defaults to the ledger's own list (`Ledger.witnesses`). Witnesses whose verified cosignature the
    stored checkpoint already carries (an earlier run at the same size) are not asked again. Returns the checkpoint
    as stored and each witness's outcome; a witness that refused or could not be reached leaves the checkpoint
    stored without its cosignature, and running this again retries it.
    """
    chosen = ledger.witnesses() if witnesses is None else list(witnesses)
    note = ledger.checkpoint(key)
    if not chosen:
        return CosignResult(note, ())
    size = parse_unverified(note).size
    present = verified_cosigners(note, [w.key for w in chosen])
    ask = [w for w in chosen if w.key not in present]
    result = collect_cosignatures(
        note, ask, lambda old: ledger.prove_consistency(old, size).path, timeout=timeout, client=client
    )
    stored = ledger.add_cosignatures(result.note, [w.key for w in chosen]) if result.cosigners else note
    already = tuple(CosignOutcome(w, lines=_line_of(note, w.key), size=size) for w in chosen if w.key in present)
    order = {w: i for i, w in enumerate(chosen)}
    outcomes = sorted(already + result.outcomes, key=lambda o: order[o.witness])
    return CosignResult(stored, tuple(outcomes))


def _line_of(note: str, key: CosignerKey) -> str:
    return "".join(s.to_line() for s in parse_note(note)[1] if (s.name, s.key_id) == (key.name, key.key_id))
