"""The audit rules: their stable ids, severities and plain explanations (English and Chinese), and the options.

Rule ids are identifiers programs rely on; they never change meaning. The explanations are what the JSON and HTML
reports show beside each finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["COLD_CHAIN_LIMITS", "RULES", "AuditOptions", "Rule"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str
    title_en: str
    title_zh: str
    explanation: str


RULES = {
    rule.id: rule
    for rule in (
        Rule(
            "integrity",
            "error",
            "Integrity",
            "完整性",
            "everything verify checks: hashes, chain, tree, tiles, signatures, checkpoints, the indexes",
        ),
        Rule(
            "mass_balance",
            "error",
            "Mass balance",
            "数量平衡",
            "an enterprise shipped, sold, used, destroyed or packed more of a lot than it commissioned, made or"
            " received (quantity records, per unit of measure)",
        ),
        Rule(
            "after_end_of_life",
            "error",
            "After end of life",
            "终结后仍有事件",
            "an event names an item after it was sold, destroyed, decommissioned or used up in a transformation",
        ),
        Rule(
            "duplicate_commission",
            "error",
            "Duplicate commissioning",
            "重复赋码",
            "the same serial was commissioned (or made by a transformation) more than once, in one ledger or"
            " across ledgers: a copied code",
        ),
        Rule(
            "double_aggregation",
            "error",
            "In two containers at once",
            "同时装入两个包装",
            "an item was packed into a second container while still in the first",
        ),
        Rule(
            "time_backwards",
            "warning",
            "Time going backwards",
            "时间倒序",
            "an event recorded after another event of the same item says it happened before it",
        ),
        Rule(
            "future_time",
            "warning",
            "Time in the future",
            "时间超前",
            "an event's time is later than its record time (or the audit's time) by more than the tolerance",
        ),
        Rule(
            "unhandled_nonconformance",
            "error",
            "Non-conformant lot not dealt with",
            "不合格批次未处理",
            "an inspection found a lot non-conformant and no recall or destruction of the lot followed within the"
            " deadline (plan 四(二): 抽检不合格食品处理率达到100%)",
        ),
        Rule(
            "cold_chain",
            "warning",
            "Cold-chain excursion",
            "冷链温度超限",
            "a sensor reading on an event lies outside the product's range",
        ),
        Rule(
            "expired",
            "error",
            "Expired product received or sold",
            "过期产品入库或销售",
            "goods were received or sold after their lot's expiry date",
        ),
        Rule(
            "revoked_key",
            "error",
            "Signed with a revoked key",
            "吊销密钥签名",
            "a batch of events was signed by a key after its revocation",
        ),
        Rule(
            "unmatched_receive",
            "warning",
            "Receipt without a shipment",
            "收货无对应发货",
            "a receiving event names goods that no audited ledger shows shipped to that enterprise before",
        ),
    )
}

COLD_CHAIN_LIMITS: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "infant_formula": {"Temperature": (None, 30.0)},
    "edible_oil": {"Temperature": (None, 30.0)},
    "vet_drug": {"Temperature": (None, 30.0)},
}
"""Default sensor limits per product, in °C for temperatures: (lowest, highest), None for no limit. These are this
project's defaults, not a regulation's: the upper bound of 常温 (room temperature, 10–30 °C, as the Chinese
Pharmacopoeia's general notices define the storage terms labels use). Products with tighter conditions (vaccines
and other veterinary biologicals at 2–8 °C, chilled raw milk) pass their own limits in `AuditOptions`."""


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What an audit measures against: its own time, the deadline for dealing with a non-conformant lot, how far
    in the future an event may be, the sensor limits per product, and the verification settings."""

    now: datetime | None = None  # default: the time the audit runs
    deadline: timedelta = timedelta(hours=72)  # 《食品召回管理办法》: a level-3 recall starts within 72 hours
    future_tolerance: timedelta = timedelta(days=1)
    cold_chain: dict[str, dict[str, tuple[float | None, float | None]]] = field(
        default_factory=lambda: dict(COLD_CHAIN_LIMITS)
    )
    signatures: bool = True
    workers: int | None = None  # cores for verify and the streaming pass's reading (default: all; 1: this process)
