"""``pollwatch analyze FILE``: every forensic method, then the report and exports."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from pollwatch.cli._common import (
    CandidateOpt,
    MappingOpt,
    PresetOpt,
    console,
    fail,
    int_range,
    load,
    seed_value,
)


def progress_runner(quiet: bool):
    """A context manager yielding a ``progress(name)`` callback that drives a Rich bar."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def ctx(total: int):
        if quiet:
            yield lambda name: None
            return
        with Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("analysing", total=total)

            def step(name: str) -> None:
                bar.update(
                    task,
                    advance=1 if name.startswith("done:") else 0,
                    description=name.removeprefix("done:"),
                )

            yield step

    return ctx


def _source_sections(election, seed, copies, tallies, status, claims) -> list:
    """Sections for the independent sources; a bad source file exits 1 with its problems."""
    from pollwatch.errors import PollwatchError
    from pollwatch.report.sources import cameras_section, claims_section, pvt_section

    if status is not None and tallies is None:
        raise fail("--status needs --tallies", 2)
    out = []
    try:
        if copies is not None:
            out.append(pvt_section(copies, election, seed=seed))
        if tallies is not None:
            out.append(cameras_section(tallies, election, status, seed=seed))
        if claims is not None:
            out.append(claims_section(claims, election))
    except PollwatchError as exc:
        raise fail(str(exc)) from None
    return out


