"""Crash and concurrency: real writer processes (`writer.py`) on one ledger file, killed or left to finish.

Crash: each round starts writers that append in a loop (one also signs checkpoints), lets them run a random
time, and kills them with SIGKILL. The ledger must then open, verify against every checkpoint acknowledged so
far, never shrink, and hold every entry whose append had returned, with the hash the writer was told.

Concurrency: several writers append a fixed number of batches at once while reader processes verify in a loop.
No append may fail (no "database is locked"), no acknowledged entry may be lost, the result must have no gap and
no fork (every reader's size and root is a prefix of the final tree), and every reader must see a ledger that
verifies.
"""

from __future__ import annotations

import base64
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tracechain
from tracechain import Ledger

from .support import (
    ORIGIN,
    PLANT_USCC,
    Tally,
    actor_key,
    foreign,
    operator_key,
    remove_ledger,
    timed,
    writer_name,
)

WRITER = Path(__file__).resolve().parent / "writer.py"


def create_ledger(path: Path, writers: int) -> None:
    """A new ledger with an actor key registered for each writer process."""
    remove_ledger(path)
    op = operator_key(0)
    with Ledger.create(str(path), ORIGIN, op, "91350100M000100Y43") as led:
        for w in range(writers):
            led.register(actor_key(writer_name(w)).verifier, PLANT_USCC, op)


