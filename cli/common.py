"""What every command shares: key passwords, key and verifier files, input files, JSON output, option values that
are usage errors when wrong, and how to write a command so that it can be pasted back into a shell."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from tracechain.i18n import gettext as _

if TYPE_CHECKING:
    from tracechain.checkpoints import Checkpoint
    from tracechain.keys import SigningKey, VerifierKey
    from tracechain.verification import WitnessPolicy
    from tracechain.witness import CosignerKey, WitnessEndpoint

PASSWORD_ENV = "TRACECHAIN_PASSWORD"
COMMAND_ENV = "TRACECHAIN_COMMAND"  # how hints spell the command, set by tasks.py: "python3 tasks.py tracechain"


def password(what: str, *, confirm: bool = False) -> str:
    """The key password: from TRACECHAIN_PASSWORD, else a prompt on a terminal; never an argument."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise click.UsageError(
            _("set {variable} or run on a terminal to be asked for the password of {what}").format(
                variable=PASSWORD_ENV, what=what
            )
        )
    return str(click.prompt(_("password for {what}").format(what=what), hide_input=True, confirmation_prompt=confirm))


def load_key(path: str) -> SigningKey:
    """The signing key in the key file at ``path`` (its password from `password`)."""
    from tracechain.keys import SigningKey

    return SigningKey.load(path, password(path))


def verifier(value: str, hint: str = "VERIFIER") -> VerifierKey:
    """A verifier key given as its string, a verifier file or a key file (whose password is asked for only if the
    file does not state its public key); anything else is a usage error naming ``hint``."""
    from tracechain.errors import KeyFileError, SignatureError
    from tracechain.keys import VerifierKey, verifier_from_file

    if os.path.lexists(value):
        try:
            return verifier_from_file(value, lambda: password(value))
        except KeyFileError as e:
            raise click.BadParameter(str(e), param_hint=hint) from e
    try:
        return VerifierKey.parse(value)
    except SignatureError as e:
        raise click.BadParameter(
            _("{value!r} is neither a file nor a verifier key string (NAME+KEYID+KEY): {problem}").format(
                value=value, problem=e
            ),
            param_hint=hint,
        ) from e


def cosigner(value: str, hint: str = "--witness") -> CosignerKey:
    """A witness's cosigner key given as its string (what ``tracechain witness vkey`` prints), a file holding one,
    or the witness's key file (its password asked for only if the file does not state its public key); anything
    else is a usage error naming ``hint``."""
    from tracechain.errors import KeyFileError, SignatureError
    from tracechain.witness import CosignerKey, cosigner_from_file

    if os.path.lexists(value):
        try:
            return cosigner_from_file(value, lambda: password(value))
        except KeyFileError as e:
            raise click.BadParameter(str(e), param_hint=hint) from e
    try:
        return CosignerKey.parse(value)
    except SignatureError as e:
        raise click.BadParameter(
            _("{value!r} is neither a file nor a witness cosigner key string (NAME+KEYID+KEY): {problem}").format(
                value=value, problem=e
            ),
            param_hint=hint,
        ) from e


def witness_policy(values: tuple[str, ...], quorum: int | None) -> WitnessPolicy | None:
    """The witness policy of ``--witness`` (cosigner keys, strings or files) and ``--quorum``: None when no witness
    is named; a quorum without witnesses, above their number, or a witness named twice is a usage error."""
    from tracechain.errors import TracechainError
    from tracechain.verification import WitnessPolicy

    keys = [cosigner(v, "--witness") for v in values]
    try:
        return WitnessPolicy.of(keys, quorum)
    except TracechainError as e:
        raise click.BadParameter(str(e), param_hint="--witness/--quorum") from e


def read_checkpoint(path: str, hint: str) -> tuple[str, Checkpoint]:
    """A checkpoint file's note and what it claims, unverified; a file that is not a checkpoint is a usage error."""
    from tracechain.checkpoints import parse_unverified
    from tracechain.errors import TracechainError

    with open(path, "rb") as f:
        data = f.read(1 << 20)
    try:
        note = data.decode("utf-8")
        return note, parse_unverified(note)
    except UnicodeDecodeError as e:
        raise click.BadParameter(
            _("{path}: not a checkpoint (not UTF-8 text)").format(path=path), param_hint=hint
        ) from e
    except TracechainError as e:
        raise click.BadParameter(
            _("{path}: not a checkpoint ({problem})").format(path=path, problem=e), param_hint=hint
        ) from e


