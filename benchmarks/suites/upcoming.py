"""Lines for capabilities still to come: QR labels, trace, audit. Each is pending until its API exists.

They are registered like every other suite, so when a capability lands its line is measured by filling in the
tracechain side here; the peers that can already be measured are measured now. Expected entry points:
``tracechain.qr`` (a label for an event's item), ``Ledger.trace(code)`` and ``tracechain.audit(path)``.
"""

from __future__ import annotations

import importlib.util
import random

from benchmarks.harness import Line, Measure, Peer, Run, Stage, interleaved, size_suite, suite
from tracechain import Ledger


@suite("qr", "QR labels vs. the qrcode library's defaults")
def qr_suite(run: Run) -> None:
    urls = [f"https://id.gs1.org/01/06903215123455/21/A{i:010d}" for i in range(40)]
    peers: list[Peer] = []
    try:
        import qrcode
        import qrcode.image.svg

        def matrix(r: int) -> None:
            for url in urls:
                code = qrcode.QRCode()  # the library's defaults: version fitted, error correction M, border 4
                code.add_data(url)
                code.make(fit=True)
                code.get_matrix()

        def svg(r: int) -> None:
            for url in urls:
                qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage).to_string()

        times = interleaved({"matrix": matrix, "svg": svg}, 3)
        peers = [
            Peer(
                "alternative",
                Measure.of("qrcode.QRCode() defaults: fit and build the matrix", times["matrix"], len(urls), "label"),
            ),
            Peer(
                "alternative",
                Measure.of("qrcode.make(..., SvgPathImage) to SVG text", times["svg"], len(urls), "label"),
            ),
        ]
    except ImportError:
        pass
    if importlib.util.find_spec("tracechain.qr") is None:
        run.pending(
            "qr.label",
            "upcoming",
            "QR label for an item's Digital Link",
            "tracechain.qr does not exist yet (peers measured; Pillow is not installed, so PNG output is not compared)",
            peers,
        )
        return
    line = Line("qr.label", "upcoming", "QR label for an item's Digital Link", peers=peers)
    line.notes.append("tracechain.qr exists: add its call here to measure tracechain's side")
    line.status = "pending"
    run.record(line)


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
