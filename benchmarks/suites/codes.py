"""Code lines: ``canonical_code`` per spelling, against the general path every spelling took before issue 11.

Each spelling of `benchmarks.spellings` is written for the same set of canonical codes (distinct GTINs, random
serials, SSCCs, lots, vet drug trace codes), so that no cache anywhere helps, and both ways of reading them run
on the same codes in the same rounds: ``identifiers.canonical_code`` (the fast reading of the common spellings,
the general path for the rest) and ``identifiers._canonical_code_slow`` (the general path alone: biip's parsers
behind tracechain's checks). The ratio is how many times faster the code is read now; the target for the
spellings labels carry — Digital Links and element strings — is 20×.
"""

from __future__ import annotations

import random

from benchmarks.harness import Line, Measure, Peer, Run, Target, interleaved, suite
from benchmarks.spellings import WEIGHTS, write
from tracechain.identifiers import _canonical_code_slow, canonical_code, gtin_check_digit

_RANDOM_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# The fast reading goes over its codes this many times a round, so that a round lasts about as long as one pass
# of the general path: on a shared machine a round of a millisecond or two is often all lost to one preemption.
_FAST_PASSES = 20


def _canonical_codes(kind: str, count: int, rng: random.Random) -> list[str]:
    def key(body: str) -> str:
        return body + str(gtin_check_digit(body))

    codes = []
    for _ in range(count):
        gtin = key(f"0690{rng.randrange(10**9):09d}")
        if kind == "instance":
            codes.append(f"https://id.gs1.org/01/{gtin}/21/{''.join(rng.choices(_RANDOM_ALPHABET, k=12))}")
        elif kind == "lot":
            codes.append(f"https://id.gs1.org/01/{gtin}/10/L{rng.randrange(10**6):06d}")
        elif kind == "sscc":
            codes.append(f"https://id.gs1.org/00/{key(f'0690{rng.randrange(10**13):013d}')}")
        else:
            codes.append(f"urn:tracechain:vetdrug:20250302{rng.randrange(10**16):016d}")
    return codes


@suite("codes", "item codes: canonical_code per spelling, against the general path alone")
def codes_suite(run: Run) -> None:
    plan, rng = run.plan, random.Random(11)
    count, rounds = plan.code_count, plan.code_rounds
    run.log(f"codes: {count} codes per spelling, {rounds} rounds, fast reading against the general path")
    for kind, weights in WEIGHTS.items():
        canonical = _canonical_codes(kind, count, rng)
        for spelling in weights:
            codes = [write(code, spelling, "NL250301A", "270228") for code in canonical]
            if [canonical_code(c) for c in codes] != canonical or [_canonical_code_slow(c) for c in codes] != canonical:
                raise RuntimeError(f"{kind}/{spelling}: the two readings do not give the canonical codes")
            times = interleaved(
                {
                    "fast": lambda r, codes=codes: [canonical_code(c) for _ in range(_FAST_PASSES) for c in codes],
                    "slow": lambda r, codes=codes: [_canonical_code_slow(c) for c in codes],
                },
                rounds,
            )
            fast = Measure.of("identifiers.canonical_code", times["fast"], count * _FAST_PASSES, unit="code")
            slow = Measure.of("the general path alone (canonical_code before issue 11)", times["slow"], count, "code")
            line = Line(
                f"codes.{kind}.{spelling}",
                "codes",
                f"canonical_code: {kind}, {spelling}",
                tracechain=fast,
                peers=[Peer("variant", slow)],
                notes=[
                    f"example: {codes[0]!r}",
                    f"{count} distinct codes a round, read {_FAST_PASSES} times by canonical_code and once by the"
                    " general path",
                ],
            )
            if spelling.startswith(("link", "element")):
                line.targets = [Target("≥ 20× the general path", line.ratio_of(slow), 20.0, peer=slow.label)]
            run.record(line, lambda codes=codes: [canonical_code(c) for c in codes])
