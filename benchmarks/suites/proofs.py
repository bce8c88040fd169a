"""Proof lines at each size: inclusion and consistency proofs from tracechain's tiles and from pymerkle's SQLite tree.

Both trees hold the same entry bytes, and the suite first checks that they have the same root and that the two
inclusion paths agree, so the comparison is of the same answer. Two regimes:

- warm: one open ledger and one open pymerkle tree answer proofs for random indices one after the other
  (pymerkle's in-memory subroot cache filling up as it goes), after 20 untimed proofs each;
- cold: the same open ledger and tree, every proof starting from emptied caches (tracechain's remembered tiles,
  pymerkle's subroot cache);
- from a fresh open: what one proof costs a process that opens the file for it (no targets: opening is not
  proving, and pymerkle's open counts its whole leaf table).

tracechain's proof also carries the root and the leaf hash; pymerkle's is the path alone.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable

import pymerkle

from benchmarks.harness import Line, Measure, Peer, Run, Stage, Target, size_suite
from tracechain import Ledger

_WARMUP = 20
_BIG = 1_000_000


def _pairwise(
    tc: Callable[[int], object],
    pm: Callable[[int], object],
    count: int,
    reset: Callable[[], object] = lambda: None,
) -> tuple[list[float], list[float]]:
    """Seconds per call of each, alternating which goes first; ``reset()`` runs untimed before every call."""
    a: list[float] = []
    b: list[float] = []
    gc.disable()
    try:
        for i in range(count):
            order = ((tc, a), (pm, b)) if i % 2 == 0 else ((pm, b), (tc, a))
            for fn, out in order:
                reset()
                start = time.perf_counter()
                fn(i)
                out.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return a, b


@size_suite("proofs", "inclusion and consistency proofs vs. pymerkle's SQLite tree")
def proofs_suite(run: Run, stage: Stage) -> None:
    n, plan = stage.size, run.plan
    rng = random.Random(n)
    indices = [rng.randrange(n) for _ in range(plan.proofs + _WARMUP)]
    olds = [rng.randrange(1, n) for _ in range(plan.proofs + _WARMUP)]
    run.log(f"proofs at {n:,} entries: {plan.proofs} warm and {plan.cold_proofs} cold per kind")
    ledger = Ledger.open(str(stage.path))
    tree = pymerkle.SqliteTree(str(stage.pymerkle_path))
    try:
        checks = _cross_check(ledger, tree, n, indices[0], olds[0])
        for kind in ("inclusion", "consistency"):
            if kind == "inclusion":

                def tc(i: int) -> object:
                    return ledger.prove_inclusion(indices[i], n)

                def pm(i: int) -> object:
                    return tree.prove_inclusion(indices[i] + 1, n)

            else:

                def tc(i: int) -> object:
                    return ledger.prove_consistency(olds[i], n)

                def pm(i: int) -> object:
                    return tree.prove_consistency(olds[i], n)

            _pairwise(tc, pm, _WARMUP)
            warm_tc, warm_pm = _pairwise(lambda i: tc(i + _WARMUP), lambda i: pm(i + _WARMUP), plan.proofs)
            line = Line(
                f"proofs.{kind}.warm",
                "proofs",
                f"{kind} proof, warm (open ledger / tree)",
                size=n,
                tracechain=Measure.of(f"Ledger.prove_{kind}", warm_tc, 1, "proof"),
                peers=[
                    Peer(
                        "alternative", Measure.of(f"pymerkle SqliteTree.prove_{kind}, warm cache", warm_pm, 1, "proof")
                    )
                ],
                notes=checks,
            )
            _targets(line, stage)
            run.record(line, lambda tc=tc: [tc(i) for i in range(plan.proofs)])

            def empty_caches() -> None:
                tree.cache_clear()
                reader = getattr(ledger, "_reader", None)  # the ledger's tile reader and its remembered tiles
                if reader is not None and hasattr(reader, "clear"):
                    reader.clear()

            cold_tc, cold_pm = _pairwise(tc, pm, plan.cold_proofs, reset=empty_caches)
            line = Line(
                f"proofs.{kind}.cold",
                "proofs",
                f"{kind} proof, cold (open ledger / tree, caches emptied)",
                size=n,
                tracechain=Measure.of(f"Ledger.prove_{kind}, tile cache emptied", cold_tc, 1, "proof"),
                peers=[
                    Peer("alternative", Measure.of(f"pymerkle prove_{kind} after cache_clear()", cold_pm, 1, "proof"))
                ],
                notes=checks,
            )
            _targets(line, stage)
            run.record(line, lambda tc=tc: (empty_caches(), tc(0)))

            open_tc, open_pm = _pairwise(
                lambda i, kind=kind: _opened(stage, kind, indices[i], olds[i], n, tracechain=True),
                lambda i, kind=kind: _opened(stage, kind, indices[i], olds[i], n, tracechain=False),
                plan.cold_proofs,
            )
            line = Line(
                f"proofs.{kind}.open",
                "proofs",
                f"{kind} proof from a fresh open (one proof per process)",
                size=n,
                tracechain=Measure.of(f"Ledger.open + prove_{kind} + close", open_tc, 1, "proof"),
                peers=[
                    Peer(
                        "alternative",
                        Measure.of(f"pymerkle SqliteTree(path) + prove_{kind} + close", open_pm, 1, "proof"),
                    )
                ],
                notes=[*checks, "pymerkle's open counts its leaf table to check the indices are contiguous"],
            )
            run.record(line, lambda kind=kind: _opened(stage, kind, indices[0], olds[0], n, tracechain=True))
    finally:
        ledger.close()
        tree.close()


def _opened(stage: Stage, kind: str, index: int, old: int, n: int, *, tracechain: bool) -> object:
    if tracechain:
        with Ledger.open(str(stage.path)) as ledger:
            return ledger.prove_inclusion(index, n) if kind == "inclusion" else ledger.prove_consistency(old, n)
    with pymerkle.SqliteTree(str(stage.pymerkle_path)) as tree:
        return tree.prove_inclusion(index + 1, n) if kind == "inclusion" else tree.prove_consistency(old, n)


def _targets(line: Line, stage: Stage) -> None:
    if stage.target < _BIG or line.tracechain is None:
        return
    peer = line.peers[0].measure
    line.targets = [
        Target("≥ 50× faster than pymerkle's SQLite tree at 1M", line.ratio_of(peer), 50.0, peer=peer.label),
        Target("under 1 ms at 1M", line.tracechain.value * 1e3, 1.0, higher_is_better=False, unit="ms"),
    ]


def _cross_check(ledger: Ledger, tree: pymerkle.SqliteTree, n: int, index: int, old: int) -> list[str]:
    """Both trees give the same root, inclusion path and consistency path; tracechain's proofs verify."""
    root = ledger.root(n)
    if tree.get_root(n) != root:
        raise AssertionError(f"pymerkle's root at {n} differs from tracechain's")
    ours = ledger.prove_inclusion(index, n)
    ours.verify()
    theirs = tree.prove_inclusion(index + 1, n)
    if list(theirs.path[1:]) != list(ours.path) or theirs.path[0] != ours.leaf_hash:
        raise AssertionError(f"inclusion paths for entry {index} differ between tracechain and pymerkle")
    consistency = ledger.prove_consistency(old, n)
    consistency.verify()
    pymerkle.verify_consistency(ledger.root(old), root, tree.prove_consistency(old, n))
    return [f"cross-checked at {n:,}: same root as pymerkle, same inclusion path, consistency proofs verify in both"]
