"""Every proof a ledger serves for trees up to 64 entries verifies; every mutation of one is rejected."""

from __future__ import annotations

from pathlib import Path

from .proofs import run_proofs


def test_every_proof_up_to_64_leaves_verifies_and_every_mutation_is_rejected(tmp_path: Path) -> None:
    genuine, inclusion, consistency = run_proofs(tmp_path, 64)
    for tally in (genuine, inclusion, consistency):
        tally.assert_ok()
    assert genuine.outcomes["genuine proof verifies"] == 64 * 65 // 2 + 65 * 66 // 2 - 1
    assert inclusion.trials > 50_000 and consistency.trials > 50_000
