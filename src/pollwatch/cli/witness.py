"""``pollwatch witness serve``: the witness endpoint a second organisation runs for a log."""

from __future__ import annotations

from pathlib import Path

import typer

from pollwatch.cli._common import fail


def register(app: typer.Typer) -> None:
    wt = typer.Typer(
        help="Witness another organisation's evidence log: keep its newest checkpoint and refuse "
        "rewritten ones.",
        no_args_is_help=True,
    )

    @wt.command("serve")
    def serve_cmd(
        directory: Path = typer.Option(
            ..., "--dir", help="The witness's state (held checkpoints, refusals, its own key)."
        ),
        trust: list[Path] = typer.Option(
            ...,
            "--trust",
            help="The log's public key (PEM, keys/evidence-ed25519.pub of its data directory, "
            "or a retired one); repeat for several.",
        ),
        origin: str = typer.Option("pollwatch", "--origin", help="The log's name on its lines."),
        name: str = typer.Option("witness", "--name", help="This witness's name (one word)."),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8010, "--port", min=1, max=65535),
    ) -> None:
        """Serve POST /add-checkpoint and GET /checkpoint/ORIGIN. The witness's own key is kept
        in DIR/keys, encrypted under $POLLWATCH_KEY_PASSPHRASE (or _FILE).

        Example: pollwatch witness serve --dir /srv/witness --trust ngo-a.pub --port 8010
        """
        import uvicorn

        from pollwatch.evidence.keys import (
            SigningKeyError,
            load_or_create_signing_key,
            load_public_key,
        )
        from pollwatch.evidence.witness import Witness
        from pollwatch.service.witness_app import create_witness_app

        try:
            keys = [load_public_key(p.read_bytes()) for p in trust]
            key = load_or_create_signing_key(directory)
        except (OSError, ValueError, SigningKeyError) as exc:
            raise fail(str(exc)) from None
        witness = Witness(directory, key, name, {origin: keys})
        typer.echo(f"witness {name} for {origin} on http://{host}:{port}")
        uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="warning")

    app.add_typer(wt, name="witness")
