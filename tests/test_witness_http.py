"""The witness over HTTP on 127.0.0.1: `tracechain witness serve` as a real process, C2SP's answers on the wire,
many concurrent add-checkpoint requests, and the log's side collecting cosignatures for a k-of-n quorum."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.test_witness import HISTORY_A, HISTORY_B, LOG, W1, W2, W3, _consistent, body, note
from tracechain import merkle
from tracechain.errors import QuorumError
from tracechain.keys import SigningKey
from tracechain.notes import parse_note
from tracechain.witness import CosignerKey, require_quorum, verified_cosigners
from tracechain.witness_client import WitnessEndpoint, collect_cosignatures

PASSWORD = "witness test password"
TRACECHAIN = Path(sys.executable).with_name("tracechain")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_witness(tmp_path: Path, key: SigningKey, log: SigningKey = LOG) -> Iterator[str]:
    """`tracechain witness serve` for ``log`` in a child process on a free loopback port; yields its URL."""
    folder = tmp_path / key.name.replace("/", "_")
    folder.mkdir()
    key_file = folder / "witness.key"
    _save(key, key_file)
    logs = folder / "logs.txt"
    logs.write_text(f"# the logs this witness cosigns\n{log.name} {log.verifier}\n")
    port = _free_port()
    env = dict(os.environ, TRACECHAIN_PASSWORD=PASSWORD)
    args = ["witness", "serve", "--key", str(key_file), "--logs", str(logs), "--listen", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [str(TRACECHAIN), *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the witness did not start: {process.communicate(timeout=5)[1].decode()}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


_SAVED: dict[str, bytes] = {}


def _save(key: SigningKey, path: Path) -> None:
    # Saving runs scrypt; each test key is saved once and its file bytes reused.
    if key.name not in _SAVED:
        first = path.with_name("first.key")
        key.save(first, PASSWORD)
        _SAVED[key.name] = first.read_bytes()
        first.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(_SAVED[key.name])


def _post(url: str, data: bytes) -> httpx.Response:
    return httpx.post(url + "/add-checkpoint", content=data, timeout=30)


def test_the_served_witness_answers_as_c2sp_says(tmp_path: Path) -> None:
    with running_witness(tmp_path, W1) as url:
        first = _post(url, body(HISTORY_A, 0, 50))
        assert first.status_code == 200
        assert first.text.startswith(f"— {W1.name} ") and first.text.endswith("\n")
        cosigned = note(HISTORY_A, 50) + first.text
        assert list(verified_cosigners(cosigned, [CosignerKey.of(W1)])) == [CosignerKey.of(W1)]
        conflict = _post(url, body(HISTORY_A, 0, 60))
        assert conflict.status_code == 409
        assert conflict.headers["content-type"] == "text/x.tlog.size"
        assert conflict.text == "50\n"
        fork = _post(url, body(HISTORY_B, 50, 50))
        assert (fork.status_code, fork.text) == (409, "50\n")
        assert _post(url, body(HISTORY_B, 50, 90)).status_code == 422
        assert _post(url, b"old x\n\n").status_code == 400
        impostor = SigningKey.from_seed(LOG.name, b"\x55" * 32)
        assert _post(url, body(HISTORY_A, 50, 60, key=impostor)).status_code == 403
        assert _post(url, body(HISTORY_A, 50, 60)).status_code == 200
        assert httpx.get(url + "/add-checkpoint", timeout=10).status_code == 405


def test_many_concurrent_requests_leave_the_witness_consistent(tmp_path: Path) -> None:
    sizes = list(range(5, 200, 5))
    requests: list[tuple[list[bytes], int, int]] = []
    for i, size in enumerate(sizes):
        for old in {0, sizes[i - 1] if i else 0, sizes[max(i - 2, 0)]}:
            requests.append((HISTORY_A, old, size))
        if size > 40:
            requests.append((HISTORY_B, sizes[i - 1], size))  # a fork racing the real history
    with running_witness(tmp_path, W1) as url:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda r: (r, _post(url, body(*r))), requests))
        final = _post(url, body(HISTORY_A, 0, 199))
    cosigned = []
    for (history, _old, size), response in answers:
        assert response.status_code in (200, 409, 422), response.text
        if response.status_code == 200:
            text = note(history, size)
            assert verified_cosigners(text + response.text, [CosignerKey.of(W1)])
            cosigned.append((size, merkle.root(history[:size])))
    assert len(cosigned) >= 2
    for i, a in enumerate(cosigned):
        for b in cosigned[i + 1 :]:
            assert _consistent(a, b), f"cosigned inconsistent checkpoints of sizes {a[0]} and {b[0]}"
    # No rollback: the witness ends at the largest size it cosigned.
    assert final.status_code == 409
    assert int(final.text) == max(size for size, _ in cosigned)


def test_the_log_collects_cosignatures_and_a_quorum_of_two_needs_two(tmp_path: Path) -> None:
    keys = [str(CosignerKey.of(w)) for w in (W1, W2, W3)]

    def prove(old: int) -> list[bytes]:
        return merkle.consistency_proof(HISTORY_A[:120], old)

    with running_witness(tmp_path, W1) as url1, running_witness(tmp_path, W2) as url2:
        endpoints = [WitnessEndpoint(url1, CosignerKey.of(W1)), WitnessEndpoint(url2, CosignerKey.of(W2))]
        # The first witness has seen size 30 already; the log does not know it, and learns it from the 409.
        assert _post(url1, body(HISTORY_A, 0, 30)).status_code == 200
        result = collect_cosignatures(note(HISTORY_A, 120), endpoints, prove)
        assert [o.error for o in result.outcomes] == ["", ""]
        assert result.cosigners == [CosignerKey.of(W1), CosignerKey.of(W2)]
        assert require_quorum(result.note, keys, 2) == [CosignerKey.of(W1), CosignerKey.of(W2)]
        only_one = note(HISTORY_A, 120) + result.outcomes[0].lines
        with pytest.raises(QuorumError, match=r"cosigned by 1 of the 3 named witnesses \(witness\.example/w1\); 2 req"):
            require_quorum(only_one, keys, 2)
        # A witness that saw a larger tree cannot cosign an older checkpoint; the log hears why.
        late = collect_cosignatures(note(HISTORY_A, 100), endpoints[:1], lambda old: [])
        assert late.cosigners == [] and "beyond" in late.outcomes[0].error
        assert len(parse_note(late.note)[1]) == 1
    unreachable = collect_cosignatures(note(HISTORY_A, 120), endpoints[:1], prove, timeout=2)
    assert unreachable.cosigners == [] and "could not be reached" in unreachable.outcomes[0].error


def test_the_witness_key_command_prints_the_type_4_verifier_key(tmp_path: Path) -> None:
    key_file = tmp_path / "w.key"
    _save(W3, key_file)
    out = subprocess.run(
        [str(TRACECHAIN), "witness", "vkey", "--key", str(key_file)],
        env=dict(os.environ, TRACECHAIN_PASSWORD=PASSWORD),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == str(CosignerKey.of(W3))
    assert base64.b64decode(out.stdout.strip().split("+", 2)[2])[0] == 4


def test_serve_refuses_a_bad_listen_address_as_a_usage_error(tmp_path: Path) -> None:
    logs = tmp_path / "logs.txt"
    logs.write_text(f"{LOG.name} {LOG.verifier}\n")
    key_file = tmp_path / "w.key"
    _save(W3, key_file)
    out = subprocess.run(
        [str(TRACECHAIN), "witness", "serve", "--key", str(key_file), "--logs", str(logs), "--listen", "nowhere"],
        env=dict(os.environ, TRACECHAIN_PASSWORD=PASSWORD),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "HOST:PORT" in out.stderr
