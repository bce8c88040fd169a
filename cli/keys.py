"""Commands for keys: make one, register one in a ledger, revoke one."""

from __future__ import annotations

import click

from tracechain import Ledger, SigningKey

from .common import InputFile, load_key, password, uscc


@click.command()
@click.argument("name")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Key file to create (mode 0600).")
def keygen(name: str, out: str) -> None:
    """Create an Ed25519 key named NAME, saved encrypted; prints its verifier key.

    A ledger operator's key must be named by the ledger's origin.
    """
    key = SigningKey.generate(name)
    key.save(out, password(out, confirm=True))
    click.echo(key.verifier)


@click.command()
@click.argument("ledger", type=InputFile())
@click.argument("verifier")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
@click.option("--actor", required=True, help="The key holder's Unified Social Credit Code (统一社会信用代码).")
@click.option("--operator", is_flag=True, help="Register an operator key (may sign checkpoints and keys).")
def register(ledger: str, verifier: str, key_path: str, actor: str, operator: bool) -> None:
    """Register an actor's key VERIFIER (a C2SP verifier key string). A second key for an actor is a rotation."""
    actor = uscc(actor, "--actor")
    with Ledger.open(ledger) as led:
        index = led.register(verifier, actor, load_key(key_path), role="operator" if operator else "actor")
    click.echo(f"registered at entry {index}")


@click.command()
@click.argument("ledger", type=InputFile())
@click.argument("verifier")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
def revoke(ledger: str, verifier: str, key_path: str) -> None:
    """Revoke the key VERIFIER: it signs nothing after this batch; its batches up to here stay valid.

    To rotate an operator key, register the new one with --operator first, then revoke the old one.
    """
    with Ledger.open(ledger) as led:
        index = led.revoke(verifier, load_key(key_path))
    click.echo(f"revoked at entry {index}")


@click.command()
@click.argument("ledger", type=InputFile())
@click.option("--agent", required=True, help="USCC of the actor that will record events on another's behalf.")
@click.option("--for", "principal", required=True, help="USCC of the enterprise the agent may record for.")
@click.option("--key", "key_path", required=True, type=InputFile(), help="Operator key file.")
@click.option("--withdraw", is_flag=True, help="End the delegation instead of granting it.")
def delegate(ledger: str, agent: str, principal: str, key_path: str, withdraw: bool) -> None:
    """Let --agent record events for the enterprise --for (a logistics provider or platform recording on a
    producer's behalf), from the next batch on; --withdraw ends it. Without one, events naming another
    enterprise's USCC are refused."""
    agent, principal = uscc(agent, "--agent"), uscc(principal, "--for")
    with Ledger.open(ledger) as led:
        index = led.delegate(agent, principal, load_key(key_path), withdraw=withdraw)
    click.echo(f"{'withdrawn' if withdraw else 'delegated'} at entry {index}: {agent} for {principal}")


COMMANDS = [keygen, register, revoke, delegate]
