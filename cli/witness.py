"""`tracechain witness`: run a C2SP tlog-witness over HTTP, and print a witness key's cosigner verifier key."""

from __future__ import annotations

from pathlib import Path

import click

from tracechain.errors import WitnessError
from tracechain.i18n import gettext as _

from .common import InputFile
from .common import load_key as _load_key


@click.group()
def witness() -> None:
    """Witness other ledgers' checkpoints: cosign each one consistent with the last one cosigned."""


@witness.command("vkey")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Witness key.")
def vkey(key_path: str) -> None:
    """Print the witness's cosigner verifier key (type 0x04), the one logs and verifiers configure."""
    from tracechain.witness import CosignerKey

    click.echo(str(CosignerKey.of(_load_key(key_path))))


@witness.command("serve")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Witness key.")
@click.option(
    "--logs",
    "logs_path",
    required=True,
    type=InputFile(),
    help="The logs to witness: one '<origin> <verifier key>' per line.",
)
@click.option("--listen", default="127.0.0.1:7380", show_default=True, help="HOST:PORT to serve on.")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    help="The witness's state file (default: witness-state.json beside the logs file). Back it up.",
)
def serve(key_path: str, logs_path: str, listen: str, state_path: str | None) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) for the logs in --logs until interrupted."""
    from tracechain.witness import CosignerKey, Witness, parse_logs
    from tracechain.witness_server import parse_listen, serve_witness  # the HTTP server loads only to serve

    # A bad address or logs file is a usage error (exit 2), found before the key is unlocked.
    try:
        parse_listen(listen)
        logs = parse_logs(Path(logs_path).read_text(encoding="utf-8"), logs_path)
    except WitnessError as e:
        raise click.UsageError(str(e)) from e
    except (OSError, UnicodeDecodeError) as e:
        raise click.UsageError(
            _("cannot read the logs file {file}: {problem}").format(file=logs_path, problem=e)
        ) from e
    if not logs:
        raise click.UsageError(_("{file} lists no log to witness").format(file=logs_path))
    state = state_path or str(Path(logs_path).with_name("witness-state.json"))
    key = _load_key(key_path)
    try:
        running = Witness(key, logs, state)
    except WitnessError as e:
        raise click.UsageError(str(e)) from e
    click.echo(_("witness {key}").format(key=CosignerKey.of(key)), err=True)
    click.echo(
        _("witnessing {count} log(s); state in {file}; listening on {address}").format(
            count=len(logs), file=state, address=listen
        ),
        err=True,
    )
    serve_witness(running, listen)


COMMANDS = [witness]
