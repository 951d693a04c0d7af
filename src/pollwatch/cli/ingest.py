"""``pollwatch ingest FILE``: read a results file and summarise it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from pollwatch.cli._common import CandidateOpt, MappingOpt, PresetOpt, console, load


def ingest_summary(election) -> dict:
    """The JSON document `pollwatch ingest --json` prints."""
    from pollwatch.validate import validate

    totals = election.totals()
    findings = validate(election)
    rep = election.ingest_report
    return {
        "source": rep.source if rep else None,
        "sha256": rep.sha256 if rep else None,
        "mapping": rep.mapping if rep else None,
        "stations": totals["stations"],
        "registered": totals["registered"],
        "ballots_cast": totals["ballots_cast"],
        "ballots_issued": totals.get("ballots_issued"),
        "valid": totals["valid"],
        "invalid": totals["invalid"],
        "turnout": totals["turnout"],
        "leader": totals["leader"],
        "leader_votes": totals["leader_votes"],
        "leader_share": totals["leader_share"],
        "votes": totals["votes"],
        "excluded": totals["excluded"],
        "findings": findings.counts(),
        "columns_not_used": list(rep.ignored_columns) if rep else [],
        # how the file was read: what [candidates] rest took and refused, rows of other levels or
        # contests left out, derived fields, the plausibility gates, and findings about the cells
        "candidate_columns_refused": dict(rep.rest_refused) if rep else {},
        "rows_left_out": dict(rep.rows_skipped) if rep else {},
        "derived": dict(rep.derived) if rep else {},
        "gates": dict(rep.gates) if rep else {},
        "ingest_findings": [f.to_dict() for f in rep.findings] if rep else [],
    }


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        file: Path = typer.Argument(
            ..., help="Results file: CSV/TSV (or .zip of one), XLSX or Parquet."
        ),
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
        candidate: str | None = CandidateOpt,
        as_json: bool = typer.Option(
            False,
            "--json",
            help="Print the summary as JSON (or, when the file "
            "cannot be read, every problem found, with exit code 1).",
        ),
    ) -> None:
        """Read a results file and summarise stations, ballots, votes, exclusions and findings.

        Example: pollwatch ingest ../shared/data/russia/president-2012.csv.zip --json
        """
        election = load(file, preset, mapping, candidate, json_errors=as_json)
        doc = ingest_summary(election)
        if as_json:
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
            return
        t = Table(title=f"{file.name}: {doc['stations']:,} stations", show_header=False)
        for k in ("registered", "ballots_cast", "ballots_issued", "valid", "invalid"):
            if doc[k] is not None:
                t.add_row(k.replace("_", " "), f"{doc[k]:,}")
        t.add_row("turnout (cast/registered)", f"{100 * doc['turnout']:.2f} %")
        for name, v in sorted(doc["votes"].items(), key=lambda kv: -kv[1]):
            t.add_row(f"votes: {name}", f"{v:,}  ({100 * v / max(doc['ballots_cast'], 1):.2f} %)")
        for why, n in doc["excluded"].items():
            t.add_row(f"excluded: {why}", f"{n:,}")
        for rule, n in doc["findings"].items():
            t.add_row(f"finding: {rule}", f"{n:,}")
        for what, n in doc["rows_left_out"].items():
            t.add_row(f"rows left out: {what}", f"{n:,}")
        for col, why in doc["candidate_columns_refused"].items():
            t.add_row(f"not a candidate: {col}", why)
        for k, how in doc["derived"].items():
            t.add_row(f"derived: {k}", how)
        console.print(t)
        for f in doc["ingest_findings"][:10]:
            console.print(
                f"[yellow]finding[/yellow] line {f['line']}, column {escape(repr(f['column']))}: "
                f"{escape(f['message'])}",
                highlight=False,
            )
        if len(doc["ingest_findings"]) > 10:
            console.print(
                f"… and {len(doc['ingest_findings']) - 10:,} more findings (--json lists them all)"
            )
