"""The stateful model: verify passes exactly when nothing was tampered with; sizes never shrink; checkpoints agree."""

from __future__ import annotations

from pathlib import Path

from .model import run_model
from .support import examples


def test_random_operation_sequences_keep_the_ledger_consistent_with_its_model(tmp_path: Path) -> None:
    tally = run_model(tmp_path, examples(40), steps=30)
    tally.assert_ok()
    assert tally.outcomes["clean runs"] > 0 and tally.outcomes["tampered runs"] > 0
