"""Camera-monitoring inputs: tallies per window, the camera-status log and timestamped events.

All three are Polars DataFrames with fixed columns, so the estimator does not care whether a
human watcher, the observation service or the video counter produced them. Times are minutes
after midnight of election day (floats, so video windows can be shorter than a minute).

* tallies: ``station_id, window_start, window_end, watcher, count, usable, reason, source_sha256``
* status log: ``station_id, time, status`` — the status holds from ``time`` until the next entry
* events: ``station_id, time, event, note``

Outages are missing data, never zero voters: a window that overlaps any outage is unusable.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import polars as pl

from pollwatch.errors import DataIssue, IngestError

STATUSES = (
    "online",
    "offline",
    "audio_muted",
    "turned_away",
    "covered",
    "box_out_of_frame",
    "frozen",
    "black",
)
# Audio is muted on every camera in the reference case; the box can still be seen, so a muted
# camera is a finding, not an outage.
OUTAGE_STATUSES = frozenset(STATUSES) - {"online", "audio_muted"}
EVENT_KINDS = (
    "stuffing_seen",
    "group_arrival",
    "angle_change",
    "box_opened",
    "staff_at_box",
    "camera_restarted",
    "other",
)

TALLY_SCHEMA = {
    "station_id": pl.Utf8,
    "window_start": pl.Float64,
    "window_end": pl.Float64,
    "watcher": pl.Utf8,
    "count": pl.Int64,
    "usable": pl.Boolean,
    "reason": pl.Utf8,
    "source_sha256": pl.Utf8,
}
STATUS_SCHEMA = {"station_id": pl.Utf8, "time": pl.Float64, "status": pl.Utf8}
EVENT_SCHEMA = {"station_id": pl.Utf8, "time": pl.Float64, "event": pl.Utf8, "note": pl.Utf8}

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def parse_time(text: str) -> float:
    """``HH:MM``, ``HH:MM:SS``, an ISO date-time, or a bare number of minutes after midnight
    (as pollwatch's own tables hold them) → minutes after midnight."""
    s = text.strip()
    if not s:
        raise ValueError("empty")
    try:
        minutes = float(s)
    except ValueError:
        pass
    else:
        if not 0 <= minutes <= 24 * 60:
            raise ValueError(s)
        return minutes
    if "T" in s or " " in s or s.count("-") >= 2:
        t = datetime.fromisoformat(s)
        return t.hour * 60 + t.minute + (t.second + t.microsecond / 1e6) / 60
    parts = s.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(s)
    h, m = int(parts[0]), int(parts[1])
    sec = float(parts[2]) if len(parts) == 3 else 0.0
    if not (0 <= h <= 24 and 0 <= m < 60 and 0 <= sec < 60):
        raise ValueError(s)
    return h * 60 + m + sec / 60


def format_time(minutes: float) -> str:
    """Minutes after midnight → ``HH:MM`` (or ``HH:MM:SS`` when not on a whole minute)."""
    total = round(minutes * 60, 3)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    if abs(s) < 1e-6:
        return f"{int(h):02d}:{int(m):02d}"
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}".rstrip("0").rstrip(".")


def _parse_bool(text: str) -> bool | None:
    s = text.strip().lower()
    if s == "":
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(text)


def _parse_count(text: str) -> int | None:
    s = text.strip()
    if s == "":
        return None
    v = int(s)
    if v < 0:
        raise ValueError(text)
    return v


def _parse_status(text: str) -> str:
    s = text.strip().lower().replace(" ", "_").replace("-", "_")
    if s not in STATUSES:
        raise ValueError(text)
    return s


def _parse_event(text: str) -> str:
    s = text.strip().lower().replace(" ", "_").replace("-", "_")
    if not s:
        raise ValueError(text)
    return s


def _text(text: str) -> str | None:
    return text.strip() or None


def _station(text: str) -> str:
    s = text.strip()
    if not s:
        raise ValueError(text)
    return s


# column → (parser, expected description, required)
_Spec = dict[str, tuple[Callable[[str], object], str, bool]]

_TALLY_SPEC: _Spec = {
    "station_id": (_station, "a station id", True),
    "window_start": (
        parse_time,
        "a time HH:MM[:SS], ISO date-time or minutes after midnight",
        True,
    ),
    "window_end": (parse_time, "a time HH:MM[:SS], ISO date-time or minutes after midnight", True),
    "watcher": (_text, "a watcher id", False),
    "count": (_parse_count, "a non-negative integer (empty if unusable)", True),
    "usable": (_parse_bool, "yes/no (or 1/0, true/false)", False),
    "reason": (_text, "text", False),
    "source_sha256": (_text, "a SHA-256 hex digest", False),
}
_STATUS_SPEC: _Spec = {
    "station_id": (_station, "a station id", True),
    "time": (parse_time, "a time HH:MM[:SS], ISO date-time or minutes after midnight", True),
    "status": (_parse_status, "one of " + ", ".join(STATUSES), True),
}
_EVENT_SPEC: _Spec = {
    "station_id": (_station, "a station id", True),
    "time": (parse_time, "a time HH:MM[:SS], ISO date-time or minutes after midnight", True),
    "event": (_parse_event, "an event name such as " + ", ".join(EVENT_KINDS), True),
    "note": (_text, "text", False),
}


