"""Appends are safe to retry: an event already in the ledger is recognised, and an interrupted append of a long
input reports what landed and finishes on a rerun (issue 10.2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

import tracechain
from tests.conftest import ACTOR_USCC, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import AppendInterruptedError, ValidationError
from tracechain.ingest import append_stream


def test_an_event_already_in_the_ledger_is_skipped_and_its_index_given(ledger: Ledger, actor_key: SigningKey) -> None:
    first = ledger.append_many([make_event(i) for i in range(5)], actor_key)
    again = ledger.append_many([make_event(i) for i in range(3, 8)], actor_key)
    assert again.count == 3 and again.existing == (first.first + 3, first.first + 4)
    assert again.skipped == 2
    assert ledger.append(make_event(0), actor_key) == first.first  # the index it already had
    assert sorted(e.index for e in ledger.entries(make_event(4)["epcList"][0])) == [first.first + 4]
    assert tracechain.verify(ledger.path).ok


def test_the_same_event_twice_in_one_batch_is_recorded_once(ledger: Ledger, actor_key: SigningKey) -> None:
    receipt = ledger.append_many([make_event(1), make_event(2), make_event(1)], actor_key)
    assert receipt.count == 2


def test_a_batch_of_only_recorded_events_writes_nothing(ledger: Ledger, actor_key: SigningKey) -> None:
    ledger.append_many([make_event(1)], actor_key)
    size = ledger.size
    receipt = ledger.append_many([make_event(1)], actor_key)
    assert (receipt.count, receipt.seal_index, ledger.size) == (0, None, size)


def test_refuse_writes_nothing_and_allow_records_again(ledger: Ledger, actor_key: SigningKey) -> None:
    ledger.append_many([make_event(1)], actor_key)
    size = ledger.size
    with pytest.raises(ValidationError, match="already in the ledger"):
        ledger.append_many([make_event(2), make_event(1)], actor_key, duplicates="refuse")
    assert ledger.size == size
    receipt = ledger.append_many([make_event(1)], actor_key, duplicates="allow")
    assert receipt.count == 1
    assert len(list(ledger.entries(make_event(1)["epcList"][0]))) == 2
    with pytest.raises(ValidationError, match="duplicates must be one of"):
        ledger.append_many([make_event(3)], actor_key, duplicates="sometimes")


def test_a_digest_collision_is_not_taken_for_the_same_event(
    ledger: Ledger, actor_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digests are 64 bits: a match is confirmed against the stored bytes before an event counts as recorded."""
    from tracechain import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "event_digest", lambda event: 42)
    ledger.append_many([make_event(1)], actor_key)
    receipt = ledger.append_many([make_event(2, eventTime=make_event(1)["eventTime"])], actor_key)  # same key
    assert receipt.count == 1 and not receipt.existing


def test_append_stream_validates_everything_before_writing(ledger: Ledger, actor_key: SigningKey) -> None:
    records = [(1, make_event(1)), (2, make_event(2, eventTime="yesterday")), (3, make_event(3))]
    size = ledger.size
    with pytest.raises(ValidationError, match="1 of 3 events invalid") as caught:
        append_stream(ledger, records, actor_key, batch_size=1)
    assert ledger.size == size
    assert any(path.startswith("2: $.eventTime") for path, _ in caught.value.problems)


def test_append_stream_memory_does_not_grow_with_the_input(ledger: Ledger, actor_key: SigningKey) -> None:
    """Events are spooled to disk between validation and writing: peak memory is per batch, not per input."""

    def peak(n: int, offset: int) -> int:
        tracemalloc.start()
        append_stream(ledger, ((i, make_event(offset + i)) for i in range(n)), actor_key, batch_size=500)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(1_000, 0), peak(8_000, 10_000)
    assert large < 2 * small, (small, large)


