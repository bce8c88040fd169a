"""Lines for capabilities still to come: QR labels. Each is pending until its API exists (trace and audit are
measured in `suites.tracing`).

They are registered like every other suite, so when a capability lands its line is measured by filling in the
tracechain side here; the peers that can already be measured are measured now. Expected entry point:
``tracechain.qr`` (a label for an event's item).
"""

from __future__ import annotations

import importlib.util

from benchmarks.harness import Line, Measure, Peer, Run, interleaved, suite


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
