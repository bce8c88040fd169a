"""The harness: what a measured line is, how contenders are timed side by side, and what a run shares.

A *line* puts tracechain beside its peers on the same work, in the same process run, on the same data. A peer is
an alternative (another library doing the same job), a limit (the raw primitive the job cannot beat), a
reference (a stripped-down pass that shows what part of the cost is which) or a variant (tracechain itself with
one thing changed). Every ratio is the peer's cost ÷ tracechain's cost per unit of work, so above 1 tracechain
is faster, or for memory smaller. Absolute times on a shared machine drift from run to run; ratios measured in
one run, with the contenders interleaved round by round, drift much less.

Suites register themselves with `suite` (run once) or `size_suite` (run at every ledger size of the run), so a
capability that is still to come adds its lines in the same form by adding one function.
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SUITES",
    "Line",
    "Measure",
    "Peer",
    "Plan",
    "Run",
    "Stage",
    "Suite",
    "Target",
    "interleaved",
    "median_of",
    "size_label",
    "size_suite",
    "suite",
]

ROLES = ("alternative", "limit", "reference", "variant")


@dataclass(slots=True)
class Measure:
    """One contender's figure: the median over repeats of ``value`` (seconds, or MiB) for ``work`` units."""

    label: str
    value: float
    work: int = 1
    unit: str = "event"
    kind: str = "time"  # "time" (seconds) or "memory" (MiB); lower is better for both
    samples: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, label: str, samples: list[float], work: int = 1, unit: str = "event") -> Measure:
        return cls(label, statistics.median(samples), work, unit, "time", list(samples))

    @property
    def per_unit(self) -> float:
        return self.value / self.work

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "kind": self.kind, "value": self.value, "work": self.work}
        out["unit"] = self.unit
        if self.kind == "time":
            out["seconds_per_unit"] = self.per_unit
            out["units_per_second"] = self.work / self.value if self.value else None
        if len(self.samples) > 1:
            out["samples"] = self.samples
            out["spread"] = (min(self.samples), max(self.samples))
        return out


@dataclass(slots=True)
class Peer:
    role: str
    measure: Measure

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"peer role must be one of {ROLES}, found {self.role!r}")


@dataclass(slots=True)
class Target:
    """A goal from the issue, evaluated on one figure: a ratio to a peer, a latency or a growth factor."""

    text: str
    value: float
    threshold: float
    higher_is_better: bool = True
    peer: str | None = None  # the label of the peer row the target belongs to
    unit: str = "×"

    @property
    def met(self) -> bool:
        return self.value >= self.threshold if self.higher_is_better else self.value <= self.threshold

    @property
    def margin(self) -> float:
        """Above 1: how many times better than needed; below 1: the speed-up (or shrink) still needed is 1/margin."""
        if self.higher_is_better:
            return self.value / self.threshold
        return self.threshold / self.value if self.value else float("inf")

    def gap_text(self) -> str:
        m = self.margin
        if self.met:
            return f"met, {m:.2f}× the threshold" if m < 100 else "met, by far"
        return f"MISSED: needs {1 / m:.2f}× better"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "value": self.value,
            "threshold": self.threshold,
            "higher_is_better": self.higher_is_better,
            "unit": self.unit,
            "peer": self.peer,
            "met": self.met,
            "margin": self.margin,
        }


