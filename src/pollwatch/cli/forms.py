"""``pollwatch forms``: checklists from XLSForm (``import``) and the checklists the service
loads (``list``). See docs/forms-and-people.md."""

from __future__ import annotations

from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, fail


def _lang_map(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        header, sep, code = v.rpartition("=")
        if not sep or not header or not code:
            raise fail(f"--lang-column {v!r}: expected HEADER=CODE, e.g. 'label::Azərbaycanca=az'", EXIT_BAD_INPUT)  # fmt: skip
        out[header] = code.strip().lower()
    return out


def register(app: typer.Typer) -> None:
    forms = typer.Typer(help="Checklists: import XLSForms, list what the service loads.", no_args_is_help=True)  # fmt: skip

    @forms.command("import")
    def import_(
        xlsform: Path = typer.Argument(
            ..., exists=True, dir_okay=False, help="The XLSForm (.xlsx)."
        ),  # fmt: skip
        forms_dir: Path | None = typer.Option(
            None,
            "--forms-dir",
            envvar="POLLWATCH_FORMS_DIR",
            help="Where to write the checklist (default: $POLLWATCH_FORMS_DIR).",
        ),  # fmt: skip
        lang_column: list[str] = typer.Option(
            [],
            "--lang-column",
            help="Map a label column to a language: 'HEADER=CODE' (repeatable), "
            "e.g. --lang-column 'label::Azərbaycanca=az' or --lang-column label=en.",
        ),  # fmt: skip
        code: str | None = typer.Option(
            None, "--code", help="SMS code (default: the settings sheet's prefix)."
        ),  # fmt: skip
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Convert and print the YAML; write nothing."
        ),  # fmt: skip
    ) -> None:
        """Convert an XLSForm (survey, choices, settings) into a checklist of the forms directory.

        Example: pollwatch forms import opening.xlsx --forms-dir /srv/pollwatch/forms
        """
        from pollwatch.service.xlsform import XLSFormError, convert

        try:
            done = convert(xlsform.read_bytes(), source=str(xlsform), lang_columns=_lang_map(lang_column), code=code)  # fmt: skip
        except XLSFormError as exc:
            raise fail(str(exc), EXIT_BAD_INPUT) from None
        for w in done.warnings:
            typer.echo(f"warning: {w}", err=True)
        if dry_run:
            typer.echo(done.yaml())
            return
        if forms_dir is None:
            raise fail("no forms directory: pass --forms-dir or set POLLWATCH_FORMS_DIR (the package's checklists are never overwritten)", EXIT_BAD_INPUT)  # fmt: skip
        try:
            path = done.write(forms_dir)
        except ValueError as exc:
            raise fail(str(exc), EXIT_BAD_INPUT) from None
        n = len(done.checklist["questions"])
        typer.echo(f"wrote {path} (checklist {done.name!r}, SMS code {done.checklist['code']}, {n} questions)")  # fmt: skip

    @forms.command("list")
    def list_(
        forms_dir: Path | None = typer.Option(
            None,
            "--forms-dir",
            envvar="POLLWATCH_FORMS_DIR",
            help="The forms directory (default: the package's checklists).",
        ),  # fmt: skip
    ) -> None:
        """List the checklists the service would load, checking the whole directory."""
        from pollwatch.service import forms as service_forms

        service_forms.use_directory(forms_dir)
        try:
            loaded = service_forms.forms()
        except (ValueError, KeyError, TypeError) as exc:
            raise fail(str(exc), EXIT_BAD_INPUT) from None
        for f in loaded.values():
            typer.echo(f"{f.name}\t{f.code}\t{len(f.questions)} questions\t{f.title.get('en', '')}")

    app.add_typer(forms, name="forms")
