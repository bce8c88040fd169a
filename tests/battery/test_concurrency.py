"""Several processes append to one ledger at once while others verify it."""

from __future__ import annotations

from pathlib import Path

from .crash import run_concurrency


def test_concurrent_writers_lose_nothing_and_readers_always_see_a_verified_prefix(tmp_path: Path) -> None:
    appends, reads = run_concurrency(tmp_path, 2, writers=3, readers=1, batches=25)
    appends.assert_ok()
    reads.assert_ok()
    assert reads.outcomes["consistent prefix"] > 0
