"""Checking a proof one was handed against a checkpoint one holds, without the ledger.

A regulator or a customer holds a checkpoint (the operator's signed statement of the ledger's size and root) and
the operator's verifier key. Given the JSON that ``tracechain prove --json`` writes, `check_proof`:

1. reads the proof document: one inclusion proof, the inclusion proofs of an item (``{"code", "proofs"}``) or
   one consistency proof (`ValidationError` naming the field that is wrong);
2. opens each checkpoint: with verifier keys, its signature must be by a key named by its origin (C2SP); without
   any, it is only read, and the result says its signature was not checked;
3. requires every proof to be about a checkpoint held: an inclusion proof of the checkpoint's size and root, a
   consistency proof with the checkpoint at one of its ends (`ProofError` saying which proof to ask for instead);
4. recomputes each proof's root from its path (RFC 9162 §2.1.3.2 and §2.1.4.2; `ProofError` on a mismatch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tracechain.checkpoints import Checkpoint, open_checkpoint, parse_unverified
from tracechain.errors import ProofError, ValidationError
from tracechain.keys import VerifierKey
from tracechain.notes import open_note_with_signers
from tracechain.proofs import ConsistencyProof, InclusionProof

__all__ = ["CheckedProof", "check_proof", "read_proof"]

Proof = InclusionProof | ConsistencyProof


@dataclass(frozen=True, slots=True)
class CheckedProof:
    """What was checked: the proofs, the checkpoints they were checked against, and the keys that signed those
    checkpoints (empty when no verifier key was given: then nothing vouches that the operator signed them)."""

    kind: str  # "inclusion" or "consistency"
    proofs: tuple[Proof, ...]
    checkpoints: tuple[Checkpoint, ...]
    signed_by: tuple[VerifierKey, ...]
    code: str | None = None

    @property
    def signatures_checked(self) -> bool:
        return bool(self.signed_by)


def read_proof(document: Any) -> tuple[str, list[Proof], str | None]:
    """(kind, proofs, item code) of a proof document as ``tracechain prove --json`` writes it."""
    if isinstance(document, dict) and "proofs" in document:
        proofs = document["proofs"]
        code = document.get("code")
        if not isinstance(proofs, list) or not proofs:
            raise ValidationError("$.proofs: expected a non-empty list of inclusion proofs")
        if code is not None and not isinstance(code, str):
            raise ValidationError(f"$.code: expected the item code as text, found {type(code).__name__}")
        return "inclusion", [InclusionProof.from_dict(p, f"$.proofs[{i}]") for i, p in enumerate(proofs)], code
    if isinstance(document, dict) and "old_size" in document:
        return "consistency", [ConsistencyProof.from_dict(document)], None
    return "inclusion", [InclusionProof.from_dict(document)], None


def check_proof(document: Any, notes: Sequence[str], verifiers: Iterable[str | VerifierKey] = ()) -> CheckedProof:
    """Check a proof document against held checkpoints (the steps are in the module docstring).

    Raises `ValidationError` for a document that is not a proof, `SignatureError`/`CheckpointError` for a checkpoint
    whose signature does not verify, and `ProofError` for a proof that is not about the checkpoints or does not
    verify; returns what was checked.
    """
    kind, proofs, code = read_proof(document)
    if not notes:
        raise ValidationError("a proof is checked against a checkpoint; none was given")
    keys = list(verifiers)
    signed_by: list[VerifierKey] = []
    checkpoints = []
    for note in notes:
        if keys:
            checkpoints.append(open_checkpoint(note, keys))
            signed_by += open_note_with_signers(note, keys)[1]
        else:
            checkpoints.append(parse_unverified(note))
    for position, proof in enumerate(proofs):
        for cp in checkpoints:
            _about(proof, cp, position)
        proof.verify()
    named = [k for k in dict.fromkeys(signed_by) if any(k.name == cp.origin for cp in checkpoints)]
    return CheckedProof(kind, tuple(proofs), tuple(checkpoints), tuple(named), code)


def _about(proof: Proof, cp: Checkpoint, position: int) -> None:
    """Refuse a proof that is not about the checkpoint, saying which proof to ask for instead."""
    if isinstance(proof, InclusionProof):
        if proof.size != cp.size:
            raise ProofError(
                f"proof {position} is of entry {proof.index} in a tree of {proof.size} entries, but the checkpoint"
                f" is of {cp.size}; ask for the proof at the checkpoint's size: tracechain prove LEDGER --index"
                f" {proof.index} --size {cp.size} --json"
            )
        if proof.root != cp.root:
            raise ProofError(
                f"proof {position} leads to root {proof.root.hex()}, but the checkpoint of {cp.size} entries has root"
                f" {cp.root.hex()}: the ledger the proof came from is not the one the checkpoint vouches for"
            )
        return
    ends = {(proof.old_size, proof.old_root), (proof.size, proof.root)}
    if (cp.size, cp.root) in ends:
        return
    sizes = {proof.old_size, proof.size}
    if cp.size in sizes:
        raise ProofError(
            f"the proof's tree of {cp.size} entries has another root than the checkpoint's ({cp.root.hex()}):"
            " the ledger was rewritten, or the proof is of another ledger"
        )
    raise ProofError(
        f"the proof is from {proof.old_size} to {proof.size} entries, but the checkpoint is of {cp.size}; ask for a"
        f" proof from it: tracechain prove LEDGER --consistency {cp.size} --json"
    )