@dataclass(slots=True)
class Line:
    """One comparison: tracechain's figure, each peer's, the ratios, the targets and what to know about them."""

    key: str
    group: str
    title: str
    size: int | None = None
    tracechain: Measure | None = None
    peers: list[Peer] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "measured"  # "measured", "pending" (capability still to come) or "error"
    profile: list[dict[str, Any]] | None = None

    def ratio(self, peer: Peer) -> float | None:
        """Peer cost ÷ tracechain cost per unit of work.

        When both were timed in the same rounds (equal sample counts, at least three), this is the median of the
        per-round ratios: contenders of one round ran seconds apart, so a slow spell of the shared machine hits
        both sides of each ratio instead of whichever contender it happened to fall on.
        """
        tc = self.tracechain
        if tc is None or tc.per_unit == 0:
            return None
        mine, theirs = tc.samples, peer.measure.samples
        if len(mine) == len(theirs) >= 3 and all(mine):
            scale = tc.work / peer.measure.work
            return statistics.median(t / m * scale for t, m in zip(theirs, mine, strict=True))
        return peer.measure.per_unit / tc.per_unit

    def ratio_of(self, measure: Measure) -> float:
        """The ratio to the peer whose figure this is (peer cost ÷ tracechain cost per unit of work)."""
        ratio = self.ratio(self.peer(measure.label))
        if ratio is None:
            raise ValueError(f"line {self.key} has no tracechain figure to compare with")
        return ratio

    def peer(self, label: str) -> Peer:
        for p in self.peers:
            if p.measure.label == label:
                return p
        raise KeyError(label)

    def missed(self) -> list[Target]:
        return [t for t in self.targets if not t.met]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "group": self.group,
            "title": self.title,
            "size": self.size,
            "status": self.status,
            "tracechain": None if self.tracechain is None else self.tracechain.to_dict(),
            "peers": [{"role": p.role, **p.measure.to_dict(), "ratio": self.ratio(p)} for p in self.peers],
            "targets": [t.to_dict() for t in self.targets],
            "notes": self.notes,
            "profile": self.profile,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """How much work a run does; ``quick`` is the smoke run, the full run goes to 1M entries."""

    quick: bool
    sizes: tuple[int, ...]
    batch: int = 1000
    append_rounds: int = 9
    single_events: int = 300
    single_chunk: int = 10
    cli_batches: int = 20  # batches per `tracechain append` file: 20,000 events, as in issue 11's table
    cli_rounds: int = 3
    code_count: int = 1000  # distinct codes per spelling in the codes lines
    code_rounds: int = 7
    sign_events: int = 20_000
    signature_items: int = 4096
    validation_events: int = 3000
    verify_repeats: int = 3
    proofs: int = 200
    cold_proofs: int = 5
    in_memory_hash_cap: int = 100_000

    @classmethod
    def for_mode(cls, quick: bool, sizes: tuple[int, ...] | None = None) -> Plan:
        if quick:
            return cls(
                quick=True,
                sizes=sizes or (10_000,),
                append_rounds=7,
                single_events=100,
                cli_batches=5,
                cli_rounds=2,
                code_count=300,
                code_rounds=5,
                sign_events=5000,
                signature_items=1024,
                validation_events=1000,
                verify_repeats=2,
                proofs=60,
                cold_proofs=3,
            )
        return cls(quick=False, sizes=sizes or (10_000, 100_000, 1_000_000))

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class Stage:
    """The run's growing ledger at one of the plan's sizes, and pymerkle's tree over the same entry bytes."""

    label: str
    target: int
    size: int
    path: Path
    pymerkle_path: Path
    events: int
    seals: int
    origin: str


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    title: str
    once: Callable[[Run], None] | None = None
    per_size: Callable[[Run, Stage], None] | None = None


SUITES: dict[str, Suite] = {}


