"""The tracechain command line: a thin mirror of the library, in the reader's language.

Each command opens what it needs, calls one library function and prints the result. `main` chooses the language
(``--lang``, else the environment's ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG``), translates the help, runs the
command, and turns every error into a message and one of the exit codes below; no traceback reaches the user.

Exit codes, the same for every command (README.md has the table):

- 0 `OK`: done; for a check, everything checked is as it should be.
- 1 `FAILED`: a check failed or the ledger refused: events that are not valid, a key that may not sign them, a
  ledger or proof that does not verify, a lookup that found nothing.
- 2 `USAGE`: the command cannot run as given: a bad option, a file missing, unreadable or not what it should be
  (a document to import that is not EPCIS JSON-LD), a wrong password, no password and no terminal to ask on.
- 3 `BUSY`: another program kept the ledger locked for longer than a write waits (a minute); try again.
- 130 `INTERRUPTED`: stopped by Ctrl-C; an append says how much landed, and running it again appends the rest.
"""

from __future__ import annotations

import sys

import click

from tracechain.errors import (
    AppendInterruptedError,
    CheckpointError,
    DocumentError,
    EncodingError,
    IdentifierError,
    KeyFileError,
    LedgerBusyError,
    LedgerFormatError,
    ProofError,
    PublishError,
    SignatureError,
    StorageError,
    TracechainError,
    ValidationError,
    VerificationError,
)
from tracechain.i18n import LANGUAGES, N_, gettext, language, speaking

from .app import cli
from .help import translated

__all__ = ["BUSY", "FAILED", "INTERRUPTED", "OK", "USAGE", "cli", "exit_code", "main"]

OK, FAILED, USAGE, BUSY, INTERRUPTED = 0, 1, 2, 3, 130

# What each family of library errors means, said in the reader's language before the library's own (English)
# diagnostics; the most specific class first.
_FRAMES: tuple[tuple[type[TracechainError], str], ...] = (
    (LedgerBusyError, N_("the ledger is busy: another program is writing to it")),
    (LedgerFormatError, N_("the file is not a ledger this tracechain can read")),
    (StorageError, N_("the ledger file cannot be used")),
    (KeyFileError, N_("the key file cannot be used")),
    (IdentifierError, N_("a code is not valid")),
    (DocumentError, N_("the file is not an EPCIS document tracechain can read")),
    (ValidationError, N_("the input is not valid")),
    (CheckpointError, N_("the checkpoint is not accepted")),
    (SignatureError, N_("a key or signature is not accepted")),
    (ProofError, N_("the proof does not verify")),
    (VerificationError, N_("the ledger does not verify")),
    (EncodingError, N_("stored bytes are not in tracechain's encoding")),
)


def exit_code(error: TracechainError) -> int:
    """The exit code for a library error (see the module docstring)."""
    if isinstance(error, AppendInterruptedError):
        return INTERRUPTED
    if isinstance(error, LedgerBusyError):
        return BUSY
    if isinstance(error, (KeyFileError, StorageError, PublishError, DocumentError)):
        return USAGE
    return FAILED


def _frame(error: TracechainError) -> str:
    detail = error.diagnostics()
    if language() == "en":  # the library speaks English already; a heading would only repeat it
        return gettext("error: {detail}").format(detail=detail)
    heading = next((text for kind, text in _FRAMES if isinstance(error, kind)), N_("the command failed"))
    return gettext("error: {heading}").format(heading=gettext(heading)) + "\n  " + detail.replace("\n", "\n  ")


def _requested_language(args: list[str]) -> str | None:
    """The value of a ``--lang`` option anywhere on the command line, read before click parses anything so that
    the help and the errors of the parse itself are in that language too."""
    for position, arg in enumerate(args):
        if arg == "--":
            break
        value = None
        if arg == "--lang" and position + 1 < len(args):
            value = args[position + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        if value is not None:
            return value if value in LANGUAGES else None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 done, 1 a check failed, 2 usage, 3 busy, 130 interrupted)."""
    args = list(sys.argv[1:] if argv is None else argv)
    with speaking(_requested_language(args)), translated(cli):
        return _run(args)


def _run(args: list[str]) -> int:
    try:
        code = cli.main(args=args, prog_name="tracechain", standalone_mode=False)
    except click.exceptions.Abort as e:
        # click turns Ctrl-C at a prompt into Abort: that is an interruption; end of input is a usage error.
        if isinstance(e.__context__, KeyboardInterrupt):
            click.echo(gettext("interrupted"), err=True)
            return INTERRUPTED
        click.echo(gettext("aborted: no answer to the prompt (end of input)"), err=True)
        return USAGE
    except click.ClickException as e:
        e.show()
        return USAGE if isinstance(e, click.UsageError) else e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except AppendInterruptedError as e:
        click.echo(str(e), err=True)
        return INTERRUPTED
    except TracechainError as e:
        click.echo(_frame(e), err=True)
        return exit_code(e)
    except KeyboardInterrupt:
        click.echo(gettext("interrupted"), err=True)
        return INTERRUPTED
    except BrokenPipeError:
        return OK
    return code if isinstance(code, int) else OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
