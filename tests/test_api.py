"""The public surface: sorted `__all__` lists that name real objects, and one outside library per module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import tracechain

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "src" / "tracechain"
MODULES = sorted(
    ".".join(p.relative_to(LIBRARY).with_suffix("").parts).removesuffix(".__init__")
    for p in LIBRARY.rglob("*.py")
    if not p.stem.startswith("_") or (p.stem == "__init__" and p.parent != LIBRARY)
)

# Each outside library lives behind exactly one module (STYLE.md); the CLI alone may use click.
OWNERS = {
    "msgpack": {"src/tracechain/encoding.py"},
    "cryptography": {"src/tracechain/keys.py"},
    # The scan log is a second, separate SQLite file (storage/scanlog.py); both live in the storage layer.
    "sqlite3": {"src/tracechain/storage/sqlite.py", "src/tracechain/storage/scanlog.py"},
    "sqlite_utils": {"src/tracechain/storage/sqlite.py"},
    "biip": {"src/tracechain/identifiers.py"},
    "fastjsonschema": {"src/tracechain/_compiled.py"},
    "openpyxl": {"src/tracechain/spreadsheet.py"},
    "click": {str(p.relative_to(ROOT)) for p in (ROOT / "cli").glob("*.py")},  # the CLI, and only the CLI
    "starlette": {"src/tracechain/witness_http.py"},
    "uvicorn": {"src/tracechain/witness_server.py"},
    "httpx": {"src/tracechain/http_client.py"},
    "zxingcpp": {"src/tracechain/qr.py"},
    "PIL": {"src/tracechain/qr.py"},
    "qrcode": {"src/tracechain/qr.py"},
    # Test-only oracles: the library computes EPCIS hash IDs and checks documents itself.
    "epcis_event_hash_generator": set(),
    "pyld": set(),
    "jsonschema": set(),
}


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_a_sorted_all_of_real_names(name: str) -> None:
    module = importlib.import_module(f"tracechain.{name}")
    assert module.__doc__, f"tracechain.{name} has no docstring saying what it owns"
    exported = module.__all__
    assert exported == sorted(exported, key=_isort_order), f"tracechain.{name}.__all__ is not sorted"
    for attr in exported:
        assert hasattr(module, attr), f"tracechain.{name}.__all__ names {attr}, which does not exist"


def _isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions, each alphabetical: ruff's RUF022 order."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_the_package_exports_the_fixed_public_api() -> None:
    assert tracechain.__all__ == sorted(tracechain.__all__, key=_isort_order)
    for name in ("Ledger", "SigningKey", "VerifierKey", "Event", "verify", "check", "VerifyReport", "TracechainError"):
        assert name in tracechain.__all__
    for method in (
        "create",
        "open",
        "append",
        "append_many",
        "checkpoint",
        "prove_inclusion",
        "prove_consistency",
        "entries",
    ):
        assert callable(getattr(tracechain.Ledger, method))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_each_outside_library_is_imported_by_its_one_module() -> None:
    sources = [*LIBRARY.rglob("*.py"), *(ROOT / "cli").glob("*.py")]
    for path in sources:
        rel = str(path.relative_to(ROOT))
        for library in _imports(path) & set(OWNERS):
            assert rel in OWNERS[library], f"{rel} imports {library}, which belongs to {sorted(OWNERS[library])}"


def test_the_library_never_imports_the_cli() -> None:
    for path in LIBRARY.rglob("*.py"):
        assert not any(name.startswith("tracechain.cli") for name in _imports_full(path)), path.name


def _imports_full(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_every_error_is_a_tracechain_error() -> None:
    from tracechain import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.TracechainError)


def test_every_package_is_in_the_distribution() -> None:
    """setuptools installs the packages pyproject.toml lists: a subpackage missing from the list is missing from
    every non-editable install (`pip install .`, a wheel), though editable installs and the tests still find it."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(("tracechain", *p.parent.relative_to(LIBRARY).parts)) for p in LIBRARY.rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
