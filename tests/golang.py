"""Build the small Go programs in tests/go/ that check tracechain against Go's golang.org/x/mod/sumdb packages.

Go and Debian's golang-golang-x-mod-dev (the x/mod sources under /usr/share/gocode) are optional: without them the
tests that need a program skip, saying what to install. Builds are offline (GO111MODULE=off, GOPATH pointing at
Debian's sources), so nothing is fetched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

GO_SOURCES = Path(__file__).resolve().parent / "go"
GOPATH = Path(os.environ.get("TRACECHAIN_GOPATH", "/usr/share/gocode"))
INSTALL_HINT = "apt-get install golang-go golang-golang-x-mod-dev"


def go_environment(cache: Path) -> dict[str, str]:
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(GOPATH))
    env.pop("GOFLAGS", None)  # a module-mode flag from the caller's environment would break a GOPATH build
    if "HOME" not in env and "GOCACHE" not in env:
        env["GOCACHE"] = str(cache)  # go refuses to build without a cache folder
    return env


def build_go_program(name: str, out_dir: Path) -> Path:
    """The binary of tests/go/<name>, built into ``out_dir``; skips the calling test when Go or x/mod is absent."""
    go = shutil.which("go")
    if go is None:
        pytest.skip(f"Go is not installed, so Go's sumdb cross-check cannot run ({INSTALL_HINT})")
    if not (GOPATH / "src" / "golang.org" / "x" / "mod" / "sumdb").is_dir():
        pytest.skip(f"golang.org/x/mod sources are not under {GOPATH}/src ({INSTALL_HINT})")
    binary = out_dir / name
    result = subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=GO_SOURCES / name,
        env=go_environment(out_dir / "gocache"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"go build of tests/go/{name} failed:\n{result.stderr}"
    return binary
