"""``pollwatch cameras estimate|count``: camera tallies → turnout intervals; video → tallies."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, EXIT_USAGE, console, err_console, fail, load
from pollwatch.errors import IngestError, InputDataError


def _print_issues(exc: IngestError) -> typer.Exit:
    err_console.print(f"{len(exc.issues)} problem(s):", style="bold red", highlight=False, markup=False)
    for issue in exc.issues[:200]:
        err_console.print(f"- {issue}", highlight=False, markup=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _official(path: Path) -> dict[str, int]:
    """A CSV of station_id + official count, or any election file pollwatch can ingest."""
    from pollwatch.cameras import official_from_election, read_official

    if path.suffix.lower() == ".csv":
        try:
            return read_official(path)
        except IngestError as exc:
            if not any("missing required columns" in i.message for i in exc.issues):
                raise
    return official_from_election(load(path, None, None))


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Camera monitoring: tallies to turnout estimates; counting from video.",
                      no_args_is_help=True)

    @sub.command("estimate")
    def estimate_cmd(
        tallies: Path = typer.Argument(..., help="Tallies CSV: station_id, window_start, window_end, "
                                       "count[, watcher, usable, reason]."),
        official: Path = typer.Option(..., "--official", help="Official turnout: CSV with station_id "
                                      "and official (or ballots_issued), or an election file."),
        status: Path | None = typer.Option(None, "--status", help="Camera-status log CSV."),
        min_coverage: float = typer.Option(0.5, "--min-coverage", help="Least usable share of the day."),
        seed: int = typer.Option(0, "--seed", help="Seed of the profile bootstrap."),
        target: str = typer.Option("expected", "--target", help="Interval for the 'expected' "
                                   "full-day count (Poisson mean) or the 'realised' count."),
        as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
        out: Path | None = typer.Option(None, "--out", help="Directory for stations.csv and summary.json."),
    ) -> None:
        """Estimate each watched station's full-day turnout and compare it with the official one.

        Example: pollwatch cameras estimate tallies.csv --status status.csv --official official.csv
        """
        from pollwatch.cameras import (
            compare_official,
            estimate_turnout,
            read_status_log,
            read_tallies,
            status_summary,
        )

        try:
            t = read_tallies(tallies)
            st = read_status_log(status) if status else None
            off = _official(official)
        except IngestError as exc:
            raise _print_issues(exc) from None
        except OSError as exc:
            raise fail(str(exc)) from None
        try:
            est = estimate_turnout(t, st, min_coverage=min_coverage, seed=seed, target=target)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        except InputDataError as exc:
            raise fail(str(exc)) from None
        cmp = compare_official(est, off)
        doc = {"estimate": est.to_dict(), "comparison": cmp.to_dict()}
        if st is not None:
            doc["camera_status"] = status_summary(st).to_dict()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            table = est.table().join(cmp.table().drop("estimate", "high95"), on="station_id", how="left")
            table.write_csv(out / "stations.csv")
            (out / "summary.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        if as_json:
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
            return
        console.print(est.summary().as_text(), highlight=False, markup=False)
        console.print("")
        console.print(cmp.summary().as_text(), highlight=False, markup=False)
        if st is not None:
            console.print("")
            console.print(status_summary(st).summary().as_text(), highlight=False, markup=False)

    @sub.command("count")
    def count_cmd(
        video: list[Path] = typer.Argument(..., help="Video file(s); several are consecutive segments."),
        roi: str = typer.Option(..., "--roi", help="Ballot-box region x,y,w,h in pixels."),
        window_minutes: float = typer.Option(10.0, "--window-minutes", help="Tally window length."),
        start: str = typer.Option("08:00", "--start", help="Wall-clock time of the first frame."),
        station: str = typer.Option("video", "--station", help="Station id written to the tallies."),
        hog: bool = typer.Option(False, "--hog", help="Confirm events with the HOG people detector."),
        out: Path | None = typer.Option(None, "--out", help="Write the tallies CSV here."),
    ) -> None:
        """Count ballot drops at the box in recorded video; write tallies like a human watcher.

        Example: pollwatch cameras count pec-0412.mp4 --roi 290,200,60,70 --out tallies.csv
        """
        from pollwatch.cameras.data import format_time
        from pollwatch.cameras.video import count_video

        try:
            res = count_video([Path(v) for v in video], roi, window_minutes=window_minutes,
                              start=start, station_id=station, hog=hog)
        except ImportError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE if "roi" in str(exc) or "window" in str(exc)
                       else EXIT_BAD_INPUT) from None
        table = res.tallies.with_columns(
            res.tallies["window_start"].map_elements(format_time, return_dtype=str),
            res.tallies["window_end"].map_elements(format_time, return_dtype=str))
        if out is not None:
            table.write_csv(out)
        console.print(res.summary().as_text(), highlight=False, markup=False)
        if out is None:
            typer.echo(table.write_csv())

    app.add_typer(sub, name="cameras")
