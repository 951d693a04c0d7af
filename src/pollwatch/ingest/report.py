"""The ingest report: what was read, how, and every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field

from pollwatch.errors import DataIssue
from pollwatch.i18n import N_, N_plural, note, note_plural
from pollwatch.model.fields import EXCLUSION_REASONS
from pollwatch.results import ResultMixin, Summary


@dataclass(frozen=True)
class IngestReport(ResultMixin):
    """What reading one source produced.

    ``issues`` are errors (the source could not be read as it is, or the reading failed a
    plausibility gate); ``warnings`` are kept for the record (columns not used, a field that
    matched several columns). ``findings`` are facts about the data the analyst must know:
    blank cells in rows that have results, counts no station can have; each names its line
    and column. ``exclusions`` counts stations kept in the model but left out of analysis,
    by reason. ``rest_taken`` / ``rest_refused`` say which columns ``[candidates] rest``
    took as candidates and which it refused, and why; ``rows_skipped`` counts rows of other
    levels or contests left out by ``rows_selected``; ``gates`` gives each plausibility
    gate's outcome.
    """

    source: str
    sha256: str
    format: str
    encoding: str | None
    mapping: str
    rows: int
    columns: dict[str, str] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    exclusions: dict[str, int] = field(default_factory=dict)
    issues: tuple[DataIssue, ...] = ()
    warnings: tuple[DataIssue, ...] = ()
    seconds: float = 0.0
    findings: tuple[DataIssue, ...] = ()
    rest_taken: tuple[str, ...] = ()
    rest_refused: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    rows_skipped: dict[str, int] = field(default_factory=dict)
    rows_selected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    gates: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.issues

    def summary(self) -> Summary:
        rows = [
            ("source", self.source),
            ("SHA-256", self.sha256),
            ("format / encoding", f"{self.format} / {self.encoding or 'n/a'}"),
            ("mapping", self.mapping),
            ("rows (stations)", f"{self.rows:,}"),
            ("candidates", str(len(self.candidates))),
        ]
        rows += [
            (
                note(N_("excluded: {code}"), code=k),
                note(
                    N_("{n} ({reason})"),
                    n=format(v, ","),
                    reason=note(EXCLUSION_REASONS[k]) if k in EXCLUSION_REASONS else k,
                ),
            )
            for k, v in self.exclusions.items()
        ]
        rows += [
            (note(N_("rows left out: {what}"), what=k), f"{v:,}")
            for k, v in self.rows_skipped.items()
        ]
        rows += [(note(N_("derived: {line}"), line=k), v) for k, v in self.derived.items()]
        if self.rest_taken:
            rows.append(("candidates taken by rest", ", ".join(self.rest_taken)))
        rows += [
            (note(N_("not a candidate: {column}"), column=k), v)
            for k, v in self.rest_refused.items()
        ]
        rows += [(note(N_("gate: {gate}"), gate=k), v) for k, v in self.gates.items()]
        if self.ignored_columns:
            rows.append(("columns not used", ", ".join(self.ignored_columns)))
        read = note(
            N_("Read {n} stations from {source}."), n=format(self.rows, ","), source=self.source
        )
        status = (
            note_plural(
                *N_plural("{n} problem prevents analysis.", "{n} problems prevent analysis."),
                len(self.issues),
            )
            if self.issues
            else note(N_("No reading errors."))
        )
        found = (
            note_plural(
                *N_plural("{n} finding about the data.", "{n} findings about the data."),
                len(self.findings),
                n=format(len(self.findings), ","),
            )
            if self.findings
            else None
        )
        text = note(
            N_("{read} {status}{found}"),
            read=read,
            status=status,
            found=note(N_(" {finding}"), finding=found) if found else "",
        )
        notes = [w.as_note() for w in (*self.findings[:20], *self.warnings[:20])]
        return Summary("Ingest report", text, rows, notes)
