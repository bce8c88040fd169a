"""Custody: what one event says about who holds an item, where, and in what state — no I/O.

`effect(event, code)` reads one event as it concerns one item: shipping hands the item to the receiver (in transit),
receiving puts it in the recording enterprise's stock at the event's location, retail selling or dispensing hands it
to the buyer, destroying or a ``destroyed`` disposition ends it, decommissioning (or an ObjectEvent DELETE) takes it
out of use, a transformation uses up its inputs, and a ``recalled`` disposition marks it recalled wherever it is. Any
other event leaves it with the enterprise that records it. `follow` applies the effects of an item's events in
time order and gives the state after each; the last is where the item is now.

Parties are read from the KDEs first (USCC and name: the person responsible, plan 六(一)) and from the EPCIS
source and destination lists when the KDEs do not name them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tracechain.events import Event

__all__ = ["END_OF_LIFE", "STATES", "Custody", "Effect", "Party", "effect", "follow", "parties_of"]

STATES = ("active", "in_transit", "sold", "destroyed", "decommissioned", "consumed")
"""An item's states: held in someone's stock, on its way to someone, or at one of its ends."""

END_OF_LIFE = frozenset({"sold", "destroyed", "decommissioned", "consumed"})
"""States after which no event should name the item again (audit rule ``after_end_of_life``)."""

_SELLING = frozenset({"retail_selling", "dispensing"})
_PARTY_TYPES = ("owning_party", "possessing_party")


@dataclass(frozen=True, slots=True)
class Party:
    """An enterprise or person: its USCC and name as the events give them (either may be unknown)."""

    uscc: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.name and self.uscc:
            return f"{self.name} ({self.uscc})"
        return self.name or self.uscc or "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "name": self.name}


@dataclass(frozen=True, slots=True)
class Effect:
    """What one event does to one item: the step it takes, who holds it after, where, its state, and whether the
    event marks it recalled. ``holder`` None leaves the holder as it was."""

    step: str  # commission, ship, receive, sell, destroy, decommission, consume, produce, recall, observe
    holder: Party | None
    location: str | None
    state: str | None  # None: unchanged
    recalled: bool = False


@dataclass(frozen=True, slots=True)
class Custody:
    """An item's custody after one of its events (``time`` in microseconds since the epoch, UTC)."""

    holder: Party | None
    location: str | None
    state: str
    recalled: bool
    time: int
    step: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": None if self.holder is None else self.holder.to_dict(),
            "location": self.location,
            "state": self.state,
            "recalled": self.recalled,
            "step": self.step,
        }


def _kde(event: Event) -> Mapping[str, Any]:
    kde = event.data.get("tc:kde")
    return kde if isinstance(kde, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _listed(event: Event, key: str, value_key: str, types: tuple[str, ...]) -> str | None:
    for item in event.data.get(key) or ():
        if isinstance(item, Mapping) and item.get("type") in types and _text(item.get(value_key)):
            return str(item[value_key])
    return None


def recorder(event: Event) -> Party:
    """The enterprise recording the event."""
    kde = _kde(event)
    return Party(_text(kde.get("enterprise_uscc")), _text(kde.get("enterprise_name")))


def receiver(event: Event) -> Party | None:
    """Whom goods are shipped to: the KDEs' receiver, else the destination list's owning or possessing party."""
    kde = _kde(event)
    party = Party(_text(kde.get("receiver_uscc")), _text(kde.get("receiver_name")))
    if party.uscc or party.name:
        return party
    listed = _listed(event, "destinationList", "destination", _PARTY_TYPES)
    return Party(listed) if listed else None


def supplier(event: Event) -> Party | None:
    """Whom goods were received from: the KDEs' supplier, else the source list's owning or possessing party."""
    kde = _kde(event)
    party = Party(_text(kde.get("supplier_uscc")), _text(kde.get("supplier_name")))
    if party.uscc or party.name:
        return party
    listed = _listed(event, "sourceList", "source", _PARTY_TYPES)
    return Party(listed) if listed else None


def location(event: Event) -> str | None:
    """Where the event happened: its business location, else its read point."""
    for key in ("bizLocation", "readPoint"):
        where = event.data.get(key)
        if isinstance(where, Mapping) and _text(where.get("id")):
            return str(where["id"])
    return None


def parties_of(event: Event) -> list[tuple[str, Party]]:
    """(role, party) for each party the event names: recorder, and receiver, supplier or buyer where it has one."""
    out = [("recorder", recorder(event))]
    step = event.data.get("bizStep")
    if step == "shipping" and (to := receiver(event)) is not None:
        out.append(("receiver", to))
    if step == "receiving" and (source := supplier(event)) is not None:
        out.append(("supplier", source))
    if step in _SELLING:
        out.append(("buyer", Party(None, _text(_kde(event).get("buyer_name")) or "consumer")))
    return out


def _role(event: Event, code: str) -> str | None:
    """``input`` or ``output`` when the event is a transformation naming ``code`` on that side."""
    if event.data.get("type") != "TransformationEvent":
        return None
    data = event.data
    if code in data.get("inputEPCList", ()):
        return "input"
    if any(q.get("epcClass") == code for q in data.get("inputQuantityList", ())):
        return "input"
    return "output"


def effect(event: Event, code: str) -> Effect:
    """What ``event`` does to the item ``code`` it names (directly, or through a container it is packed in)."""
    data = event.data
    step = data.get("bizStep")
    disposition = data.get("disposition")
    recalled = disposition == "recalled"
    here = location(event)
    by = recorder(event)
    role = _role(event, code)
    if role == "input":
        return Effect("consume", by, here, "consumed", recalled)
    if role == "output":
        return Effect("produce", by, here, "active", recalled)
    if step == "destroying" or disposition == "destroyed":
        return Effect("destroy", by, here, "destroyed", recalled)
    if step in _SELLING or disposition in ("retail_sold", "dispensed"):
        buyer = Party(None, _text(_kde(event).get("buyer_name")) or "consumer")
        return Effect("sell", buyer, here, "sold", recalled)
    if step == "decommissioning" or (data.get("type") == "ObjectEvent" and data.get("action") == "DELETE"):
        return Effect("decommission", by, here, "decommissioned", recalled)
    if step == "shipping":
        to = receiver(event)
        where = _listed(event, "destinationList", "destination", ("location",))
        return Effect("ship", to, where, "in_transit", recalled)
    if step == "receiving":
        return Effect("receive", by, here, "active", recalled)
    if step == "commissioning":
        return Effect("commission", by, here, "active", recalled)
    return Effect("recall" if recalled else "observe", by, here, None, recalled)


def follow(events: Iterable[tuple[int, Event]], code: str, effects: dict[int, Effect] | None = None) -> list[Custody]:
    """The item's custody after each of its events, given as (time, event) in time order.

    ``effects`` may hold, by ``id(event)``, the effects already worked out for events that are not transformations
    (those are the same for every item they name); the caller keeps the events alive while it keeps the cache."""
    out: list[Custody] = []
    holder: Party | None = None
    where: str | None = None
    state, recalled = "active", False
    for time, event in events:
        change = effects.get(id(event)) if effects is not None else None
        if change is None:
            change = effect(event, code)
            if effects is not None and event.data.get("type") != "TransformationEvent":
                effects[id(event)] = change
        holder = change.holder if change.holder is not None else holder
        where = change.location if change.location is not None else where
        state = change.state or state
        recalled = recalled or change.recalled
        out.append(Custody(holder, where, state, recalled, time, change.step))
    return out
