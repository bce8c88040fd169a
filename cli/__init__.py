"""The tracechain command line: a thin mirror of the library.

Each command opens what it needs, calls one library function and prints the result. Errors are caught once, in
`main`: a tracechain error prints its diagnostics and exits 1 (a validation or verification failure) or 2 (a
usage problem: a missing or unreadable file, a key that cannot be opened); no traceback reaches the user.
"""

from __future__ import annotations

import sys

import click

from tracechain.errors import KeyFileError, LedgerFormatError, PublishError, StorageError, TracechainError

from .app import cli

__all__ = ["cli", "main"]

USAGE_ERRORS = (KeyFileError, LedgerFormatError, StorageError, PublishError)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 1 failed check, 2 usage error)."""
    try:
        code = cli.main(args=argv, prog_name="tracechain", standalone_mode=False)
    except click.exceptions.Abort as e:
        # click turns Ctrl-C at a prompt into Abort: that is an interruption (130); end of input is a usage error.
        if isinstance(e.__context__, KeyboardInterrupt):
            click.echo("interrupted", err=True)
            return 130
        click.echo("aborted: no answer to the prompt (end of input)", err=True)
        return 2
    except click.ClickException as e:
        e.show()
        return 2 if isinstance(e, click.UsageError) else e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except TracechainError as e:
        click.echo(f"error: {e.diagnostics()}", err=True)
        return 2 if isinstance(e, USAGE_ERRORS) else 1
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
