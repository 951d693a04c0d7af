"""``pollwatch mapping draft FILE``: a commented TOML mapping drafted from a results file's header."""

from __future__ import annotations

from pathlib import Path

import typer

from pollwatch.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_USAGE,
    console,
    err_console,
    fail,
    int_range,
    print_ingest_error,
)


def register(app: typer.Typer) -> None:
    mp = typer.Typer(
        help="Mapping files (how a results file's columns map to protocol lines): draft one. "
        "Reference: docs/mapping.md.",
        no_args_is_help=True,
    )
    app.add_typer(mp, name="mapping")

    @mp.command("draft")
    def draft_cmd(
        file: Path = typer.Argument(
            ..., help="Results file: CSV/TSV (or .zip/.gz of one), XLSX or Parquet."
        ),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Write the mapping here (default: print it)."
        ),
        force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
        rows: int = typer.Option(
            200, "--rows", help="Rows read to tell counts from text.", callback=int_range(1)
        ),
    ) -> None:
        """Draft a TOML mapping from a file's header and first rows, every column commented.

        Each column is marked recognised (model field, station or hierarchy column, candidate or option, text column, protocol line with no model field) or NOT recognised, with what the draft did with it. Check those, then pass the file with --mapping. Every key is explained in docs/mapping.md.

        Example: pollwatch mapping draft results.csv --out mapping.toml
        """
        from pollwatch.errors import IngestError
        from pollwatch.ingest.draft import draft_mapping

        if out is not None and out.exists() and not force:
            raise fail(
                f"{out} already exists: expected a new file name for --out; pass --force to overwrite it",
                EXIT_USAGE,
            )
        try:
            draft = draft_mapping(file, sample_rows=rows)
        except IngestError as exc:
            print_ingest_error(file, exc)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        bad = draft.not_recognised
        n = len(draft.columns)
        summary = [
            f"{file.name}: {n - len(bad)} of {n} columns recognised"
            + (f" (starting from the preset {draft.preset})" if draft.preset else "")
            + "."
        ]
        if bad:
            summary.append(
                f"NOT recognised ({len(bad)}): "
                + ", ".join(f'"{c.column}"' for c in bad[:12])
                + (" …" if len(bad) > 12 else "")
                + " — see the comments in the mapping."
            )
        if draft.missing_required:
            summary.append(
                f"Required fields with no column: {', '.join(draft.missing_required)}; "
                "write their column names in [fields] before ingesting."
            )
        if out is None:
            typer.echo(draft.text, nl=False)
            for line in summary:
                err_console.print(line, highlight=False, markup=False)
            return
        draft.write(out)
        console.print(f"Wrote {out}.", highlight=False, markup=False, soft_wrap=True)
        for line in summary:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        console.print(
            f"Next: pollwatch ingest {file} --mapping {out}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
