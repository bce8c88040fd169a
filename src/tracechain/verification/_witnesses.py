"""Verification step: the witness policy — k of n named witnesses must have cosigned the checkpoints that vouch
for the log.

The checkpoints that must carry the quorum are the newest one the log holds (stored in a ledger, or published),
which vouches for every entry up to its size, and every checkpoint the verifier holds. An older checkpoint stored
in a ledger need not carry it: the history step checks it against the same entries as the newest, so a witnessed
newest checkpoint the entries agree with covers it (a ledger that took witnesses on late still passes). A
checkpoint without its quorum is a problem, never a silent pass; so is a log with no checkpoint at all. Only the
cosignatures are checked here: the log's own signature on each checkpoint is the history step's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracechain.checkpoints import parse_unverified
from tracechain.errors import QuorumError, SignatureError, TracechainError
from tracechain.report import Report
from tracechain.witness import CosignerKey, require_quorum

__all__ = ["WitnessPolicy", "check_quorum"]


@dataclass(frozen=True)
class WitnessPolicy:
    """``quorum`` of the named ``witnesses`` must have cosigned; made by `of`, which checks it can be met."""

    witnesses: tuple[CosignerKey, ...]
    quorum: int

    @classmethod
    def of(cls, witnesses: Sequence[CosignerKey | str], quorum: int | None) -> WitnessPolicy | None:
        """The policy for ``witnesses`` (cosigner keys or their strings) and ``quorum`` (default: all of them);
        None when no witness is named. Raises `QuorumError` for a quorum that cannot be met or a key named twice,
        `SignatureError` for a malformed key."""
        if isinstance(witnesses, str):
            raise QuorumError("witnesses must be a collection of cosigner keys, found a single string")
        keys = tuple(CosignerKey.parse(w) if isinstance(w, str) else w for w in witnesses)
        if not keys:
            if quorum is not None:
                raise QuorumError(f"a quorum of {quorum} needs the witnesses it counts to be named")
            return None
        if len({(k.name, k.key_id) for k in keys}) != len(keys):
            raise QuorumError("the same witness key is named twice; a quorum must count distinct witnesses")
        k = len(keys) if quorum is None else quorum
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(keys):
            raise QuorumError(f"a quorum must be from 1 to the {len(keys)} witnesses named, found {quorum!r}")
        return cls(keys, k)

    def __str__(self) -> str:
        return f"{self.quorum} of {len(self.witnesses)} named witnesses"


def check_quorum(report: Report, policy: WitnessPolicy, stored: list[tuple[int, str]], held: list[str]) -> None:
    """Report each checkpoint that must carry the quorum and does not (see the module docstring)."""
    targets: list[tuple[str, str]] = []
    if stored:
        targets.append(("the newest stored", stored[-1][1]))
    else:
        report.add(None, f"the log holds no checkpoint, so nothing carries the cosignatures of {policy}")
    targets += [("a held", note) for note in held]
    for source, note in targets:
        try:
            size = parse_unverified(note).size
        except TracechainError:
            continue  # malformed: the history step reports it
        try:
            require_quorum(note, policy.witnesses, policy.quorum)
        except QuorumError as e:
            report.add(None, f"{source} checkpoint (size {size}) lacks its witness quorum ({policy}): {e}", note)
        except SignatureError as e:
            report.add(None, f"{source} checkpoint (size {size}) carries a witness cosignature that fails: {e}", note)
