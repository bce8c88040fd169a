"""Validation lines: what checking an event against the envelope and its product profile costs, per product, and as
a share of appending events given as JSON dicts (what a producer sends) instead of pre-validated `Event` objects;
and what a new process pays for the compiled validators it needs, taken from the on-disk cache or compiled.
"""

from __future__ import annotations

import os
import random

from benchmarks.harness import Line, Measure, Peer, Run, interleaved, suite
from benchmarks.ledgers import Keys, new_ledger
from tracechain import Event


@suite("validation", "validation cost per event (envelope and product profile), and its share of append time")
def validation_suite(run: Run) -> None:
    plan, source = run.plan, run.source
    profile = source.profiles
    per_product = max(100, plan.validation_events // 6)
    rng = random.Random(7)
    run.log(f"validation: {per_product} events per product, then its share of append (profiles: {profile})")
    for product, templates in sorted(source.by_product().items()):
        dicts = [source.vary(rng.choice(templates)) for _ in range(per_product)]
        times = interleaved(
            {
                "full": lambda r, dicts=dicts: [Event.from_dict(d, check_profile=profile) for d in dicts],
                "envelope": lambda r, dicts=dicts: [Event.from_dict(d, check_profile=False) for d in dicts],
            },
            5,
        )
        full = Measure.of(
            "Event.from_dict: envelope and product profile" if profile else "Event.from_dict (no profiles module yet)",
            times["full"],
            per_product,
        )
        envelope = Measure.of("envelope only (check_profile=False)", times["envelope"], per_product)
        line = Line(
            f"validation.{product}",
            "validation",
            f"validation per event: {product}",
            tracechain=full,
            peers=[Peer("variant", envelope)],
            notes=[f"{len(templates)} step templates of {product}, varied"],
        )
        run.record(line, lambda dicts=dicts: [Event.from_dict(d, check_profile=profile) for d in dicts])

    keys, folder, batch = Keys(), run.workdir / "validation", plan.batch
    rounds = max(3, plan.append_rounds // 2)
    dict_batches = [source.dicts(batch) for _ in range(rounds + 1)]
    event_batches = [[Event.from_dict(d, check_profile=profile) for d in b] for b in dict_batches]
    from_dicts = new_ledger(folder / "dicts.db", keys)
    from_events = new_ledger(folder / "events.db", keys)
    times = interleaved(
        {
            "dicts": lambda r: from_dicts.append_many(dict_batches[r], keys.actor),
            "events": lambda r: from_events.append_many(event_batches[r], keys.actor),
            "validate": lambda r: [Event.from_dict(d, check_profile=profile) for d in dict_batches[r]],
            "envelope": lambda r: [Event.from_dict(d, check_profile=False) for d in dict_batches[r]],
        },
        rounds,
    )
    with_validation = Measure.of("Ledger.append_many of 1,000 JSON dicts (validation included)", times["dicts"], batch)
    prevalidated = Measure.of("Ledger.append_many of the same 1,000 pre-validated Events", times["events"], batch)
    validate = Measure.of("Event.from_dict of the 1,000 dicts alone", times["validate"], batch)
    share = validate.value / with_validation.value
    envelope_share = min(times["envelope"]) / min(times["dicts"])
    line = Line(
        "validation.share",
        "validation",
        "validation as a share of append time",
        tracechain=with_validation,
        peers=[Peer("variant", prevalidated), Peer("reference", validate)],
        notes=[
            f"validation is {share:.0%} of the time of an append from JSON dicts"
            f" (envelope ≈ {envelope_share:.0%}, product profile ≈ {max(share - envelope_share, 0):.0%})",
        ],
    )
    run.state["validation.share"] = share
    run.record(line, lambda: [Event.from_dict(d, check_profile=profile) for d in dict_batches[0]])
    from_dicts.close()
    from_events.close()


@suite("validators", "compiled validators a new process needs: from the on-disk cache, or compiled in memory")
def validators_suite(run: Run) -> None:
    """One event of every template (every product and step) in a process that has no validator in memory yet, as a
    CLI process starts: with the cache folder already filled by an earlier process, against the cache turned off."""
    if not run.source.profiles:
        return
    from tracechain import _compiled, profiles

    templates = [t for ts in run.source.by_product().values() for t in ts]
    folder = run.workdir / "validator-cache"
    saved = os.environ.get(_compiled.CACHE_ENV)

    def fresh_process(cache: str) -> None:
        os.environ[_compiled.CACHE_ENV] = cache
        profiles._specialised.cache_clear()
        profiles._general.cache_clear()
        _compiled._usable.cache_clear()
        for template in templates:
            Event.from_dict(template)

    try:
        fresh_process(str(folder))  # the earlier process that fills the cache
        times = interleaved(
            {"cached": lambda r: fresh_process(str(folder)), "compiled": lambda r: fresh_process("")},
            max(3, run.plan.cli_rounds + 1),
        )
    finally:
        if saved is None:
            os.environ.pop(_compiled.CACHE_ENV, None)
        else:
            os.environ[_compiled.CACHE_ENV] = saved
        profiles._specialised.cache_clear()
        profiles._general.cache_clear()
        _compiled._usable.cache_clear()
    count = len(templates)
    cached = Measure.of(f"one event of each of {count} templates, validators from the cache", times["cached"], count)
    compiled = Measure.of("the same, validators compiled in memory (cache off)", times["compiled"], count)
    line = Line(
        "validation.validators",
        "validation",
        "validators for every product and step in a new process",
        tracechain=cached,
        peers=[Peer("variant", compiled)],
        notes=[f"{len(list((folder / 'validators').iterdir()))} validators in the cache folder"],
    )
    run.record(line)
