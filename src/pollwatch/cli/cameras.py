"""``pollwatch cameras estimate|count``: camera tallies → turnout intervals; video → tallies."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_USAGE,
    console,
    err_console,
    fail,
    load,
    seed_value,
)
from pollwatch.errors import IngestError, InputDataError


def _print_issues(exc: IngestError) -> typer.Exit:
    from pollwatch.errors import format_issues

    err_console.print(
        f"{len(exc.issues)} problem(s):", style="bold red", highlight=False, markup=False
    )
    for line in format_issues(
        exc.issues
    ):  # one line per kind of problem, with a count and examples
        err_console.print(f"- {line}", highlight=False, markup=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _official(path: Path, in_station: bool, profile: str | None):
    """A CSV of station_id + official count, or any election file pollwatch can ingest (read
    like with like: the protocol lines a camera can see, per country profile)."""
    from pollwatch.cameras import read_official
    from pollwatch.cameras.lines import visible_ballots

    if path.suffix.lower() == ".csv":
        try:
            return read_official(path, True if in_station else None)
        except IngestError as exc:
            if not any("missing required columns" in i.message for i in exc.issues):
                raise
    try:
        return visible_ballots(load(path, None, None), profile)
    except ValueError as exc:
        raise fail(f"{path}: {exc}") from None


def _from_database(url: str, election: str | None, status: Path | None):
    """Tallies, status log and official turnout filed in the observation service; a status
    CSV given as well replaces the service's status log."""
    from pollwatch.cameras.data import read_status_log

    try:
        from sqlalchemy.exc import SQLAlchemyError

        from pollwatch.service.sources.cameras import camera_data_from_database
    except ImportError as exc:  # the service extra is not installed
        raise fail(f"{exc} (install pollwatch[service])", EXIT_USAGE) from None
    try:
        data = camera_data_from_database(url, election=election)
    except SQLAlchemyError as exc:
        raise fail(f"cannot read the service database: {str(exc).splitlines()[0]}") from None
    st = read_status_log(status) if status else (data.status if data.status.height else None)
    return data.tallies, st, _service_official(url, data.election) if data.official else {}


