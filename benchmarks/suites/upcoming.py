"""Lines for capabilities still to come: trace, audit. Each is pending until its API exists (QR labels moved to
``labels.py`` when ``tracechain.qr`` landed).

They are registered like every other suite, so when a capability lands its line is measured by filling in the
tracechain side here; the peers that can already be measured are measured now. Expected entry points:
``Ledger.trace(code)`` and ``tracechain.audit(path)``.
"""

from __future__ import annotations

import random

from benchmarks.harness import Line, Measure, Peer, Run, Stage, interleaved, size_suite
from tracechain import Ledger


@size_suite("trace", "trace an item through the ledger")
def trace_suite(run: Run, stage: Stage) -> None:
    if not hasattr(Ledger, "trace"):
        if "trace.pending" not in run.state:
            run.state["trace.pending"] = True
            run.pending(
                "trace.item",
                "upcoming",
                "trace an item (all events naming it, with proofs)",
                "Ledger.trace(code) does not exist yet; Ledger.entries(code) over the item index is the baseline",
            )
        return
    rng = random.Random(stage.size)
    with Ledger.open(str(stage.path)) as ledger:
        codes = [c for _, c in zip(range(50), _codes(ledger, rng), strict=False)]
        times = interleaved(
            {
                "trace": lambda r: [ledger.trace(c) for c in codes],  # type: ignore[attr-defined]
                "entries": lambda r: [list(ledger.entries(c)) for c in codes],
            },
            3,
        )
    line = Line(
        "trace.item",
        "upcoming",
        "trace an item",
        size=stage.size,
        tracechain=Measure.of("Ledger.trace", times["trace"], len(codes), "item"),
        peers=[
            Peer(
                "reference",
                Measure.of("Ledger.entries(code): index lookup and decode", times["entries"], len(codes), "item"),
            )
        ],
    )
    run.record(line)


def _codes(ledger: Ledger, rng: random.Random) -> list[str]:
    picked = []
    for _ in range(50):
        entry = ledger.entry(rng.randrange(4, ledger.size - 1))
        event = entry.event
        if event is not None:
            picked.extend(list(event.item_codes())[:1])
    return picked


@size_suite("audit", "audit of the whole ledger")
def audit_suite(run: Run, stage: Stage) -> None:
    import tracechain

    audit = getattr(tracechain, "audit", None)
    if audit is None:
        if "audit.pending" not in run.state:
            run.state["audit.pending"] = True
            run.pending(
                "audit.ledger", "upcoming", "audit of the whole ledger", "tracechain.audit() does not exist yet"
            )
        return
    times = interleaved(
        {"audit": lambda r: audit(stage.path), "verify": lambda r: tracechain.verify(stage.path)},
        run.plan.verify_repeats,
    )
    line = Line(
        "audit.ledger",
        "upcoming",
        "audit of the whole ledger",
        size=stage.size,
        tracechain=Measure.of("tracechain.audit", times["audit"], stage.size, "entry"),
        peers=[Peer("reference", Measure.of("tracechain.verify", times["verify"], stage.size, "entry"))],
    )
    run.record(line)
