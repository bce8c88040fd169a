"""What the figures were measured on: cores, CPU, Python, SQLite, OpenSSL (hashlib's and cryptography's), versions."""

from __future__ import annotations

import os
import platform
import sqlite3
import ssl
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_PACKAGES = (
    "tracechain",
    "pymerkle",
    "sqlite-utils",
    "cryptography",
    "msgpack",
    "fastjsonschema",
    "qrcode",
    "zxing-cpp",
    "pillow",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def _burn(n: int) -> int:
    x = 0
    for i in range(n):
        x += i * i
    return x


def parallel_speedup(workers: int, n: int = 4_000_000) -> float:
    """How many cores' worth of work this shared machine gives right now: ``workers`` CPU-bound tasks run in a
    process pool against the same tasks run one after another. 2.0 on two idle cores; near 1.0 when another
    tenant keeps the second core busy, and then no all-cores figure can reach its ideal."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    for _ in range(workers):
        _burn(n)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_burn, [n // 10] * workers))  # start the workers before timing
        start = time.perf_counter()
        list(pool.map(_burn, [n] * workers))
        parallel = time.perf_counter() - start
    return round(serial / parallel, 2)


def describe() -> dict[str, Any]:
    try:
        from cryptography.hazmat.backends.openssl import backend

        crypto_openssl = backend.openssl_version_text()
    except ImportError:  # pragma: no cover
        crypto_openssl = "unknown"
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": usable,
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "openssl_hashlib": ssl.OPENSSL_VERSION,
        "openssl_cryptography": crypto_openssl,
        "packages": versions,
        "git": _git(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
