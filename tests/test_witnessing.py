"""Witnessing from the log's side and the quorum policy of verify: `tracechain checkpoint --witness` against real
witness servers on 127.0.0.1 stores the cosigned checkpoint, and `verify --witness A --witness B --quorum 2` passes
with both witnesses' cosignatures and fails with one — for a ledger file and for its published folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tracechain.cli import main

from tests.conftest import ORIGIN
from tests.published import grow, new_ledger
from tests.test_witness import W1, W2, W3
from tests.test_witness_http import PASSWORD, _save, running_witness
from tracechain import Ledger, SigningKey, verify
from tracechain.errors import CheckpointError, QuorumError, SignatureError, WitnessError
from tracechain.notes import NoteSignature, parse_note
from tracechain.publish import publish
from tracechain.witness import CosignerKey, WitnessEndpoint, cosign, parse_witness
from tracechain.witness_client import witness_checkpoint

A, B, C = (str(CosignerKey.of(w)) for w in (W1, W2, W3))


@pytest.fixture
def setup(tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey) -> Iterator[dict[str, Path]]:
    """A ledger of 300 events and its operator key file (TRACECHAIN_PASSWORD set for the CLI)."""
    path = tmp_path / "ledger.db"
    with new_ledger(path, operator_key, actor_key) as ledger:
        grow(ledger, actor_key, 300)
    key_file = tmp_path / "operator.key"
    _save(operator_key, key_file)
    old = os.environ.get("TRACECHAIN_PASSWORD")
    os.environ["TRACECHAIN_PASSWORD"] = PASSWORD
    yield {"ledger": path, "key": key_file}
    if old is None:
        del os.environ["TRACECHAIN_PASSWORD"]
    else:
        os.environ["TRACECHAIN_PASSWORD"] = old


@pytest.fixture
def witnesses(tmp_path: Path, operator_key: SigningKey) -> Iterator[tuple[str, str]]:
    """Two witnesses, W1 and W2, served by `tracechain witness serve` for the test ledger; their URLs."""
    with running_witness(tmp_path, W1, operator_key) as one, running_witness(tmp_path, W2, operator_key) as two:
        yield one, two


def _verify(*args: str) -> tuple[int, dict[str, object]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", *args, "--json"])
    return code, json.loads(out.getvalue())


def test_verify_with_a_quorum_of_two_passes_with_two_cosignatures_and_fails_with_one(
    setup: dict[str, Path],
    witnesses: tuple[str, str],
    operator_key: SigningKey,
    actor_key: SigningKey,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = str(setup["ledger"])
    one, two = witnesses
    code = main(
        ["checkpoint", ledger, "--key", str(setup["key"]), "--witness", f"{A} {one}", "--witness", f"{B} {two}"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"witness {W1.name} cosigned" in err and f"witness {W2.name} cosigned" in err
    _text, signatures = parse_note(out)
    assert [s.name for s in signatures] == [ORIGIN, W1.name, W2.name]
    with Ledger.open(ledger, readonly=True) as led:
        assert led.checkpoints()[-1] == out  # stored cosigned, in place of the bare checkpoint
        assert led.open_checkpoint(out).size == led.size
    policy = ["--witness", A, "--witness", B, "--quorum", "2"]
    code, report = _verify(ledger, *policy)
    assert code == 0 and report["ok"], report
    assert main(["verify", ledger, *policy]) == 0
    assert "cosigned by 2 of 2 named witnesses" in capsys.readouterr().out
    publish(ledger, setup["ledger"].with_name("pub"))
    assert _verify(str(setup["ledger"].with_name("pub")), *policy)[0] == 0

    # The log grows; this time only W1 is asked to cosign.
    with Ledger.open(ledger) as led:
        grow(led, actor_key, 50, start=1_000)
    code = main(["checkpoint", ledger, "--key", str(setup["key"]), "--witness", f"{A} {one}"])
    assert code == 0
    capsys.readouterr()
    code, report = _verify(ledger, *policy)
    assert code == 1 and not report["ok"]
    problems = report["problems"]
    assert isinstance(problems, list) and len(problems) == 1
    assert "lacks its witness quorum (2 of 2 named witnesses)" in problems[0]["message"]
    assert f"missing: {W2.name}" in problems[0]["message"]
    assert _verify(ledger, "--witness", A, "--witness", B, "--quorum", "1")[0] == 0
    assert _verify(ledger)[0] == 0  # without a policy, cosignature lines are passed over
    # The older stored checkpoint still carries both; it is the newest one that vouches for the log.
    with Ledger.open(ledger, readonly=True) as led:
        first, newest = led.checkpoints()
    assert len(parse_note(first)[1]) == 3 and len(parse_note(newest)[1]) == 2

    # A checkpoint held by the verifier must carry the quorum too.
    held = setup["ledger"].with_name("held.txt")
    held.write_text(first)
    assert _verify(ledger, "--checkpoint", str(held), "--witness", A, "--quorum", "1")[0] == 0
    bare = first.split("\n\n")[0] + "\n\n" + parse_note(first)[1][0].to_line()
    held.write_text(bare)
    code, report = _verify(ledger, "--checkpoint", str(held), "--witness", A, "--quorum", "1")
    assert code == 1 and "a held checkpoint (size" in json.dumps(report)


def test_witnesses_kept_in_the_ledger_are_asked_and_only_those_not_yet_cosigned(
    setup: dict[str, Path], witnesses: tuple[str, str], operator_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = str(setup["ledger"])
    one, two = witnesses
    assert main(["witnesses", ledger, "--add", f"{A} {one}", "--add", f"{B} http://127.0.0.1:9/"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{A} {one}", f"{B} http://127.0.0.1:9/"]
    # W2 is listed at a port where nothing answers: the checkpoint is stored with W1's cosignature, exit 1.
    assert main(["checkpoint", ledger, "--key", str(setup["key"])]) == 1
    out, err = capsys.readouterr()
    assert f"witness {W2.name} (http://127.0.0.1:9/) did not cosign" in err
    assert [s.name for s in parse_note(out)[1]] == [ORIGIN, W1.name]
    assert main(["witnesses", ledger, "--remove", W2.name, "--add", f"{B} {two}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"key": A, "url": one}, {"key": B, "url": two}]
    # Run again at the same size: W1 is not asked again (its line is kept as it was), W2 cosigns now.
    assert main(["checkpoint", ledger, "--key", str(setup["key"])]) == 0
    again, _ = capsys.readouterr()
    assert again.startswith(out)
    assert [s.name for s in parse_note(again)[1]] == [ORIGIN, W1.name, W2.name]
    # Signing the same checkpoint again without witnesses keeps the cosignatures stored with it.
    with Ledger.open(ledger) as led:
        led.set_witnesses([])
        assert led.checkpoint(operator_key) == again
        assert witness_checkpoint(led, operator_key).note == again


def test_a_witness_list_entry_is_a_key_and_an_http_url() -> None:
    endpoint = parse_witness(f"{A}   https://witness.example/w1")
    assert endpoint == WitnessEndpoint("https://witness.example/w1", CosignerKey.of(W1))
    assert str(endpoint) == f"{A} https://witness.example/w1"
    for bad in (A, f"{A} ftp://witness.example", f"{A} https://x y", f"{W1.name}+00000000+AAAA https://w.example"):
        with pytest.raises(WitnessError):
            parse_witness(bad)


def test_stored_cosignatures_must_verify_and_cosign_the_stored_checkpoint(
    setup: dict[str, Path], operator_key: SigningKey
) -> None:
    with Ledger.open(str(setup["ledger"])) as led:
        note = led.checkpoint(operator_key)
        text = parse_note(note)[0]
        good = cosign(text, W1, 1_700_000_000)
        assert led.add_cosignatures(note + good, [CosignerKey.of(W1)]) == note + good
        # A line under W2's name and key ID whose signature is W3's: named, so it must verify; nothing stored.
        forged = NoteSignature(
            W2.name, CosignerKey.of(W2).key_id, parse_note(note + cosign(text, W3, 1))[1][1].signature
        )
        with pytest.raises(SignatureError):
            led.add_cosignatures(note + forged.to_line(), [CosignerKey.of(W2)])
        # Lines by keys not named are left out.
        assert led.add_cosignatures(note + cosign(text, W3, 5), [CosignerKey.of(W2)]) == note + good
        assert led.checkpoints()[-1] == note + good
        # A cosigned note whose text is not the one stored at its size is refused.
        led.register(SigningKey.generate("plant9.example.cn").verifier, "91350100M000100Y43", operator_key)
        newer = led.checkpoint(operator_key)
        led._store.add_checkpoint(led.size, note)  # as if another checkpoint were filed under this size
        with pytest.raises(CheckpointError, match="no checkpoint of size"):
            led.add_cosignatures(newer + cosign(parse_note(newer)[0], W1, 9), [CosignerKey.of(W1)])
        assert led.checkpoints()[-1] == note


def test_a_forged_cosignature_or_no_checkpoint_fails_the_policy(
    setup: dict[str, Path], operator_key: SigningKey
) -> None:
    ledger = setup["ledger"]
    report = verify(ledger, witnesses=[A], quorum=1)
    assert not report.ok and "holds no checkpoint" in report.problems[0].message
    with Ledger.open(str(ledger)) as led:
        note = led.checkpoint(operator_key)
        text = parse_note(note)[0]
        wrong = NoteSignature(W1.name, CosignerKey.of(W1).key_id, bytes(72))
        led._store.add_checkpoint(led.size, note + wrong.to_line())  # as an attacker editing the file would
    report = verify(ledger, witnesses=[A, B], quorum=1)
    assert not report.ok and "cosignature that fails" in report.problems[0].message
    with Ledger.open(str(ledger)) as led:
        led._store.add_checkpoint(led.size, note + cosign(text, W2, 7))
    assert verify(ledger, witnesses=[A, B], quorum=1).ok
    assert not verify(ledger, witnesses=[A, B]).ok  # the quorum defaults to every witness named


@pytest.mark.parametrize(
    ("witnesses", "quorum", "error"),
    [
        ([], 1, QuorumError),
        ([A], 2, QuorumError),
        ([A], 0, QuorumError),
        ([A, A], 1, QuorumError),
        (["x"], 1, SignatureError),
    ],
)
def test_a_policy_that_cannot_be_met_is_refused_before_anything_is_read(
    tmp_path: Path, witnesses: list[str], quorum: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        verify(tmp_path / "absent.db", witnesses=witnesses, quorum=quorum)


def test_the_verify_command_refuses_a_bad_policy_as_a_usage_error(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(setup["ledger"]), "--witness", A, "--quorum", "2"]) == 2
    assert "--quorum" in capsys.readouterr().err
    assert main(["verify", str(setup["ledger"]), "--quorum", "1"]) == 2
    assert main(["verify", str(setup["ledger"]), "--witness", "not-a-key"]) == 2
    assert main(["checkpoint", str(setup["ledger"]), "--key", str(setup["key"]), "--witness", A]) == 2
    assert "--witness" in capsys.readouterr().err
