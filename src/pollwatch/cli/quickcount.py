"""``pollwatch quickcount size|design|estimate|compare|turnout``: the parallel vote tabulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import typer

from pollwatch.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_USAGE,
    MappingOpt,
    PresetOpt,
    console,
    err_console,
    fail,
    load,
    seed_value,
)
from pollwatch.cli.quickcount_service import register_service

StrataOpt = typer.Option(
    None,
    "--strata",
    "-s",
    help="Stratify by these columns (hierarchy levels, an urban/rural column…); repeat for several.",
)


def _copies(path: Path | None, database: str | None = None, election: str | None = None):
    """Copies from a file, or reconciled from the observation service's database."""
    from pollwatch.errors import InputDataError
    from pollwatch.quickcount.copies import read_protocol_copies

    if (path is None) == (database is None):
        raise fail("give either a COPIES file or --database URL", EXIT_USAGE)
    try:
        if database is not None:
            from pollwatch.service.sources.quickcount import copies_from_database

            copies, conflicts = copies_from_database(database, election=election)
            if conflicts:
                err_console.print(
                    f"{len(conflicts)} station(s) left out: observers' copies disagree "
                    f"({', '.join(sorted(conflicts)[:10])}); resolve them in the review queue.",
                    highlight=False,
                    markup=False,
                )
            return copies
        assert path is not None  # exactly one of the two was given (checked above)
        return read_protocol_copies(path)
    except InputDataError as exc:
        _issues(exc, path or database)


SampleOpt = typer.Option(
    None,
    "--sample",
    help="Registered sample (from `quickcount design`): only its stations are counted, with its "
    "strata; copies from other stations are listed, not counted.",
)
ReplacementsOpt = typer.Option(
    None,
    "--replacements",
    help="With --sample: reserve replacements (primary_id,reserve_id,reason,at), checked against "
    "the sample's rule.",
)


def _sample(path: Path | None, replacements: Path | None, strata: list[str] | None):
    """The registered sample with its replacements applied (None without --sample)."""
    from pollwatch.errors import InputDataError
    from pollwatch.quickcount.sample import read_replacements, read_sample

    if path is None:
        if replacements is not None:
            raise fail("--replacements needs --sample", EXIT_USAGE)
        return None
    if strata:
        raise fail(
            "--strata cannot be used with --sample: the sample file records its strata", EXIT_USAGE
        )
    try:
        sample = read_sample(path)
    except InputDataError as exc:
        _issues(exc, path)
    if replacements is not None:
        try:
            read_replacements(replacements, sample)
        except InputDataError as exc:
            _issues(exc, replacements)
    return sample


DatabaseOpt = typer.Option(
    None, "--database", help="Read the copies from the observation service database (URL)."
)
ElectionOpt = typer.Option(None, "--election", help="With --database: the election's id or name.")