def emit(value: Any) -> None:
    import json

    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def labelled(rows: list[tuple[str, str]], *, err: bool = False) -> None:
    """Print ``label  value`` lines, the values lined up whatever columns the (translated) labels take."""
    from .help import columns

    width = max((columns(label) for label, _ in rows), default=0) + 2
    for label, value in rows:
        click.echo(label + " " * (width - columns(label)) + value, err=err)


def uscc(value: str, option: str) -> str:
    """A USCC given as an option: a malformed one is a usage error, not a failed check."""
    from tracechain import identifiers
    from tracechain.errors import IdentifierError

    try:
        return identifiers.validate_uscc(value)
    except IdentifierError as e:
        raise click.BadParameter(str(e), param_hint=option) from e


def command_line(*args: str) -> str:
    """A tracechain command line as the user can paste it into this shell: the program spelled as
    ``$TRACECHAIN_COMMAND`` when set (tasks.py sets it), as ``tracechain`` when that is the program on PATH, else as
    the path of the program running now; then the arguments, quoted for the shell."""
    import shlex
    import shutil

    program = os.environ.get(COMMAND_ENV)
    if not program:
        running = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        found = shutil.which("tracechain")
        on_path = bool(found and os.path.exists(running) and os.path.samefile(found, running))
        program = shlex.quote(running) if os.path.basename(running) == "tracechain" and not on_path else "tracechain"
    return " ".join([program, *(shlex.quote(a) for a in args)])


class InputFile(click.ParamType[str, Any]):
    """A file to read: it must exist, be a regular file (not a folder, pipe or device, which could block) and be
    readable by its mode; ``-`` is standard input where allowed. The value is the path, unchanged."""

    name = "file"

    def __init__(self, *, allow_dash: bool = False) -> None:
        self.allow_dash = allow_dash

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        path = str(os.fspath(value))
        if path == "-" and self.allow_dash:
            return path
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self.fail(_("{path}: no such file").format(path=path), param, ctx)
        except OSError as e:
            self.fail(_("{path}: cannot be read ({reason})").format(path=path, reason=e.strerror), param, ctx)
        if stat.S_ISDIR(info.st_mode):
            self.fail(_("{path}: is a folder, not a file").format(path=path), param, ctx)
        if not stat.S_ISREG(info.st_mode):
            self.fail(_("{path}: is not a regular file (a pipe or device?)").format(path=path), param, ctx)
        # Checked by mode as well as by access(): as root, access() says yes to a file no one may read.
        if not info.st_mode & stat.S_IRUSR or not os.access(path, os.R_OK):
            self.fail(
                _("{path}: is not readable (mode {mode})").format(path=path, mode=f"{stat.S_IMODE(info.st_mode):04o}"),
                param,
                ctx,
            )
        return path


class LedgerLocation(InputFile):
    """A ledger file, or a published log: a folder holding a ``checkpoint`` (what `tracechain publish` writes) or an
    http(s) URL. A file is checked as `InputFile` checks it; a URL is taken as it is (what it serves is checked when
    it is read)."""

    name = "ledger or published log"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(os.fspath(value))
        if text[:8].lower().startswith(("http://", "https://")):
            return text
        if os.path.isdir(text):
            checkpoint = os.path.join(text, "checkpoint")
            if not os.path.isfile(checkpoint):
                self.fail(
                    f"{text}: is a folder without a checkpoint: neither a ledger file nor a published log", param, ctx
                )
            return text
        return super().convert(value, param, ctx)


def witnesses(values: tuple[str, ...], option: str) -> list[WitnessEndpoint]:
    """Witnesses given as '<cosigner key> <URL>' options: a malformed one, or one named twice, is a usage error."""
    from tracechain.errors import WitnessError
    from tracechain.witness import parse_witness

    try:
        chosen = [parse_witness(v) for v in values]
    except WitnessError as e:
        raise click.BadParameter(str(e), param_hint=option) from e
    if len({(w.key.name, w.key.key_id) for w in chosen}) != len(chosen):
        raise click.BadParameter(_("the same witness key is given twice"), param_hint=option)
    return chosen


@contextmanager
def waiting_said() -> Iterator[None]:
    """Inside the block, a write kept waiting by another writer says so on standard error."""
    from tracechain.storage import when_busy

    def say(location: str) -> None:
        click.echo(
            _(
                "waiting: another program is writing to {ledger}; this write goes on when it is done (up to a minute)"
            ).format(ledger=location),
            err=True,
        )

    with when_busy(say):
        yield
