"""Fixtures of the battery: a varied ledger built once per session, copied fresh into each test that changes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import Built, build_ledger, copy_ledger


@pytest.fixture(scope="session")
def built_original(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_ledger(tmp_path_factory.mktemp("battery") / "original.db")


@pytest.fixture
def built(built_original: Built, tmp_path: Path) -> Built:
    """A fresh copy of the varied ledger (closed), with what its outside holders keep."""
    path = copy_ledger(built_original.path, tmp_path / "ledger.db")
    return Built(
        path,
        built_original.size,
        built_original.root,
        list(built_original.boundaries),
        list(built_original.held),
        dict(built_original.signers),
    )
