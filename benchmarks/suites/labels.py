"""QR label lines: one signed label's image against the qrcode library's default, and a whole lot on all cores.

The peer is what a producer would otherwise write, ``qrcode.make(payload).save(file)`` (version fitted, error
correction M, mask searched, Pillow PNG), given the same signed payloads tracechain prints (about 173 bytes: a
version-9 symbol). tracechain's side is ``tracechain.qr.render``: zxing-cpp's matrix, the caption (product, lot,
serial) and its own 1-bit PNG writer; the caption is extra work the peer does not do. The lot line renders a lot
on every core through ``issuing``'s path (``qr.render_files``) against the same lot on one process.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

from benchmarks.harness import Line, Measure, Peer, Run, Target, interleaved, median_of, suite
from tracechain import labels, qr
from tracechain.issuing import caption
from tracechain.keys import SigningKey

GTIN = "6903215123455"
LOT = "NL250301A"
RESOLVER = "qr.example.cn"


def _payloads(n: int) -> list[str]:
    key = SigningKey.from_seed("brand.example.cn", bytes(32))
    return [
        labels.gs1_payload(GTIN, labels.new_serial(), key, lot=LOT, expiry=date(2027, 2, 28), domain=RESOLVER)
        for _ in range(n)
    ]


def _caption(payload: str) -> tuple[str, ...]:
    serial = labels.parse_label(payload).serial or ""
    return caption("Nanling formula 800g", "0" + GTIN, LOT, serial)


@suite("qr", "QR labels: signed label images vs. the qrcode library's default; a lot on all cores")
def qr_suite(run: Run) -> None:
    try:
        import qrcode  # noqa: F401  (the peer; a dev dependency)
    except ImportError:
        run.pending("qr.label", "labels", "one signed label as PNG", "the qrcode library (dev extra) is not installed")
        return
    label_lines(run)
    lot_line(run)


def label_lines(run: Run) -> None:
    import qrcode as qrlib
    import qrcode.image.svg

    payloads = _payloads(20 if run.plan.quick else 40)
    captions = [_caption(p) for p in payloads]
    version = qr.encode(payloads[0]).version
    run.log(f"QR labels: {len(payloads)} signed payloads of {len(payloads[0])} bytes (version {version} at level M)")

    def ours_png(r: int) -> None:
        for p, c in zip(payloads, captions, strict=True):
            qr.render(p, c)

    def theirs_png(r: int) -> None:
        for p in payloads:
            qrlib.make(p).save(io.BytesIO())

    def ours_svg(r: int) -> None:
        for p, c in zip(payloads, captions, strict=True):
            qr.render(p, c, fmt="svg")

    def theirs_svg(r: int) -> None:
        for p in payloads:
            qrlib.make(p, image_factory=qrcode.image.svg.SvgPathImage).to_string()

    rounds = 3 if run.plan.quick else 5
    times = interleaved(
        {"ours_png": ours_png, "theirs_png": theirs_png, "ours_svg": ours_svg, "theirs_svg": theirs_svg}, rounds
    )
    n = len(payloads)
    for fmt, title in (("png", "PNG"), ("svg", "SVG")):
        peer = Measure.of(
            f"qrcode.make(payload){'.save(file)' if fmt == 'png' else ' with SvgPathImage, to_string()'}",
            times[f"theirs_{fmt}"],
            n,
            "label",
        )
        line = Line(
            f"qr.label.{fmt}",
            "labels",
            f"one signed label as {title} (version {version}-M, caption under the code)",
            tracechain=Measure.of(f"tracechain.qr.render(..., fmt={fmt!r})", times[f"ours_{fmt}"], n, "label"),
            peers=[Peer("alternative", peer)],
            notes=["same payloads on both sides; tracechain also draws the product, lot and serial under the code"],
        )
        if fmt == "png":
            line.targets = [Target("≥ 5× the qrcode library's default", line.ratio_of(peer), 5.0, peer=peer.label)]
        run.record(line, lambda fmt=fmt: [qr.render(p, c, fmt=fmt) for p, c in zip(payloads, captions, strict=True)])


def lot_line(run: Run) -> None:
    count = 1000 if run.plan.quick else 10_000
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    payloads = _payloads(count)
    jobs = [qr.RenderJob(f"{i:05d}.png", p, _caption(p)) for i, p in enumerate(payloads)]
    run.log(f"QR lot: {count:,} PNG labels on {cores} processes and on one")
    scratch = Path(tempfile.mkdtemp(prefix="qr-lot-", dir=run.workdir))

    def render(workers: int) -> None:
        folder = scratch / f"w{workers}"
        folder.mkdir()
        try:
            qr.render_files(jobs, folder, workers=workers)
        finally:
            shutil.rmtree(folder)

    all_cores = median_of(lambda: render(cores), 1)
    one = median_of(lambda: render(1), 1)
    shutil.rmtree(scratch, ignore_errors=True)
    line = Line(
        "qr.lot",
        "labels",
        f"a lot of {count:,} signed PNG labels rendered and written",
        tracechain=Measure.of(f"qr.render_files on {cores} processes", all_cores, count, "label"),
        peers=[Peer("variant", Measure.of("the same on one process", one, count, "label"))],
        notes=[f"{cores} cores; the ideal speed-up over one process is {cores}×"],
    )
    run.record(line)