def _census(sheets: Path | None, election, claims: Path | None):
    """The tally-sheet census of ``sheets`` against the official file (with the claims judged
    against it), or ``None`` without ``--census``; a bad sheets file exits 1 with its problems."""
    if sheets is None:
        return None
    from pollwatch.census import census_check, read_sheets
    from pollwatch.claims import load_claims
    from pollwatch.errors import PollwatchError

    try:
        return census_check(
            read_sheets(sheets), election, load_claims(claims) if claims is not None else ()
        )
    except (PollwatchError, ValueError) as exc:
        raise fail(f"--census {sheets}: {exc}") from None


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_cmd(
        file: Path = typer.Argument(
            ..., help="Official per-station results (CSV/ZIP/XLSX/Parquet)."
        ),
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
        candidate: str | None = CandidateOpt,
        seed: int = typer.Option(
            0, callback=seed_value, help="Seed for every random step (recorded in the results)."
        ),
        out: Path = typer.Option(Path("pollwatch-out"), "--out", "-o", help="Output directory."),
        scheduler: str | None = typer.Option(
            None,
            help="Dask scheduler address for Monte Carlo/bootstrap work "
            "(the same as --execution dask:ADDR).",
        ),
        execution: str | None = typer.Option(
            None,
            "--execution",
            help="Where Monte Carlo/bootstrap tasks run: serial (default), processes[:N] "
            "or dask[:ADDR]; add ,threads=N to cap the threads of one task.",
        ),
        methods: str | None = typer.Option(
            None, help="Comma-separated subset of methods (default: all)."
        ),
        regions: Path | None = typer.Option(
            None, "--regions", help="GeoJSON of regions for a choropleth map."
        ),
        regions_key: str = typer.Option("name", help="GeoJSON property holding the region label."),
        copies: Path | None = typer.Option(
            None, "--copies", help="Observers' protocol copies (CSV/Parquet): quick-count section."
        ),
        tallies: Path | None = typer.Option(
            None, "--tallies", help="Camera watcher tallies (CSV): camera section."
        ),
        status: Path | None = typer.Option(
            None, "--status", help="Camera-status log (CSV) for --tallies."
        ),
        claims: Path | None = typer.Option(
            None, "--claims", help="Published claims (YAML/CSV): claims section."
        ),
        census: Path | None = typer.Option(
            None,
            "--census",
            help="Collected tally sheets (docs/census.md §1 format): tally-sheet census section "
            "and the census block of results.json; --claims are judged against them too.",
        ),
        regional_boot: int = typer.Option(
            0,
            "--regional-boot",
            callback=int_range(0, 10_000),
            help="Bootstrap replicates for an interval on the region-by-region "
            "mixture (0: none; each costs about one regional fit).",
        ),
        no_report: bool = typer.Option(False, "--no-report", help="Write JSON/CSV/Parquet only."),
        title: str | None = typer.Option(
            None, "--title", help="The election's name for the report (else the mapping's)."
        ),
        date: str | None = typer.Option(None, "--date", help="Election day, YYYY-MM-DD."),
        country: str | None = typer.Option(None, "--country", help="Country name or code."),
        round_: str | None = typer.Option(None, "--round", help="Round (1, 2, runoff, …)."),
        lang: str = typer.Option(
            "en",
            "--lang",
            help="Language of report.html: en, az (Azerbaijani) or ru (Russian). "
            "results.json and the station tables keep their codes in every language.",
        ),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="No progress bar; print only the output paths."
        ),
    ) -> None:
        """Run every forensic method; write report.html, results.json, stations.csv and stations.parquet.

        Example: pollwatch analyze ../shared/data/russia/president-2012.csv.zip --out out/
        """
        from pollwatch.errors import PollwatchError
        from pollwatch.forensics._common import require_analysable
        from pollwatch.forensics.run import METHODS, analyze
        from pollwatch.i18n import LANGS, use_language

        if lang not in LANGS:
            raise fail(f"--lang: {lang!r} is not one of {', '.join(LANGS)}", 2)

        chosen = None
        if methods:
            chosen = [m.strip() for m in methods.split(",") if m.strip()]
            bad = [m for m in chosen if m not in METHODS]
            if bad:
                raise fail(f"--methods: unknown {bad}; choose from {', '.join(METHODS)}", 2)
        geo = None
        if regions is not None:
            try:
                geo = json.loads(regions.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise fail(f"--regions {regions}: cannot read GeoJSON ({exc})") from None
        from pollwatch.compute import Execution

        if scheduler is not None and execution is not None:
            raise fail("--scheduler and --execution: give one (--execution dask:ADDR)", 2)
        try:
            where = Execution.dask(scheduler) if scheduler else Execution.of(execution)
        except ValueError as exc:
            raise fail(f"--execution: {exc}", 2) from None
        election = load(
            file, preset, mapping, candidate, name=title, date=date, country=country, round=round_
        )
        try:  # no analysable station: one line, exit 1, no report (before the progress bar)
            require_analysable(election)
        except PollwatchError as exc:
            raise fail(f"{file}: {exc}; no report written.") from None
        command = "pollwatch " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        n = len(chosen or METHODS)
        with progress_runner(quiet)(n) as step:
            analysis = analyze(
                election,
                seed=seed,
                methods=chosen,
                execution=where,
                progress=step,
                regional_boot=regional_boot,
                command=command,
                regions_geojson=geo,
                regions_key=regions_key,
            )
        # imported only now: the report pulls in scipy.stats/signal and matplotlib (~2 s), and
        # importing them before analyze() would delay the start of its worker process
        from pollwatch.report import write_all, write_exports

        with use_language(lang):  # the source sections' text too
            sections = _source_sections(election, seed, copies, tallies, status, claims)
            check = _census(census, election, claims)
            paths = (
                write_exports(analysis, out, census=check)
                if no_report
                else write_all(
                    analysis,
                    out,
                    extra_sections=sections,
                    lang=lang,
                    census=check,
                    census_source=str(census or ""),
                )
            )
        for name, err in analysis.errors.items():
            console.print(f"[yellow]{name} not computed:[/] {err}", highlight=False)
        if not quiet:
            # the same first sentence as the report and results.json: the calibrated headline
            console.print(analysis.doc["headline"]["statement"], highlight=False)
            not_computed = analysis.doc["strength"].get("not_computed") or []
            console.print(
                f"Strength of evidence: [bold]{analysis.strength.level}[/] "
                f"({', '.join(analysis.strength.signals) or 'no main signal'})"
                + (f"; not computed: {', '.join(not_computed)}" if not_computed else "")
            )
        for p in paths.values():
            typer.echo(str(p))