def start_writer(
    path: Path, log: Path, writer: int, *, checkpoints: bool, batches: int = 0, go: Path | None = None
) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(WRITER), str(path), str(log), str(writer)]
    if checkpoints:
        args.append("--checkpoints")
    if batches:
        args += ["--batches", str(batches)]
    if go is not None:
        args += ["--go", str(go)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass
class Acks:
    """What the writers were told: entry index → leaf hash, the checkpoints signed, and any error they hit."""

    entries: dict[int, bytes] = field(default_factory=dict)
    seals: set[int] = field(default_factory=set)
    checkpoints: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    batches: int = 0

    def read(self, log: Path) -> None:
        if not log.exists():
            return
        for line in log.read_text().split("\n")[:-1]:  # only whole lines
            kind, _, rest = line.partition(" ")
            if kind == "A":
                first, _count, seal, hashes = rest.split(" ")
                for offset, h in enumerate(hashes.split(",")):
                    self.entries[int(first) + offset] = bytes.fromhex(h)
                self.seals.add(int(seal))
                self.batches += 1
            elif kind == "C":
                self.checkpoints.append(base64.b64decode(rest).decode())
            elif kind == "E":
                self.errors.append(rest)


def check_after(tally: Tally, path: Path, acks: Acks, previous_size: int, label: str) -> tuple[int, int]:
    """Reopen, verify and look up every acknowledged entry; returns the size and the entries found intact."""
    try:
        report = tracechain.verify(path, acks.checkpoints)
    except Exception as e:
        tally.fail("verify raised", f"{label}: {foreign(e)}")
        return previous_size, 0
    if not report.ok:
        tally.fail("fails verification", f"{label}: {[p.to_dict() for p in report.problems[:3]]}")
    if report.size < previous_size:
        tally.fail("shrank", f"{label}: {previous_size} → {report.size}")
    try:
        with Ledger.open(str(path)) as led:
            lost = [i for i, h in acks.entries.items() if i >= report.size or led.entry(i).leaf_hash != h]
    except Exception as e:
        tally.fail("reopen failed", f"{label}: {foreign(e)}")
        return report.size, 0
    if lost:
        tally.fail("lost", f"{label}: {len(lost)} acknowledged entries missing or changed, first {min(lost)}")
    return report.size, len(acks.entries) - len(lost)


def run_crash(workdir: Path, rounds: int, *, writers: int = 2, seed: int = 4, rounds_per_ledger: int = 25) -> Tally:
    """``rounds`` rounds of SIGKILL at a random moment, a new ledger every ``rounds_per_ledger`` rounds."""
    tally = Tally("crash", f"SIGKILL of {writers} writers")
    rng = random.Random(seed)
    path = workdir / "crash.db"
    with timed(tally):
        acks, size, kept, current, unacknowledged = Acks(), 0, 0, 0, 0
        for round_ in range(rounds):
            if round_ % rounds_per_ledger == 0:
                kept += current
                create_ledger(path, writers)
                acks, size, unacknowledged = Acks(), 0, 0
                for w in range(writers):
                    (workdir / f"writer-{w}.log").unlink(missing_ok=True)
            logs = [workdir / f"writer-{w}.log" for w in range(writers)]
            marks = [log.stat().st_size if log.exists() else 0 for log in logs]
            procs = [start_writer(path, logs[w], w, checkpoints=w == 0) for w in range(writers)]
            for log, mark, proc in zip(logs, marks, procs, strict=True):
                _wait_ready_after(log, mark, proc)
            for proc in procs:
                time.sleep(rng.uniform(0, 0.08))
                proc.kill()
            for proc in procs:
                proc.wait()
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                if proc.returncode != -9 or stderr.strip():
                    tally.fail("writer died on its own", f"round {round_}: exit {proc.returncode}: {stderr[-300:]}")
                if proc.stderr:
                    proc.stderr.close()
            acks = Acks()
            for log in logs:
                acks.read(log)
            for error in acks.errors:
                tally.fail("writer error", f"round {round_}: {error[-300:]}")
            tally.trials += 1
            size, current = check_after(tally, path, acks, size, f"round {round_}")
            # Entries no writer was told about: a kill landed between a commit and its acknowledgement.
            now = size - 2 * (1 + writers) - len(acks.entries) - len(acks.seals)
            if now > unacknowledged:
                tally.ok_as("rounds killed between a commit and its acknowledgement")
            unacknowledged = now
        tally.outcomes["acknowledged entries kept"] += kept + current
        remove_ledger(path)
    return tally


def _wait_ready_after(log: Path, mark: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until the writer has opened the ledger (its first log line after ``mark`` bytes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.stat().st_size > mark:
            return
        time.sleep(0.002)


def run_concurrency(
    workdir: Path, rounds: int, *, writers: int = 3, readers: int = 1, batches: int = 30, seed: int = 6
) -> list[Tally]:
    """``rounds`` rounds of ``writers`` processes appending ``batches`` batches each while ``readers`` verify."""
    appends = Tally("concurrency", f"{writers} writers appending at once")
    reads = Tally("concurrency", f"{readers} readers verifying meanwhile")
    path = workdir / "concurrent.db"
    with timed(appends):
        for round_ in range(rounds):
            create_ledger(path, writers)
            logs = [workdir / f"cw-{w}.log" for w in range(writers)]
            outs = [workdir / f"cr-{r}.log" for r in range(readers)]
            stop, go = workdir / "stop", workdir / "go"
            for f in [*logs, *outs, stop, go]:
                f.unlink(missing_ok=True)
            readers_ = [
                subprocess.Popen(
                    [sys.executable, str(WRITER), "--reader", str(path), str(out), str(stop)], stderr=subprocess.PIPE
                )
                for out in outs
            ]
            procs = [start_writer(path, logs[w], w, checkpoints=w == 0, batches=batches, go=go) for w in range(writers)]
            for log, proc in zip(logs, procs, strict=True):
                _wait_ready_after(log, 0, proc)
            go.touch()  # every writer has the ledger open: let them append at once
            for w, proc in enumerate(procs):
                _, stderr = proc.communicate()
                appends.trials += 1
                if proc.returncode != 0:
                    appends.fail("writer failed", f"round {round_} writer {w}: {stderr.decode()[-400:]}")
            stop.touch()
            for proc in readers_:
                _, stderr = proc.communicate()
                if proc.returncode != 0:
                    reads.fail("reader failed", f"round {round_}: {stderr.decode()[-400:]}")
            acks = Acks()
            for log in logs:
                acks.read(log)
            for error in acks.errors:
                appends.fail("writer error", f"round {round_}: {error[-400:]}")
            if acks.batches != writers * batches:
                appends.fail("missing acknowledgements", f"round {round_}: {acks.batches} of {writers * batches}")
            size, kept = check_after(appends, path, acks, 0, f"round {round_}")
            appends.outcomes["acknowledged entries kept"] += kept
            expected = 2 * (1 + writers) + sum(1 for _ in acks.entries) + acks.batches
            if size != expected:
                appends.fail("gap or extra entries", f"round {round_}: size {size}, expected {expected}")
            with Ledger.open(str(path)) as led:
                for out in outs:
                    for line in out.read_text().splitlines() if out.exists() else []:
                        ok, seen_size, root = line.split(" ")[:3]
                        reads.trials += 1
                        if ok != "1":
                            reads.fail("reader saw a ledger failing verification", f"round {round_}: {line[:300]}")
                        elif led.root(int(seen_size)).hex() != root:
                            reads.fail("fork", f"round {round_}: size {seen_size} had root {root}")
                        else:
                            reads.ok_as("consistent prefix")
        remove_ledger(path)
    return [appends, reads]
