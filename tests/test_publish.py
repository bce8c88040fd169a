"""Specification of tracechain.publish: a ledger published as a C2SP tlog-tiles folder, checked byte for byte by an
independent reader, by Go's sumdb/tlog over HTTP on 127.0.0.1, incrementally, and through interruptions."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ORIGIN
from tests.golang import build_go_program
from tests.published import grow, new_ledger, read_folder, serve
from tracechain import Ledger, SigningKey, verify
from tracechain.errors import PublishError
from tracechain.publish import MAX_BUNDLED_ENTRY, _entry_bundle, _Writer, entry_bundle_path, publish, tile_path

# --- paths -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "index", "width", "path"),
    [
        (0, 0, 256, "tile/0/000"),
        (0, 5, 256, "tile/0/005"),
        (2, 999, 256, "tile/2/999"),
        (0, 1000, 256, "tile/0/x001/000"),
        (0, 1234067, 256, "tile/0/x001/x234/067"),  # C2SP tlog-tiles' own example
        (1, 1234067, 112, "tile/1/x001/x234/067.p/112"),
        (63, 0, 1, "tile/63/000.p/1"),
    ],
)
def test_tile_paths_follow_c2sp(level: int, index: int, width: int, path: str) -> None:
    assert tile_path(level, index, width) == path
    assert entry_bundle_path(index, width) == path.replace(f"tile/{level}/", "tile/entries/", 1)


@pytest.mark.parametrize(
    ("level", "index", "width"), [(64, 0, 256), (-1, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)]
)
def test_impossible_tile_paths_are_refused(level: int, index: int, width: int) -> None:
    with pytest.raises(PublishError):
        tile_path(level, index, width)


# --- a published folder ------------------------------------------------------------------------------------


def _ledger(tmp_path: Path, operator: SigningKey, actor: SigningKey, events: int) -> Path:
    path = tmp_path / "ledger.db"
    with new_ledger(path, operator, actor) as ledger:
        grow(ledger, actor, events)
        ledger.checkpoint(operator)
    return path


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every published file with its inode and modification time, to tell a rewrite from a file left alone."""
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and ".publish-tmp" not in p.parts
    }


def _stored_entries(path: Path) -> list[bytes]:
    conn = sqlite3.connect(path)
    try:
        return [bytes(r[0]) for r in conn.execute("SELECT data FROM entries ORDER BY idx")]
    finally:
        conn.close()