def _read_rows(
    source: str | Path | io.StringIO, spec: _Spec
) -> tuple[list[dict], list[DataIssue], str]:
    """Parse a CSV against ``spec``, collecting every problem instead of stopping at the first."""
    if isinstance(source, io.StringIO):
        name, text = "<memory>", source.getvalue()
    else:
        name = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise IngestError(
                name, [DataIssue(name, f"cannot read the file ({exc.strerror})")]
            ) from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    issues: list[DataIssue] = []
    missing = [c for c, (_, _, req) in spec.items() if req and c not in header]
    if missing:
        issues += [
            DataIssue(
                name,
                f'missing required column "{c}"',
                line=1,
                expected=spec[c][1],
                hint=f"found columns: {', '.join(header) or '(none)'}",
            )
            for c in missing
        ]
        raise IngestError(name, issues)
    index = {c: header.index(c) for c in spec if c in header}
    rows: list[dict] = []
    for lineno, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        row: dict = {}
        for col, (parse, expected, _) in spec.items():
            cell = raw[index[col]] if col in index and index[col] < len(raw) else ""
            try:
                row[col] = parse(cell) if col in index else None
            except (ValueError, TypeError):
                issues.append(
                    DataIssue(
                        name,
                        "cannot read the value",
                        line=lineno,
                        column=col,
                        value=cell,
                        expected=expected,
                        station_id=(raw[index["station_id"]].strip() or None)
                        if index["station_id"] < len(raw)
                        else None,
                    )
                )
                row[col] = None
        rows.append(row | {"_line": lineno})
    return rows, issues, name


def read_tallies(path: str | Path | io.StringIO) -> pl.DataFrame:
    """Read a tallies CSV (one row per station, window and watcher); raise IngestError listing
    every problem (file, line, column, expected, found).

    ``usable`` defaults to yes when the count is given and to no when it is empty.
    """
    rows, issues, name = _read_rows(path, _TALLY_SPEC)
    for r in rows:
        s, e = r["window_start"], r["window_end"]
        if s is not None and e is not None and e <= s:
            issues.append(
                DataIssue(
                    name,
                    "the window ends before it starts",
                    line=r["_line"],
                    column="window_end",
                    value=format_time(e),
                    expected=f"a time after {format_time(s)}",
                    station_id=r["station_id"],
                )
            )
        if r["usable"] is None:
            r["usable"] = r["count"] is not None
        if r["usable"] and r["count"] is None and not any(i.line == r["_line"] for i in issues):
            issues.append(
                DataIssue(
                    name,
                    "a usable window needs a count",
                    line=r["_line"],
                    column="count",
                    value="",
                    expected="a non-negative integer",
                    station_id=r["station_id"],
                    hint="leave usable=no for windows that could not be watched",
                )
            )
        r["watcher"] = r["watcher"] or "watcher"
    if issues:
        raise IngestError(name, issues)
    return tallies_frame(rows)


def tallies_frame(rows: Iterable[dict]) -> pl.DataFrame:
    """Build a tallies table from dicts with the tally columns (missing optional ones → null)."""
    rows = list(rows)
    data = {c: [r.get(c) for r in rows] for c in TALLY_SCHEMA}
    data["watcher"] = [w if w is not None else "watcher" for w in data["watcher"]]
    data["usable"] = [
        bool(u) if u is not None else c is not None
        for u, c in zip(data["usable"], data["count"], strict=True)
    ]
    return pl.DataFrame(data, schema=TALLY_SCHEMA)


def read_status_log(path: str | Path | io.StringIO) -> pl.DataFrame:
    """Read a camera-status CSV (``station_id, time, status``); IngestError lists every problem."""
    rows, issues, name = _read_rows(path, _STATUS_SPEC)
    if issues:
        raise IngestError(name, issues)
    return pl.DataFrame({c: [r[c] for r in rows] for c in STATUS_SCHEMA}, schema=STATUS_SCHEMA)


def read_events(path: str | Path | io.StringIO) -> pl.DataFrame:
    """Read timestamped events (``station_id, time, event[, note]``): stuffing seen, group
    arrivals, angle changes (evidence in themselves)."""
    rows, issues, name = _read_rows(path, _EVENT_SPEC)
    if issues:
        raise IngestError(name, issues)
    return pl.DataFrame({c: [r[c] for r in rows] for c in EVENT_SCHEMA}, schema=EVENT_SCHEMA)


def outage_intervals(
    status: pl.DataFrame, day_end: float = 24 * 60
) -> dict[str, list[tuple[float, float, str]]]:
    """Per station, the ``(start, end, status)`` stretches in an outage status.

    A status holds until the station's next log entry (or ``day_end``).
    """
    out: dict[str, list[tuple[float, float, str]]] = {}
    for (sid,), grp in status.sort("time").group_by(["station_id"], maintain_order=True):
        times, states = grp["time"].to_list(), grp["status"].to_list()
        ends = times[1:] + [day_end]
        out[str(sid)] = [
            (t, e, s)
            for t, e, s in zip(times, ends, states, strict=True)
            if s in OUTAGE_STATUSES and e > t
        ]
    return out


def apply_status(tallies: pl.DataFrame, status: pl.DataFrame | None) -> pl.DataFrame:
    """Mark every window that overlaps an outage as unusable (reason = the outage status).

    The count is kept for the record but no longer used: outages are missing, never zero.
    """
    if status is None or status.height == 0:
        return tallies
    outages = outage_intervals(status)
    usable, reason = tallies["usable"].to_list(), tallies["reason"].to_list()
    for i, (sid, s, e) in enumerate(
        zip(tallies["station_id"], tallies["window_start"], tallies["window_end"], strict=True)
    ):
        for a, b, st in outages.get(sid, ()):
            if a < e and b > s:  # any overlap of positive length
                usable[i], reason[i] = False, st
                break
    return tallies.with_columns(
        pl.Series("usable", usable, pl.Boolean), pl.Series("reason", reason, pl.Utf8)
    )
