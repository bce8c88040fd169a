"""Commands for keys: make one, show one again, register one in a ledger, revoke one, delegate."""

from __future__ import annotations

import os

import click

from tracechain.i18n import gettext as _

from .common import InputFile, emit, labelled, load_key, password, uscc, verifier, waiting_said

VERIFIER_HELP = (
    "The key: its verifier key string (NAME+KEYID+KEY), a verifier file holding one, or its key file"
    " (read without its password when the file states its public key)."
)


@click.command()
@click.argument("name", help="The key's name: the ledger's origin for an operator key, else e.g. your domain.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Key file to create (mode 0600).")
@click.option(
    "--verifier-out",
    type=click.Path(dir_okay=False),
    help="Also write the verifier key to this file, to hand to the ledger operator or whoever checks signatures.",
)
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"file", "name", "key_id", "verifier"}.')
def keygen(name: str, out: str, verifier_out: str | None, as_json: bool) -> None:
    """Create an Ed25519 key named NAME, saved encrypted; prints its name, key ID and verifier key.

    A ledger operator's key must be named by the ledger's origin. The verifier key is public: give it (or the
    --verifier-out file) to the ledger operator, who registers it. `tracechain key show FILE` prints it again.
    """
    from tracechain.keys import SigningKey

    if verifier_out is not None and os.path.lexists(verifier_out):
        raise click.BadParameter(_("{path}: exists already").format(path=verifier_out), param_hint="--verifier-out")
    key = SigningKey.generate(name)
    key.save(out, password(out, confirm=True))
    if verifier_out is not None:
        with open(verifier_out, "x", encoding="utf-8") as f:
            f.write(key.verifier + "\n")
    if as_json:
        emit({"file": out, "name": key.name, "key_id": key.key_id.hex(), "verifier": key.verifier})
        return
    rows = [
        (_("key file"), _("{path} (encrypted, mode 0600)").format(path=out)),
        (_("name"), key.name),
        (_("key ID"), key.key_id.hex()),
        (_("verifier"), key.verifier),
    ]
    if verifier_out is not None:
        rows.append((_("verifier file"), verifier_out))
    labelled(rows)


@click.group()
def key() -> None:
    """Keys and verifier keys already made."""


@key.command("show")
@click.argument("file", type=InputFile(), help="A key file (tracechain keygen) or a verifier file.")
@click.option("--check", is_flag=True, help="Open a key file with its password and confirm the key it holds.")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"file", "kind", "name", "key_id", …}.')
def key_show(file: str, check: bool, as_json: bool) -> None:
    """Print the name, key ID and verifier key of a key file or a verifier file, labelled.

    A key file states its public key, so no password is needed, except with --check or for a key file written
    before that line existed.
    """
    from tracechain.errors import KeyFileError
    from tracechain.keys import SigningKey, read_key_file_header, verifier_from_file

    try:
        with open(file, "rb") as f:
            is_key_file = f.read(21) == b"tracechain-key-name: "
        if not is_key_file:
            vk, kind, checked = verifier_from_file(file), "verifier", False
        else:
            _name, vk_or_none = read_key_file_header(file)
            if check or vk_or_none is None:
                vk, checked = SigningKey.load(file, password(file)).verifier_key, True
            else:
                vk, checked = vk_or_none, False
            kind = "key"
    except KeyFileError as e:
        raise click.BadParameter(str(e), param_hint="FILE") from e
    if as_json:
        emit(
            {
                "file": file,
                "kind": kind,
                "name": vk.name,
                "key_id": vk.key_id.hex(),
                "verifier": str(vk),
                "public_key": vk.public_bytes.hex(),
                "checked": checked,
            }
        )
        return
    what = _("key file") if kind == "key" else _("verifier file")
    rows = [
        (what, file),
        (_("name"), vk.name),
        (_("key ID"), vk.key_id.hex()),
        (_("verifier"), str(vk)),
        (_("public key"), vk.public_bytes.hex()),
    ]
    if kind == "key":
        rows.append(
            (
                _("checked"),
                _("yes: the password opened the key, and it is this key")
                if checked
                else _("no: read from the file's public key line (--check opens the key)"),
            )
        )
    labelled(rows)


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.argument("key_to_register", metavar="VERIFIER", help=VERIFIER_HELP)
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
@click.option("--actor", required=True, help="The key holder's Unified Social Credit Code (统一社会信用代码).")
@click.option("--operator", is_flag=True, help="Register an operator key (may sign checkpoints and keys).")
def register(ledger: str, key_to_register: str, key_path: str, actor: str, operator: bool) -> None:
    """Register an actor's key VERIFIER in LEDGER. A second key for an actor is a rotation."""
    from tracechain import Ledger

    actor = uscc(actor, "--actor")
    vk = verifier(key_to_register)
    with waiting_said(), Ledger.open(ledger) as led:
        index = led.register(vk, actor, load_key(key_path), role="operator" if operator else "actor")
    click.echo(
        _("registered {name} ({key_id}) for {actor} at entry {index}").format(
            name=vk.name, key_id=vk.key_id.hex(), actor=actor, index=index
        )
    )


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.argument("key_to_revoke", metavar="VERIFIER", help=VERIFIER_HELP)
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
def revoke(ledger: str, key_to_revoke: str, key_path: str) -> None:
    """Revoke the key VERIFIER: it signs nothing after this batch; its batches up to here stay valid.

    To rotate an operator key, register the new one with --operator first, then revoke the old one.
    """
    from tracechain import Ledger

    vk = verifier(key_to_revoke)
    with waiting_said(), Ledger.open(ledger) as led:
        index = led.revoke(vk, load_key(key_path))
    click.echo(
        _("revoked {name} ({key_id}) at entry {index}").format(name=vk.name, key_id=vk.key_id.hex(), index=index)
    )


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.option("--agent", required=True, help="USCC of the actor that will record events on another's behalf.")
@click.option("--for", "principal", required=True, help="USCC of the enterprise the agent may record for.")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
@click.option("--withdraw", is_flag=True, help="End the delegation instead of granting it.")
def delegate(ledger: str, agent: str, principal: str, key_path: str, withdraw: bool) -> None:
    """Let --agent record events for the enterprise --for (a logistics provider or platform recording on a
    producer's behalf), from the next batch on; --withdraw ends it. Without one, events naming another
    enterprise's USCC are refused."""
    from tracechain import Ledger

    agent, principal = uscc(agent, "--agent"), uscc(principal, "--for")
    with waiting_said(), Ledger.open(ledger) as led:
        index = led.delegate(agent, principal, load_key(key_path), withdraw=withdraw)
    message = (
        _("withdrawn at entry {index}: {agent} for {principal}")
        if withdraw
        else _("delegated at entry {index}: {agent} for {principal}")
    )
    click.echo(message.format(index=index, agent=agent, principal=principal))


COMMANDS = [keygen, key, register, revoke, delegate]