def _issues(exc, path) -> NoReturn:
    err_console.print(
        f"{len(exc.issues) or 1} problem(s) in {path}:",
        style="bold red",
        highlight=False,
        markup=False,
    )
    from pollwatch.errors import format_issues

    for line in format_issues(exc.issues) or [
        str(exc)
    ]:  # one line per kind of problem, with a count
        err_console.print(f"- {line}", highlight=False, markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def _show(result, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(result.summary().as_text(), highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    qc = typer.Typer(
        help="Quick count (PVT): sample size, sample design, estimates, comparison with the official result.",
        no_args_is_help=True,
    )
    app.add_typer(qc, name="quickcount")
    register_service(qc)  # import-sample, replace, status, publish (the service's database)

    @qc.command("size")
    def size_cmd(
        margin: float = typer.Option(
            ..., "--margin", help="Margin of error in percentage points (e.g. 1.0)."
        ),
        confidence: float = typer.Option(0.95, help="Confidence level."),
        past: Path | None = typer.Option(
            None, "--past", help="Past station-level results: ρ, voters and stations."
        ),
        voters_per_station: float | None = typer.Option(
            None, help="Expected ballots cast per station."
        ),
        rho: float | None = typer.Option(
            None, help="Intra-station correlation (default: from --past)."
        ),
        frame_stations: int | None = typer.Option(None, help="Stations in the frame (FPC)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Stations to sample for a margin of error (NDI formula, Kish design effect, FPC in stations).

        Example: pollwatch quickcount size --margin 1 --past results-2019.csv
        """
        from pollwatch.quickcount.design import sample_size

        election = load(past, None, None) if past else None
        try:
            r = sample_size(
                margin / 100,
                confidence=confidence,
                past=election,
                rho=rho,
                voters_per_station=voters_per_station,
                frame_stations=frame_stations,
            )
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        _show(r, as_json)

    @qc.command("design")
    def design_cmd(
        election_file: Path = typer.Argument(
            ..., metavar="ELECTION", help="Station list / results file (the frame)."
        ),
        size: int | None = typer.Option(None, "--size", "-n", help="Stations to draw."),
        margin: float | None = typer.Option(
            None,
            "--margin",
            help="Instead of --size: margin of error in percentage points; the size comes from "
            "the frame's own results (ρ, ballots per station), as in `quickcount size --past`.",
        ),
        confidence: float = typer.Option(0.95, help="Confidence level of --margin."),
        strata: list[str] | None = StrataOpt,
        strata_lookup: Path | None = typer.Option(
            None,
            "--strata-lookup",
            help="CSV deriving --strata columns from another column (e.g. constituency,region).",
        ),
        strata_from: str | None = typer.Option(
            None,
            "--strata-from",
            help="With --strata-lookup: the election's column the lookup is keyed on.",
        ),
        reserves: int | None = typer.Option(
            None,
            "--reserves",
            help="Reserve stations per stratum (default: one per five primaries, at least one).",
        ),
        allocation: str = typer.Option(
            "proportional", help="proportional (to stations), registered (to voters) or neyman."
        ),
        seed: int = typer.Option(
            ...,
            "--seed",
            callback=seed_value,
            help="Random seed (recorded; the same seed gives the same sample).",
        ),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            help="Write the registered sample here (CSV; its sidecar goes to OUT.json).",
        ),
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
    ) -> None:
        """Draw a stratified random sample with reserves and write it as a registered sample
        (docs/quickcount.md §3): publish the sidecar's csv_sha256 before election day.

        Example: pollwatch quickcount design results.csv --size 600 --strata region --seed 2024 --out sample.csv
        """
        import dataclasses

        from pollwatch.errors import InputDataError
        from pollwatch.quickcount.design import derive_strata, draw_sample, sample_size

        if (size is None) == (margin is None):
            raise fail("give either --size or --margin", EXIT_USAGE)
        if (strata_lookup is None) != (strata_from is None):
            raise fail("--strata-lookup and --strata-from go together", EXIT_USAGE)
        if out.suffix.lower() == ".parquet":
            raise fail("the registered sample is a CSV file: use --out sample.csv", EXIT_USAGE)
        election = load(election_file, preset, mapping)
        lookup = None
        try:
            if strata_lookup is not None:
                assert strata_from is not None  # checked above
                derived = [c for c in strata or [] if c not in election.table.columns]
                if not derived:
                    raise fail(
                        "--strata-lookup: name the derived column with --strata (e.g. --strata region)",
                        EXIT_USAGE,
                    )
                election, lookup = derive_strata(election, strata_lookup, strata_from, derived)
            target = deff = None
            if margin is not None:
                sz = sample_size(margin / 100, confidence=confidence, past=election)
                size, target, deff = sz.stations_to_draw, margin / 100, sz.design_effect
            assert size is not None  # --size or --margin, checked above
            d = draw_sample(
                election,
                size,
                strata=strata or None,
                allocation=allocation,  # type: ignore[arg-type]  # draw_sample checks it
                seed=seed,
                reserves=reserves,
            )
            d = dataclasses.replace(d, lookup=lookup)
            reg = d.write_registered(
                out,
                target_moe=target,
                confidence=confidence if margin is not None else None,
                deff=deff,
            )
        except InputDataError as exc:
            _issues(exc, strata_lookup or out)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        console.print(d.summary().as_text(), highlight=False, markup=False)
        console.print(
            f"Registered sample written to {out} ({reg.n:,} primary and {len(reg.reserves):,} "
            f"reserve stations) with its sidecar {out}.json.\n"
            f"Publish its SHA-256 before election day: {reg.csv_sha256}",
            highlight=False,
            markup=False,
        )

    @qc.command("estimate")
    def estimate_cmd(
        copies: Path | None = typer.Argument(
            None,
            help="Protocol copies (CSV or Parquet): station_id, registered, valid, invalid, one column per candidate.",
        ),
        database: str | None = DatabaseOpt,
        election: str | None = ElectionOpt,
        frame: Path = typer.Option(
            ..., "--frame", help="The election file the sample was drawn from."
        ),
        strata: list[str] | None = StrataOpt,
        sample_file: Path | None = SampleOpt,
        replacements: Path | None = ReplacementsOpt,
        bootstrap: int = typer.Option(1000, help="Bootstrap replicates (0: none)."),
        seed: int | None = typer.Option(
            None, "--seed", callback=seed_value, help="Bootstrap seed (recorded)."
        ),
        nonresponse: str = typer.Option(
            "collapse", help="Strata with < 2 reports: collapse or poststratify."
        ),
        confidence: float = typer.Option(0.95),
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Estimate shares, turnout and invalid share with margins of error, and call the lead.

        Copies failing the protocol arithmetic, or with blank cells, are quarantined and listed
        (docs/quickcount.md §5).

        Example: pollwatch quickcount estimate copies.csv --frame results.csv --sample sample.csv
        """
        import warnings

        from pollwatch.errors import InputDataError
        from pollwatch.quickcount.estimate import estimate

        smp = _sample(sample_file, replacements, strata)
        e = load(frame, preset, mapping)
        c = _copies(copies, database, election)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the summary carries the notes
                r = estimate(
                    c,
                    e,
                    strata=strata or None,
                    bootstrap=bootstrap,
                    seed=seed,
                    nonresponse=nonresponse,  # type: ignore[arg-type]  # estimate() checks it
                    confidence=confidence,
                    sample=smp,
                )
        except InputDataError as exc:
            _issues(exc, copies)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        _show(r, as_json)

    @qc.command("compare")
    def compare_cmd(
        copies: Path | None = typer.Argument(None, help="Protocol copies (CSV or Parquet)."),
        official: Path = typer.Option(..., "--official", help="Official per-station results."),
        database: str | None = DatabaseOpt,
        election: str | None = ElectionOpt,
        frame: Path | None = typer.Option(
            None, "--frame", help="Sampling frame, if not the official file."
        ),
        strata: list[str] | None = StrataOpt,
        sample_file: Path | None = SampleOpt,
        replacements: Path | None = ReplacementsOpt,
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Official figures against the quick-count intervals, and every copied protocol against
        the official one (mismatches are direct evidence of tampering after the count).

        Example: pollwatch quickcount compare copies.csv --official results.csv --strata region
        """
        import warnings

        from pollwatch.errors import InputDataError
        from pollwatch.quickcount.compare import compare

        smp = _sample(sample_file, replacements, strata)
        off = load(official, preset, mapping)
        fr = load(frame, preset, mapping) if frame else None
        c = _copies(copies, database, election)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = compare(c, off, frame=fr, strata=strata or None, sample=smp)
        except InputDataError as exc:
            _issues(exc, copies)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        if not as_json:  # the pre-registered verdict first (docs/quickcount.md §8.1)
            console.print(f"VERDICT: {r.verdict}", highlight=False, markup=False)
        _show(r, as_json)

    @qc.command("turnout")
    def turnout_cmd(
        observed: Path = typer.Argument(
            ...,
            metavar="OBSERVED",
            help="Observers' counts (CSV or Parquet): station_id, ballots_in_boxes "
            "(end of day), optionally voters_by_noon, voters_by_17.",
        ),
        official: Path = typer.Option(..., "--official", help="Official per-station results."),
        frame: Path | None = typer.Option(
            None, "--frame", help="Sampling frame, if not the official file."
        ),
        strata: list[str] | None = StrataOpt,
        tolerance_votes: int = typer.Option(
            5, help="Station gaps up to this many ballots are counting error."
        ),
        tolerance_share: float = typer.Option(
            0.02, help="… or up to this share of the observer's count, whichever is larger."
        ),
        confidence: float = typer.Option(0.95),
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Turnout from the observers' own voter counts, against the official turnout and the
        protocols at the same stations; stations whose protocol differs from the count are listed.

        Example: pollwatch quickcount turnout observed.csv --official results.csv --strata region
        """
        import warnings

        from pollwatch.errors import InputDataError
        from pollwatch.quickcount.turnout import estimate_observed_turnout, read_observed_counts
        from pollwatch.results import jsonable

        off = load(official, preset, mapping)
        fr = load(frame, preset, mapping) if frame else None
        try:
            counts = read_observed_counts(observed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the summary carries the notes
                r = estimate_observed_turnout(
                    counts,
                    off,
                    frame=fr,
                    strata=strata or None,
                    confidence=confidence,
                    tolerance_votes=tolerance_votes,
                    tolerance_share=tolerance_share,
                )
        except InputDataError as exc:
            _issues(exc, observed)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        if as_json:
            doc = r.to_dict()
            doc["flagged_stations"] = [g.station_id for g in r.flagged]
            doc["gaps"] = [jsonable(g) for g in r.gaps]
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        else:
            console.print(r.summary().as_text(), highlight=False, markup=False)
