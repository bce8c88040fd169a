"""Shared fixtures: keys, a fresh ledger in a temporary folder, and an event factory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tracechain import Ledger, SigningKey
from tracechain.identifiers import gtin_check_digit

ORIGIN = "test.tracechain.example/ledger"
OPERATOR_USCC = "91350100M000100Y43"
ACTOR_USCC = "91512081MA62K0260E"
GTIN = "0690123456789"
GTIN14 = GTIN + str(gtin_check_digit(GTIN))
SHARED = Path(__file__).resolve().parents[2] / "shared"

EventFactory = Callable[..., dict[str, Any]]


def pytest_configure(config: pytest.Config) -> None:
    # Validators compiled by the tests (and the CLI processes they start) go to a folder of this run, not to the
    # user's cache: every run starts cold and leaves nothing behind.
    os.environ["TRACECHAIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="tracechain-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop("TRACECHAIN_CACHE_DIR", ""), ignore_errors=True)


@pytest.fixture(scope="session")
def operator_key() -> SigningKey:
    return SigningKey.generate(ORIGIN)


@pytest.fixture(scope="session")
def actor_key() -> SigningKey:
    return SigningKey.generate("plant.example.cn")


def make_event(i: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid generic-food commissioning event for unit ``i``."""
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "eventTime": f"2026-03-01T08:{(i // 60) % 60:02d}:{i % 60:02d}+08:00",
        "eventTimeZoneOffset": "+08:00",
        "epcList": [f"https://id.gs1.org/01/{GTIN14}/21/U{i:06d}"],
        "readPoint": {"id": "https://id.gs1.org/414/6901234567892"},
        "tc:product": "food",
        "tc:kde": {
            "enterprise_name": "阳西县示例食品有限公司",
            "enterprise_uscc": ACTOR_USCC,
            "sc_licence": "SC10644172100015",
            "product_name": "花生油调和食品",
            "lot": "L20260301",
            "production_date": "2026-03-01",
            "expiry_date": "2027-03-01",
        },
    }
    event.update(overrides)
    return event


@pytest.fixture
def event() -> EventFactory:
    return make_event


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def ledger(ledger_path: Path, operator_key: SigningKey, actor_key: SigningKey) -> Iterator[Ledger]:
    """A fresh ledger with the operator's genesis and one registered actor key."""
    led = Ledger.create(str(ledger_path), ORIGIN, operator_key, OPERATOR_USCC)
    led.register(actor_key.verifier, ACTOR_USCC, operator_key)
    yield led
    led.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked slow run only with TRACECHAIN_LONG=1; otherwise they skip, saying how to run them."""
    if os.environ.get("TRACECHAIN_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with TRACECHAIN_LONG=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
