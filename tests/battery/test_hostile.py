"""Hostile input against every parser: only tracechain's own errors come out, and nothing is written on rejection.

Hypothesis runs a few hundred examples per parser here; TRACECHAIN_EXAMPLES=N or TRACECHAIN_LONG=1 (10,000) raise it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tracechain

from .hostile import HOSTILE, _ledger, _rechain, _write_entries_and_tiles
from .support import entries_of, examples


@pytest.mark.parametrize("parser", sorted(HOSTILE))
def test_only_tracechain_errors_escape_a_parser_and_rejections_write_nothing(parser: str, tmp_path: Path) -> None:
    tally = HOSTILE[parser](tmp_path, examples(300))
    tally.assert_ok()
    assert tally.trials >= examples(300)


@pytest.mark.parametrize(
    ("at", "kind", "body", "expected"),
    [
        (0, "genesis", None, "malformed genesis entry"),
        (0, "genesis", {"operator": {"public": "not bytes", "name": "x", "actor": "y"}}, "32 bytes"),
        (2, "seal", {"first": "0", "count": 1, "public": b"", "root": b"", "sig": b"", "actor": ""}, "malformed seal"),
    ],
)
def test_an_entry_crafted_with_a_body_of_the_wrong_shape_is_reported_not_raised(
    tmp_path: Path, at: int, kind: str, body: object, expected: str
) -> None:
    """Found by the battery: verify raised AttributeError or TypeError on such entries."""
    led, _op, _plant = _ledger(tmp_path, "base.db")
    led.close()
    crafted = _rechain([bytes(e) for e in entries_of(Path(led.path))], at, kind, body)
    _write_entries_and_tiles(Path(led.path), crafted)
    report = tracechain.verify(led.path)
    assert not report.ok
    assert any(p.index == at and expected in p.message for p in report.problems), report.problems
