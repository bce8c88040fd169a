"""Test helpers for published logs: building ledgers quickly, an independent reader of a C2SP tlog-tiles folder,
and a loopback HTTP server for it.

The reader here shares nothing with tracechain.publish but the tile path rule, which tests/test_publish.py checks
against C2SP's own example; it is what a test uses to say "this folder is a valid log of this size".
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import ACTOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey
from tracechain.checkpoints import Checkpoint, open_checkpoint
from tracechain.merkle import root as list_root


def grow(ledger: Ledger, actor: SigningKey, events: int, *, batch: int = 5_000, start: int = 0) -> None:
    """Append ``events`` generic events in signed batches (each batch adds one seal entry)."""
    done = 0
    while done < events:
        n = min(batch, events - done)
        ledger.append_many([make_event(start + done + i) for i in range(n)], actor)
        done += n


def new_ledger(path: Path, operator: SigningKey, actor: SigningKey) -> Ledger:
    ledger = Ledger.create(str(path), ORIGIN, operator, "91350100M000100Y43")
    ledger.register(actor.verifier, ACTOR_USCC, operator)
    return ledger


def _index_path(n: int) -> str:
    digits = str(n).rjust(-(-len(str(n)) // 3) * 3, "0")
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def _path(kind: str, index: int, width: int) -> str:
    return f"tile/{kind}/{_index_path(index)}" + ("" if width == 256 else f".p/{width}")


def read_folder(folder: Path, verifier: str) -> tuple[Checkpoint, list[bytes]]:
    """Check a published folder as an outside reader would; returns its checkpoint and every entry's bytes.

    Raises AssertionError naming the first file that is missing, of the wrong size, or does not hash up.
    """
    checkpoint = open_checkpoint((folder / "checkpoint").read_text(encoding="utf-8"), [verifier])
    size = checkpoint.size
    entries: list[bytes] = []
    for index in range(-(-size // 256)):
        width = min(256, size - index * 256)
        data = (folder / _path("entries", index, width)).read_bytes()
        pos = 0
        for _ in range(width):
            assert pos + 2 <= len(data), f"entry bundle {index} ends early"
            length = int.from_bytes(data[pos : pos + 2], "big")
            entries.append(data[pos + 2 : pos + 2 + length])
            pos += 2 + length
        assert pos == len(data), f"entry bundle {index} has bytes after its last entry"
    row = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
    level = 0
    while row:
        for index in range(-(-len(row) // 256)):
            hashes = row[index * 256 : (index + 1) * 256]
            path = folder / _path(str(level), index, len(hashes))
            assert path.read_bytes() == b"".join(hashes), f"{path} does not hold the hashes of level {level}"
        row = [list_root(row[i : i + 256]) for i in range(0, len(row) - len(row) % 256, 256)]
        level += 1
    computed = list_root([hashlib.sha256(b"\x00" + e).digest() for e in entries])
    assert computed == checkpoint.root, (
        f"entries give root {computed.hex()}, the checkpoint says {checkpoint.root.hex()}"
    )
    return checkpoint, entries


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration of the block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