def _service_official(url: str, name: str):
    """The service's official protocols read like with like (the lines a camera can see), so
    the comparison says which lines it used and whether it is only a one-sided bound."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from pollwatch.cameras.lines import visible_ballots
    from pollwatch.service import models as m
    from pollwatch.service.db import make_engine
    from pollwatch.service.importer import election_from_db

    engine = make_engine(url)
    try:
        with Session(engine) as s:
            el = s.scalars(select(m.Election).where(m.Election.name == name)).first()
            election = election_from_db(s, el.id) if el is not None else None
    finally:
        engine.dispose()
    if election is None:
        raise fail(f"{url}: election {name!r} has no official protocols")
    try:
        return visible_ballots(election)
    except ValueError as exc:
        raise fail(f"{url}: {exc}") from None


def register(app: typer.Typer) -> None:
    sub = typer.Typer(
        help="Camera monitoring: tallies to turnout estimates; counting from video.",
        no_args_is_help=True,
    )

    @sub.command("estimate")
    def estimate_cmd(
        tallies: Path | None = typer.Argument(
            None,
            help="Tallies CSV: station_id, window_start, "
            "window_end, count[, watcher, usable, reason].",
        ),
        official: Path | None = typer.Option(
            None,
            "--official",
            help="Official turnout: CSV with "
            "station_id and official (or ballots_issued), or an "
            "election file. Default with --database: the "
            "official protocols stored in the service.",
        ),
        database: str | None = typer.Option(
            None,
            "--database",
            help="Read the tallies and the "
            "camera-status log that watchers filed in the "
            "observation service (database URL) instead of CSVs.",
        ),
        election: str | None = typer.Option(
            None,
            "--election",
            help="With --database: the election's id or name (if there are several).",
        ),
        status: Path | None = typer.Option(None, "--status", help="Camera-status log CSV."),
        min_coverage: float = typer.Option(
            0.5, "--min-coverage", help="Least usable share of the day."
        ),
        seed: int = typer.Option(
            0, "--seed", callback=seed_value, help="Seed of the profile bootstrap."
        ),
        target: str = typer.Option(
            "expected",
            "--target",
            help="Interval for the 'expected' "
            "full-day count (Poisson mean) or the 'realised' count.",
        ),
        fdr: float = typer.Option(
            0.05,
            "--fdr",
            help="False discovery rate of the per-station flags (Benjamini–Hochberg).",
        ),
        reference: str | None = typer.Option(
            None,
            "--reference",
            help="Watcher id of the reference count on double-counted windows (e.g. 'video' "
            "or a supervisor): measures each watcher's κ and corrects their counts.",
        ),
        in_station: bool = typer.Option(
            False,
            "--official-in-station",
            help="State that the --official CSV column counts only in-station, election-day "
            "ballots (no mobile box, no early voters); otherwise only a column named "
            "ballots_issued_station is compared like with like.",
        ),
        profile: str | None = typer.Option(
            None,
            "--profile",
            help="Country profile for the protocol lines a camera can see (AZ, RU, generic); "
            "default: the election's.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
        out: Path | None = typer.Option(
            None, "--out", help="Directory for stations.csv and summary.json."
        ),
    ) -> None:
        """Estimate each watched station's full-day turnout and compare it with the official one.

        Example: pollwatch cameras estimate tallies.csv --status status.csv --official official.csv
        or: pollwatch cameras estimate --database sqlite:///pollwatch.db
        """
        from pollwatch.cameras import (
            compare_official,
            estimate_turnout,
            read_status_log,
            read_tallies,
            status_summary,
        )

        if (tallies is None) == (database is None):
            raise fail("give either a tallies CSV or --database URL (not both)", EXIT_USAGE)
        try:
            if database is not None:
                t, st, off = _from_database(database, election, status)
            else:
                assert tallies is not None  # exactly one of the two was given (checked above)
                t = read_tallies(tallies)
                st = read_status_log(status) if status else None
            if official is not None:
                off = _official(official, in_station, profile)
            elif database is None or not off:
                raise fail(
                    "--official is required (the service holds no official protocols)"
                    if database
                    else "--official is required",
                    EXIT_USAGE,
                )
        except IngestError as exc:
            raise _print_issues(exc) from None
        except (OSError, InputDataError) as exc:
            raise fail(str(exc)) from None
        try:
            est = estimate_turnout(
                t,
                st,
                min_coverage=min_coverage,
                seed=seed,
                target=target,
                reference_watcher=reference,
            )
            cmp = compare_official(est, off, fdr=fdr)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        except InputDataError as exc:
            raise fail(str(exc)) from None
        doc = {"estimate": est.to_dict(), "comparison": cmp.to_dict()}
        if st is not None:
            doc["camera_status"] = status_summary(st).to_dict()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            table = est.table().join(
                cmp.table().drop("estimate", "high95"), on="station_id", how="left"
            )
            table.write_csv(out / "stations.csv")
            (out / "summary.json").write_text(
                json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        if as_json:
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
            return
        console.print(est.summary().as_text(), highlight=False, markup=False)
        console.print("")
        console.print(est.agreement.summary().as_text(), highlight=False, markup=False)
        console.print("")
        console.print(cmp.summary().as_text(), highlight=False, markup=False)
        if st is not None:
            console.print("")
            console.print(status_summary(st).summary().as_text(), highlight=False, markup=False)

    @sub.command("count")
    def count_cmd(
        video: list[Path] = typer.Argument(
            ..., help="Video file(s); several are consecutive segments."
        ),
        roi: str = typer.Option(..., "--roi", help="Ballot-box region x,y,w,h in pixels."),
        window_minutes: float = typer.Option(10.0, "--window-minutes", help="Tally window length."),
        start: str = typer.Option("08:00", "--start", help="Wall-clock time of the first frame."),
        station: str = typer.Option(
            "video", "--station", help="Station id written to the tallies."
        ),
        hog: bool = typer.Option(
            False, "--hog", help="Confirm events with the HOG people detector."
        ),
        out: Path | None = typer.Option(None, "--out", help="Write the tallies CSV here."),
    ) -> None:
        """Count ballot drops at the box in recorded video; write tallies like a human watcher.

        Example: pollwatch cameras count pec-0412.mp4 --roi 290,200,60,70 --out tallies.csv
        """
        import polars as pl

        from pollwatch.cameras.data import format_time
        from pollwatch.cameras.video import DetectorConfig, VideoCountConfig, count_video
        from pollwatch.cameras.video.count import parse_roi, parse_start

        try:  # the settings first: a bad one is a usage error, whatever the video
            box, _ = parse_roi(roi), parse_start(start)
            config = VideoCountConfig(
                window_minutes=window_minutes, detector=DetectorConfig(hog=hog)
            )
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        try:
            res = count_video(
                [Path(v) for v in video], box, config, start=start, station_id=station
            )
        except ImportError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        except (ValueError, OSError) as exc:  # unreadable or missing video
            raise fail(str(exc), EXIT_BAD_INPUT) from None
        table = res.tallies.with_columns(
            res.tallies["window_start"].map_elements(format_time, return_dtype=pl.String),
            res.tallies["window_end"].map_elements(format_time, return_dtype=pl.String),
        )
        if out is not None:
            table.write_csv(out)
        console.print(res.summary().as_text(), highlight=False, markup=False)
        if out is None:
            typer.echo(table.write_csv())

    app.add_typer(sub, name="cameras")