def test_an_interruption_says_what_landed_and_a_rerun_appends_the_rest(
    ledger: Ledger, actor_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = Ledger.append_many

    def interrupted_on_third(self: Ledger, *args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    records = [(line, make_event(line)) for line in range(1, 51)]
    monkeypatch.setattr(Ledger, "append_many", interrupted_on_third)
    with pytest.raises(AppendInterruptedError, match="20 of 50 events are in the ledger") as caught:
        append_stream(ledger, records, actor_key, batch_size=10)
    assert caught.value.result.through == 20  # type: ignore[attr-defined]
    monkeypatch.undo()
    result = append_stream(ledger, records, actor_key, batch_size=10)
    assert (result.appended, result.skipped) == (30, 20)
    assert tracechain.verify(ledger.path).ok


# --- the command line, interrupted for real -------------------------------------------------------------------------

PASSWORD = "retry test password"
LONG = os.environ.get("TRACECHAIN_LONG") == "1"


def _cli(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    exe = Path(sys.executable).parent / "tracechain"
    env = {**os.environ, "TRACECHAIN_PASSWORD": PASSWORD}
    return subprocess.Popen([str(exe), *args], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def long_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("retry") / "events.jsonl"
    with path.open("w") as f:
        for i in range(200_000 if LONG else 20_000):
            f.write(json.dumps(make_event(i), ensure_ascii=False) + "\n")
    return path


def _new_ledger(folder: Path) -> tuple[Path, Path]:
    operator, plant = SigningKey.generate(ORIGIN), SigningKey.generate("plant.example.cn")
    plant.save(folder / "plant.key", PASSWORD)
    with Ledger.create(folder / "l.db", ORIGIN, operator, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, operator)
    return folder / "l.db", folder / "plant.key"


def _every_event_once(path: Path, count: int) -> None:
    report = tracechain.verify(path)
    assert report.ok, report.problems[:3]
    with Ledger.open(path, readonly=True) as led:
        codes = Counter(c for e in led.entries() if e.kind == "event" for c in e.event.item_codes())  # type: ignore[union-attr]
    assert len(codes) == count and set(codes.values()) == {1}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_cli_append_stopped_at_a_random_moment_then_run_again_holds_every_event_once(
    tmp_path: Path, long_input: Path, sig: signal.Signals
) -> None:
    ledger, key = _new_ledger(tmp_path)
    with long_input.open() as f:
        count = sum(1 for _ in f)
    args = ("append", str(ledger), str(long_input), "--key", str(key), "--batch-size", "2000")
    process = _cli(*args)
    time.sleep(1.0 + (os.getpid() % 7) / 3)  # a moment inside validation or writing, not the same every run
    process.send_signal(sig)
    _out, err = process.communicate(timeout=300)
    assert "Traceback" not in err
    if sig == signal.SIGINT and process.returncode == 130:
        # Interrupted while writing: what landed is said. While checking the input: nothing was written. Before
        # the command started (Python still importing): only "interrupted", and nothing was written either.
        landed = "events are in the ledger" in err and "run the same command again" in err
        before = "no events are in the ledger yet" in err or err.strip() in ("interrupted", "已中断")
        assert landed or before, err
        if before:
            with Ledger.open(ledger, readonly=True) as led:
                assert not any(e.kind == "event" for e in led.entries())
    rerun = _cli(*args)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    assert "appended" in out
    _every_event_once(ledger, count)


def test_ctrl_c_during_a_multi_worker_verify_exits_130_without_worker_tracebacks(tmp_path: Path) -> None:
    ledger, key = _new_ledger(tmp_path)
    plant = SigningKey.load(key, PASSWORD)
    with Ledger.open(ledger) as led:
        for start in range(0, 150_000, 10_000):
            led.append_many([make_event(i) for i in range(start, start + 10_000)], plant)
    process = _cli("verify", str(ledger), "--workers", "2")
    deadline = time.monotonic() + 60
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    while time.monotonic() < deadline and process.poll() is None and not children.read_text().split():
        time.sleep(0.05)  # until the worker processes exist: the spans are being scanned
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    if process.returncode == 0:  # finished before the signal on a fast machine: nothing to judge
        pytest.skip("verify finished before Ctrl-C arrived")
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err


def test_an_interruption_while_the_input_is_checked_writes_nothing(ledger: Ledger, actor_key: SigningKey) -> None:
    def records() -> object:
        yield 1, make_event(1)
        raise KeyboardInterrupt

    size = ledger.size
    with pytest.raises(AppendInterruptedError, match="nothing was appended"):
        append_stream(ledger, records(), actor_key)  # type: ignore[arg-type]
    assert ledger.size == size
