"""Running a witness over HTTP with uvicorn: the only module that imports ``uvicorn``."""

from __future__ import annotations

import uvicorn

from tracechain.errors import WitnessError
from tracechain.witness import Witness
from tracechain.witness_http import witness_app

__all__ = ["parse_listen", "serve_witness"]


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a (host, port) pair; :class:`WitnessError` if malformed."""
    host, sep, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise WitnessError(f"--listen must be HOST:PORT with a port from 1 to 65535, found {listen!r}")
    return host, int(port)


def serve_witness(witness: Witness, listen: str) -> None:
    """Serve ``witness`` at ``listen`` until interrupted (uvicorn handles SIGINT and SIGTERM)."""
    host, port = parse_listen(listen)
    uvicorn.run(witness_app(witness), host=host, port=port, log_level="warning", access_log=False)