def test_a_published_folder_holds_exactly_c2sp_tiles_bundles_and_the_checkpoint(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    path = _ledger(tmp_path, operator_key, actor_key, 70_000 // 100)
    out = tmp_path / "pub"
    result = publish(path, out)
    with Ledger.open(str(path)) as ledger:
        note = ledger.checkpoints()[-1]
        size = ledger.size
    assert (result.size, result.previous_size, result.checkpoint) == (size, 0, note)
    assert (out / "checkpoint").read_text(encoding="utf-8") == note
    checkpoint, entries = read_folder(out, operator_key.verifier)
    assert checkpoint.size == size == len(entries)
    assert entries == _stored_entries(path)  # entry bytes exactly as stored
    full, width = divmod(size, 256)
    expected = {f"tile/0/{i:03d}" for i in range(full)} | {f"tile/entries/{i:03d}" for i in range(full)}
    expected |= {f"tile/0/{full:03d}.p/{width}", f"tile/entries/{full:03d}.p/{width}", "tile/1/000.p/2", "checkpoint"}
    assert set(_files(out)) == expected
    for i in range(full):
        assert (out / f"tile/0/{i:03d}").stat().st_size == 8192  # no inner rows: exactly 256 hashes
    assert (result.tiles_written, result.bundles_written) == (full + 2, full + 1)


def test_publishing_again_is_incremental_and_re_running_writes_nothing(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    path = _ledger(tmp_path, operator_key, actor_key, 600)
    out = tmp_path / "pub"
    first = publish(path, out)
    before = _files(out)
    again = publish(path, out)
    assert (again.tiles_written, again.bundles_written, again.previous_size) == (0, 0, first.size)
    assert _files(out) == before
    with Ledger.open(str(path)) as ledger:
        grow(ledger, actor_key, 700, start=600)
        ledger.checkpoint(operator_key)
    second = publish(path, out)
    after = _files(out)
    assert second.previous_size == first.size and second.size > first.size
    # Full tiles and bundles published before are the same files, untouched; old partial tiles stay for readers
    # that still hold the old checkpoint.
    for name, stamp in before.items():
        if name != "checkpoint":
            assert after[name] == stamp, name
    assert read_folder(out, operator_key.verifier)[0].size == second.size
    new_full = {n for n in set(after) - set(before) if ".p/" not in n and n.startswith("tile/0/")}
    assert new_full == {f"tile/0/{i:03d}" for i in range(first.size // 256, second.size // 256)}


def test_a_ledger_without_a_checkpoint_is_not_published(tmp_path: Path, ledger: Ledger) -> None:
    ledger.close()
    with pytest.raises(PublishError, match="no checkpoint"):
        publish(ledger.path, tmp_path / "pub")
    assert not (tmp_path / "pub" / "checkpoint").exists()


def _backup(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def test_a_folder_is_never_rolled_back_or_forked(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    path = _ledger(tmp_path, operator_key, actor_key, 300)
    old, fork = tmp_path / "old.db", tmp_path / "fork.db"
    _backup(path, old)
    _backup(path, fork)
    with Ledger.open(str(path)) as ledger:
        grow(ledger, actor_key, 300, start=300)
        ledger.checkpoint(operator_key)
    with Ledger.open(str(fork)) as ledger:
        grow(ledger, actor_key, 400, start=5_000)  # other events: another history past the common prefix
        ledger.checkpoint(operator_key)
    out = tmp_path / "pub"
    published = publish(path, out)
    snapshot = {n: (out / n).read_bytes() for n in _files(out)}
    with pytest.raises(PublishError, match="roll the published log back"):
        publish(old, out)
    with pytest.raises(PublishError, match="forked"):
        publish(fork, out)
    assert {n: (out / n).read_bytes() for n in _files(out)} == snapshot
    assert read_folder(out, operator_key.verifier)[0].size == published.size


def test_a_folder_of_another_log_is_refused(tmp_path: Path, actor_key: SigningKey) -> None:
    first_key, other_key = SigningKey.generate(ORIGIN), SigningKey.generate("other.example/log")
    path = _ledger(tmp_path, first_key, actor_key, 10)
    other = tmp_path / "other.db"
    with Ledger.create(str(other), "other.example/log", other_key, "91350100M000100Y43") as led:
        led.checkpoint(other_key)
    out = tmp_path / "pub"
    publish(other, out)
    with pytest.raises(PublishError, match=r"other\.example/log"):
        publish(path, out)


def test_a_damaged_stored_tile_is_found_and_no_checkpoint_is_published(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    path = _ledger(tmp_path, operator_key, actor_key, 600)
    conn = sqlite3.connect(path)
    blob = bytearray(conn.execute("SELECT hashes FROM tiles WHERE level = 0 AND idx = 1").fetchone()[0])
    blob[40] ^= 1
    conn.execute("UPDATE tiles SET hashes = ? WHERE level = 0 AND idx = 1", (bytes(blob),))
    conn.commit()
    conn.close()
    out = tmp_path / "pub"
    with pytest.raises(PublishError, match="entry 257"):
        publish(path, out)
    assert not (out / "checkpoint").exists()


class _OneEntryStore:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def iter_entries(self, start: int = 0, end: int | None = None) -> list[tuple[int, bytes]]:
        return [(0, self.data)]


def test_an_entry_too_long_for_an_entry_bundle_is_refused_by_index() -> None:
    import hashlib

    for size, ok in ((MAX_BUNDLED_ENTRY, True), (MAX_BUNDLED_ENTRY + 1, False)):
        data = b"\x00" * size
        leaf = hashlib.sha256(b"\x00" + data).digest()
        if ok:
            assert _entry_bundle(_OneEntryStore(data), 0, 1, leaf) == b"\xff\xff" + data  # type: ignore[arg-type]
        else:
            with pytest.raises(PublishError, match="entry 0 is 65536 bytes"):
                _entry_bundle(_OneEntryStore(data), 0, 1, leaf)  # type: ignore[arg-type]


# --- interruptions -----------------------------------------------------------------------------------------


class _StopError(Exception):
    """Stands for the process dying at a write: nothing after it runs."""


def _failing_after(
    allowed: int, original: Callable[[_Writer, str, bytes], None]
) -> Callable[[_Writer, str, bytes], None]:
    calls = 0

    def failing(self: _Writer, relative: str, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls > allowed:
            raise _StopError(relative)
        original(self, relative, data)

    return failing


def ledger_root(path: Path, size: int) -> bytes:
    with Ledger.open(str(path), readonly=True) as ledger:
        return ledger.root(size)


def _interrupted_publishes(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey, rounds: int
) -> dict[bool, int]:
    path = _ledger(tmp_path, operator_key, actor_key, 700)
    out = tmp_path / "pub"
    sizes = [publish(path, out).size]
    rng = random.Random(16)
    original = _Writer.write
    grown = 700
    outcomes = {True: 0, False: 0}
    for _ in range(rounds):
        with Ledger.open(str(path)) as ledger:
            grow(ledger, actor_key, rng.randint(1, 600), start=grown)
            grown += 600
            ledger.checkpoint(operator_key)
        _Writer.write = _failing_after(rng.randint(0, 8), original)  # type: ignore[method-assign]
        try:
            publish(path, out)
            stopped = False
        except _StopError:
            stopped = True
        finally:
            _Writer.write = original  # type: ignore[method-assign]
        size = read_folder(out, operator_key.verifier)[0].size
        with Ledger.open(str(path)) as ledger:
            newest = ledger.open_checkpoint(ledger.checkpoints()[-1]).size
        assert size == (sizes[-1] if stopped else newest)
        # tracechain's own reader agrees: the folder verifies in full, at the old size or the new one.
        report = verify(out)
        assert report.ok, report.problems
        assert report.size == size and report.root == ledger_root(path, size)
        outcomes[stopped] += 1
        sizes.append(size)
        # The next publish, not stopped, completes the interrupted one.
        assert publish(path, out).size == newest
        sizes.append(newest)
    return outcomes


def test_a_publish_stopped_at_any_write_leaves_a_log_valid_at_its_old_size(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    outcomes = _interrupted_publishes(tmp_path, operator_key, actor_key, rounds=12)
    assert outcomes[True] and outcomes[False]  # both stopped and finished publishes happened


# --- Go's sumdb/tlog reads the published folder over HTTP ---------------------------------------------------


def _go_reads(tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey, events: int, step: int) -> None:
    binary = build_go_program("tlogcheck", tmp_path)
    path = _ledger(tmp_path, operator_key, actor_key, events)
    out = tmp_path / "pub"
    result = publish(path, out)
    with serve(out) as url:
        run = subprocess.run(
            [str(binary), url, operator_key.verifier, str(step)],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    checkpoint, _ = read_folder(out, operator_key.verifier)
    assert summary["size"] == result.size == checkpoint.size
    assert summary["leaves"] == result.size
    assert summary["inclusion"] >= result.size // step
    assert summary["consistency"] == 4
    # A changed byte in any file makes Go refuse the log.
    victim = sorted(p for p in out.rglob("*") if p.is_file() and p.name[0] != "." and p.name != "checkpoint")[-3]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x10
    victim.write_bytes(bytes(data))
    refused = subprocess.run(
        [str(binary), str(out), operator_key.verifier, str(max(step, 97))],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert refused.returncode == 1, f"Go accepted a log with {victim} changed"


def test_go_tlog_tile_hash_reader_reads_a_published_ledger_over_http(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    _go_reads(tmp_path, operator_key, actor_key, 3_000, step=1)


@pytest.mark.slow
def test_go_proves_every_entry_of_a_70000_entry_published_ledger(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    _go_reads(tmp_path, operator_key, actor_key, 70_000, step=1)


def test_the_publish_command_publishes_and_says_what_it_wrote(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    from click.testing import CliRunner
    from tracechain.cli import cli

    path = _ledger(tmp_path, operator_key, actor_key, 300)
    out = tmp_path / "pub"
    first = CliRunner().invoke(cli, ["publish", str(path), str(out), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["size"] == read_folder(out, operator_key.verifier)[0].size
    again = CliRunner().invoke(cli, ["publish", str(path), str(out)])
    assert again.exit_code == 0
    assert "0 tiles and 0 entry bundles written" in again.output
