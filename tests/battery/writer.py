"""Writer and reader processes for the crash and concurrency batteries; run as a script.

    python writer.py LEDGER LOG WRITER_ID [--checkpoints] [--batches N] [--go FILE]
    python writer.py --reader LEDGER LOG STOP_FILE

It opens LEDGER itself, then appends batches of 1 to 8 events in a loop (N batches, or until killed) with the
key of actor ``writer-<id>``, registered beforehand by the parent; with ``--go`` it first logs ``R`` and waits
for that file, so that several writers start at the same moment. After every append returns it logs the
acknowledged entries, one line per batch: ``A <first> <count> <seal index> <leaf hash hex>,...``. With
``--checkpoints`` it also signs a checkpoint every few batches and logs ``C <base64 of the note>``. Each line is
one write() to a file opened with O_APPEND, so a SIGKILL leaves whole lines only. Anything unexpected is logged
as ``E <text>`` and makes the exit status 1.

With ``--reader`` it verifies LEDGER in a loop until STOP_FILE exists, logging ``<ok 0|1> <size> <root hex>
<first problem>`` after each verification.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import actor_key, event, operator_key, writer_name

import tracechain
from tracechain import Ledger


def reader(path: str, out: str, stop: str) -> int:
    with open(out, "a", encoding="utf-8") as log:
        while not os.path.exists(stop):
            report = tracechain.verify(path)
            first = report.problems[0].message.replace("\n", " ") if report.problems else ""
            log.write(f"{int(report.ok)} {report.size} {report.root.hex()} {first}\n")
            log.flush()
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--reader":
        return reader(*argv[1:4])
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger")
    parser.add_argument("log")
    parser.add_argument("writer", type=int)
    parser.add_argument("--checkpoints", action="store_true")
    parser.add_argument("--batches", type=int, default=0, help="stop after this many batches (0: until killed)")
    parser.add_argument("--go", help="after opening the ledger, wait for this file before appending")
    args = parser.parse_args(argv)
    fd = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def log(line: str) -> None:
        os.write(fd, (line + "\n").encode())

    rng = random.Random(os.getpid())
    key = actor_key(writer_name(args.writer))
    op = operator_key(0)
    serial = args.writer * 10_000_000 + rng.randrange(10_000_000 - 100_000)
    try:
        with Ledger.open(args.ledger) as led:
            log("R")
            while args.go and not os.path.exists(args.go):
                time.sleep(0.001)
            done = 0
            while not args.batches or done < args.batches:
                count = rng.randint(1, 8)
                receipt = led.append_many([event(serial + j) for j in range(count)], key)
                serial += count
                hashes = ",".join(h.hex() for h in receipt.leaf_hashes)
                log(f"A {receipt.first} {receipt.count} {receipt.seal_index} {hashes}")
                done += 1
                if args.checkpoints and rng.random() < 0.2:
                    note = led.checkpoint(op)
                    log("C " + base64.b64encode(note.encode()).decode())
    except Exception:
        log("E " + traceback.format_exc().replace("\n", " | "))
        return 1
    finally:
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
