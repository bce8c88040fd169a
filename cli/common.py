"""What every command shares: key passwords, key files, input files, JSON output, and option values that are
usage errors when wrong."""

from __future__ import annotations

import json
import os
import stat
import sys
from typing import Any

import click

from tracechain import SigningKey, identifiers
from tracechain.errors import IdentifierError, WitnessError
from tracechain.witness import WitnessEndpoint, parse_witness

PASSWORD_ENV = "TRACECHAIN_PASSWORD"


def password(what: str, *, confirm: bool = False) -> str:
    """The key password: from TRACECHAIN_PASSWORD, else a prompt on a terminal; never an argument."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise click.UsageError(f"set {PASSWORD_ENV} or run on a terminal to be asked for the password of {what}")
    return str(click.prompt(f"password for {what}", hide_input=True, confirmation_prompt=confirm))


def load_key(path: str) -> SigningKey:
    """The signing key in the key file at ``path`` (its password from `password`)."""
    return SigningKey.load(path, password(path))


def emit(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def uscc(value: str, option: str) -> str:
    """A USCC given as an option: a malformed one is a usage error, not a failed check."""
    try:
        return identifiers.validate_uscc(value)
    except IdentifierError as e:
        raise click.BadParameter(str(e), param_hint=option) from e


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
            self.fail(f"{path}: no such file", param, ctx)
        except OSError as e:
            self.fail(f"{path}: cannot be read ({e.strerror})", param, ctx)
        if stat.S_ISDIR(info.st_mode):
            self.fail(f"{path}: is a folder, not a file", param, ctx)
        if not stat.S_ISREG(info.st_mode):
            self.fail(f"{path}: is not a regular file (a pipe or device?)", param, ctx)
        # Checked by mode as well as by access(): as root, access() says yes to a file no one may read.
        if not info.st_mode & stat.S_IRUSR or not os.access(path, os.R_OK):
            self.fail(f"{path}: is not readable (mode {stat.S_IMODE(info.st_mode):04o})", param, ctx)
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
    try:
        chosen = [parse_witness(v) for v in values]
    except WitnessError as e:
        raise click.BadParameter(str(e), param_hint=option) from e
    if len({(w.key.name, w.key.key_id) for w in chosen}) != len(chosen):
        raise click.BadParameter("the same witness key is given twice", param_hint=option)
    return chosen