def suite(name: str, title: str) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register a suite that runs once per run."""

    def register(fn: Callable[[Run], None]) -> Callable[[Run], None]:
        SUITES[name] = Suite(name, title, once=fn)
        return fn

    return register


def size_suite(name: str, title: str) -> Callable[[Callable[[Run, Stage], None]], Callable[[Run, Stage], None]]:
    """Register a suite that runs at every ledger size of the plan (10k, 100k, 1M)."""

    def register(fn: Callable[[Run, Stage], None]) -> Callable[[Run, Stage], None]:
        SUITES[name] = Suite(name, title, per_size=fn)
        return fn

    return register


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def median_of(fn: Callable[[], object], repeats: int, *, warmup: int = 0) -> list[float]:
    """Seconds of ``repeats`` calls of ``fn`` (after ``warmup`` untimed ones)."""
    out: list[float] = []
    for i in range(warmup + repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            out.append(elapsed)
    return out


def interleaved(
    contenders: Mapping[str, Callable[[int], object]], rounds: int, *, warmup: int = 1
) -> dict[str, list[float]]:
    """Time every contender once per round, rotating who goes first; ``fn(r)`` gets the round's number.

    Rounds ``0 .. warmup-1`` are run but not kept. Interleaving spreads the machine's drift over all
    contenders alike instead of charging it to whoever ran last.
    """
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            gc.collect()
            start = time.perf_counter()
            contenders[name](r)
            elapsed = time.perf_counter() - start
            if r >= warmup:
                times[name].append(elapsed)
    return times


class Run:
    """State shared by the suites of one run: the plan, the work folder, the event source and the lines."""

    def __init__(self, plan: Plan, workdir: Path, source: Any, *, profile: bool, log: Callable[[str], None]) -> None:
        self.plan = plan
        self.workdir = workdir
        self.source = source
        self.profile_missed = profile
        self.log = log
        self.lines: list[Line] = []
        self.state: dict[str, Any] = {}
        self.setup: dict[str, Any] = {}
        self.profiles_dir = workdir.parent / f"{workdir.name}-profiles"  # kept when the scratch ledgers go

    def record(self, line: Line, profile_fn: Callable[[], object] | None = None) -> Line:
        """Keep a line; when it misses a target and profiling is on, profile tracechain's side of it."""
        self.lines.append(line)
        status = ", ".join(f"{t.text}: {t.value:.3g} ({t.gap_text()})" for t in line.targets)
        figure = "" if line.tracechain is None else f"{line.tracechain.per_unit * 1e6:.2f} µs/{line.tracechain.unit}"
        if line.tracechain is not None and line.tracechain.kind == "memory":
            figure = f"{line.tracechain.value:.1f} MiB"
        self.log(f"  {line.title}{'' if line.size is None else f' @ {line.size:,}'}: {figure} {status}")
        if self.profile_missed and profile_fn is not None and line.missed():
            line.profile = self._profile(line, profile_fn)
        return line

    def pending(self, key: str, group: str, title: str, awaiting: str, peers: list[Peer] | None = None) -> Line:
        line = Line(key, group, title, status="pending", peers=peers or [], notes=[f"pending: {awaiting}"])
        return self.record(line)

    def _profile(self, line: Line, fn: Callable[[], object]) -> list[dict[str, Any]]:
        self.profiles_dir.mkdir(parents=True, exist_ok=True)
        profiler = cProfile.Profile()
        gc.collect()
        profiler.enable()
        try:
            fn()
        finally:
            profiler.disable()
        name = f"{line.key}{'' if line.size is None else '-' + size_label(line.size)}"
        profiler.dump_stats(self.profiles_dir / f"{name}.prof")
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(30)
        (self.profiles_dir / f"{name}.txt").write_text(text.getvalue())
        self.log(f"    profiled → {self.profiles_dir / (name + '.txt')}")
        return top_functions(stats, 15)


def top_functions(stats: pstats.Stats, count: int) -> list[dict[str, Any]]:
    """The ``count`` functions with the most time spent in their own code, with their cumulative time."""
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    rows = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:count]
    out = []
    for (filename, lineno, name), (_, calls, tottime, cumtime, _) in rows:
        short = filename
        for marker in ("site-packages/", "/src/", "/benchmarks/"):
            if marker in filename:
                short = filename.split(marker, 1)[1]
                break
        out.append(
            {
                "function": f"{short}:{lineno}({name})",
                "calls": calls,
                "tottime_s": round(tottime, 6),
                "cumtime_s": round(cumtime, 6),
                "share_of_total": round(tottime / total, 4),
            }
        )
    return out


@contextmanager
def timed(store: dict[str, Any], key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    store[key] = round(time.perf_counter() - start, 3)
