"""The ingest report: what was read, how, and every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field

from pollwatch.errors import DataIssue
from pollwatch.model.fields import EXCLUSION_REASONS
from pollwatch.results import ResultMixin, Summary


@dataclass(frozen=True)
class IngestReport(ResultMixin):
    """What reading one source produced.

    ``issues`` are errors (the source could not be read as it is); ``warnings`` are kept
    for the record (e.g. columns that were not used). ``exclusions`` counts stations kept
    in the model but left out of analysis, by reason.
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
        rows += [(f"excluded: {k}", f"{v:,} ({EXCLUSION_REASONS.get(k, k)})") for k, v in self.exclusions.items()]
        if self.ignored_columns:
            rows.append(("columns not used", ", ".join(self.ignored_columns)))
        text = (f"Read {self.rows:,} stations from {self.source}. "
                + (f"{len(self.issues)} problems prevent analysis." if self.issues else "No reading errors."))
        notes = [str(w) for w in self.warnings[:20]]
        return Summary("Ingest report", text, rows, notes)
