"""The registered quick-count sample: the file ``design`` writes, the service imports and
``estimate``/``compare`` read, and the record of reserve replacements (docs/quickcount.md §3, §4).

A quick count is only as credible as its sample: drawn before election day with a recorded seed,
registered (its hash published), and replaced only by a rule fixed in advance. NDI's handbook
(Estok, Nevitte & Cowan 2002, ch. 5 and 7) asks for exactly this: a random sample, reserve
stations drawn at the same time, and replacements that observers cannot choose.

The format (``pollwatch.quickcount-sample/1``)
----------------------------------------------
``sample.csv`` (UTF-8, header) with the columns :data:`COLUMNS` and optionally ``registered``:

* ``role`` is ``primary`` or ``reserve``; ``reserve_rank`` is 1..k within the stratum for
  reserves and blank for primaries;
* ``stratum_stations`` is ``N_h`` (frame stations of the stratum), ``stratum_sampled`` is ``n_h``
  (primary stations of the stratum) and ``weight`` is ``N_h/n_h``.

``sample.csv.json`` beside it records ``format``, ``seed``, ``strata_by``, ``lookup`` (the lookup
file and its SHA-256 when strata were derived through one), ``replacement_rule``,
``csv_sha256`` (of the CSV's bytes), ``created_at`` and ``design`` (target margin, confidence,
design effect used, ``n``).

Replacements (``primary_id,reserve_id,reason,at``) follow :data:`REPLACEMENT_RULE`: a station of
the active sample that cannot be reached is replaced by the unused reserve of its stratum with the
lowest ``reserve_rank``. A reserve keeps the stratum's weight ``N_h/n_h``: it takes the place of
the station it replaces, so ``n_h`` does not change.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from pollwatch.errors import DataIssue, IngestError

__all__ = [
    "COLUMNS",
    "FORMAT",
    "REPLACEMENT_COLUMNS",
    "REPLACEMENT_RULE",
    "RegisteredSample",
    "Replacement",
    "ReplacementError",
    "SampledStation",
    "file_sha256",
    "read_replacements",
    "read_sample",
    "sidecar_path",
    "write_replacements",
    "write_sample",
]

FORMAT = "pollwatch.quickcount-sample/1"
COLUMNS = (
    "station_id",
    "stratum",
    "role",
    "reserve_rank",
    "stratum_stations",
    "stratum_sampled",
    "weight",
)
OPTIONAL_COLUMNS = ("registered",)
REPLACEMENT_COLUMNS = ("primary_id", "reserve_id", "reason", "at")
REPLACEMENT_RULE = (
    "An unreachable station of the active sample in stratum h (a primary station, or a reserve "
    "already brought in) is replaced by the unused reserve of stratum h with the lowest "
    "reserve_rank; the replacement keeps the stratum's weight N_h/n_h."
)
SIDECAR_KEYS = (
    "format",
    "seed",
    "strata_by",
    "lookup",
    "replacement_rule",
    "csv_sha256",
    "created_at",
    "design",
)
DESIGN_KEYS = ("target_moe", "confidence", "deff", "n")
#: weights are written with full precision; a hand-made file may round them to 6 significant digits
WEIGHT_RTOL = 1e-6

Role = Literal["primary", "reserve"]


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar of a sample file: ``<file>.json`` (``sample.csv`` → ``sample.csv.json``)."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (lowercase hex), as recorded in the sidecar."""
    return _sha256(Path(path).read_bytes())


@dataclass(frozen=True)
class SampledStation:
    """One row of the sample file."""

    station_id: str
    stratum: str
    role: Role
    reserve_rank: int | None
    stratum_stations: int
    stratum_sampled: int
    weight: float
    registered: int | None = None


@dataclass(frozen=True)
class Replacement:
    """A station of the active sample replaced by a reserve of its stratum."""

    primary_id: str
    reserve_id: str
    reason: str
    at: str  # ISO 8601 time with offset, as recorded
    stratum: str

    def to_dict(self) -> dict[str, str]:
        return {
            "primary_id": self.primary_id,
            "reserve_id": self.reserve_id,
            "reason": self.reason,
            "at": self.at,
            "stratum": self.stratum,
        }


def _parse_time(text: str) -> datetime | None:
    """An ISO 8601 time with a UTC offset (``Z`` allowed); None if it is not one."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def _iso(at: str | datetime) -> str:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError(f"at ({at!r}) must carry a time zone (observers' clocks differ)")
        return at.isoformat()
    if _parse_time(at) is None:
        raise ValueError(f"at ({at!r}) must be an ISO 8601 time with a UTC offset")
    return at.strip()


class ReplacementError(IngestError):
    """A replacement breaks the sample's recorded rule (or names unknown stations)."""

    def __init__(self, source: str, issues: list[DataIssue]) -> None:
        super().__init__(source, issues)
        n = len(issues)
        shown = "\n".join(f"- {i}" for i in issues[:20])
        self.args = (f"{source}: {n} replacement(s) refused:\n{shown}",)


@dataclass
class RegisteredSample:
    """A registered sample (primary and reserve stations, strata, weights) and its replacements.

    Read one with :func:`read_sample`, write one with :func:`write_sample`. The replacements are
    the only mutable part: :meth:`replace` records one, after checking it against the rule.
    """

    stations: tuple[SampledStation, ...]
    seed: int | None
    strata_by: tuple[str, ...]
    design: dict[str, Any]
    created_at: str
    csv_sha256: str
    replacement_rule: str = REPLACEMENT_RULE
    lookup: dict[str, Any] | None = None
    source: str = "<sample>"
    _replacements: list[Replacement] = field(default_factory=list, repr=False)

    # -- the drawn sample -----------------------------------------------------------------------
    @property
    def primaries(self) -> tuple[SampledStation, ...]:
        return tuple(s for s in self.stations if s.role == "primary")

    @property
    def reserves(self) -> tuple[SampledStation, ...]:
        return tuple(s for s in self.stations if s.role == "reserve")

    @property
    def n(self) -> int:
        """Primary stations: the sample size of the design."""
        return len(self.primaries)

    @property
    def strata(self) -> dict[str, tuple[int, int]]:
        """``{stratum: (N_h, n_h)}`` in file order."""
        out: dict[str, tuple[int, int]] = {}
        for s in self.stations:
            out.setdefault(s.stratum, (s.stratum_stations, s.stratum_sampled))
        return out

    def station(self, station_id: str) -> SampledStation:
        for s in self.stations:
            if s.station_id == station_id:
                return s
        raise KeyError(f"station {station_id!r} is not in the sample {self.source}")

    # -- replacements ---------------------------------------------------------------------------
    @property
    def replacements(self) -> tuple[Replacement, ...]:
        return tuple(self._replacements)

    def active_ids(self) -> tuple[str, ...]:
        """Stations whose copies count: primaries not replaced and reserves brought in, not
        themselves replaced; in file order."""
        replaced = {r.primary_id for r in self._replacements}
        brought = {r.reserve_id for r in self._replacements}
        return tuple(
            s.station_id
            for s in self.stations
            if s.station_id not in replaced and (s.role == "primary" or s.station_id in brought)
        )

    def next_reserve(self, stratum: str) -> SampledStation | None:
        """The unused reserve of ``stratum`` with the lowest rank (None if none is left)."""
        used = {r.reserve_id for r in self._replacements}
        left = [
            s
            for s in self.reserves
            if s.stratum == stratum and s.station_id not in used and s.reserve_rank is not None
        ]
        return min(left, key=lambda s: s.reserve_rank or 0) if left else None

    def _check_replacement(
        self,
        primary_id: str,
        reason: str,
        at: str,
        reserve_id: str | None,
        src: str,
        line: int | None,
    ) -> tuple[Replacement | None, list[DataIssue]]:
        issues: list[DataIssue] = []

        def bad(message: str, column: str, value: str, expected: str) -> None:
            issues.append(DataIssue(src, message, line, column, None, value, expected))

        if primary_id not in {s.station_id for s in self.stations}:
            bad(
                "station to replace is not in the sample",
                "primary_id",
                primary_id,
                "a station of the active sample",
            )
        elif primary_id not in self.active_ids():
            replaced = any(r.primary_id == primary_id for r in self._replacements)
            bad(
                "station already replaced" if replaced else "station is an unused reserve",
                "primary_id",
                primary_id,
                "a station of the active sample",
            )
        if not reason.strip():
            bad("no reason given", "reason", reason, "why the station could not be reached")
        if _parse_time(at) is None:
            bad("not a time", "at", at, "an ISO 8601 time with a UTC offset")
        elif self._replacements and _parse_time(at) < _parse_time(self._replacements[-1].at):  # type: ignore[operator]
            bad(
                "replacement recorded before the previous one",
                "at",
                at,
                f"a time at or after {self._replacements[-1].at} (replacements are kept in order)",
            )
        if issues:
            return None, issues
        stratum = self.station(primary_id).stratum
        nxt = self.next_reserve(stratum)
        if nxt is None:
            bad(
                f"no unused reserve left in stratum {stratum!r}",
                "reserve_id",
                reserve_id or "",
                "an unused reserve of the stratum",
            )
            return None, issues
        if reserve_id is not None and reserve_id != nxt.station_id:
            bad(
                "replacement breaks the rule: " + self.replacement_rule,
                "reserve_id",
                reserve_id,
                f"{nxt.station_id} (unused reserve of stratum {stratum!r} with the lowest "
                f"reserve_rank, {nxt.reserve_rank})",
            )
            return None, issues
        return Replacement(primary_id, nxt.station_id, reason.strip(), at.strip(), stratum), []

    def replace(self, primary_id: str, reason: str, at: str | datetime) -> Replacement:
        """Replace an unreachable station of the active sample by the rule; record and return it.

        Raises :class:`ReplacementError` if the station is not in the active sample, the reason
        is empty, ``at`` is not an ISO time with an offset or precedes the last replacement, or
        the stratum has no unused reserve left.
        """
        at = at.isoformat() if isinstance(at, datetime) and at.tzinfo is not None else at
        rep, issues = self._check_replacement(
            str(primary_id), reason, str(at), None, self.source, None
        )
        if rep is None:
            raise ReplacementError(self.source, issues)
        self._replacements.append(rep)
        return rep

    def apply(
        self,
        rows: Iterable[Mapping[str, str]],
        source: str = "<replacements>",
        lines: Sequence[int] | None = None,
    ) -> tuple[Replacement, ...]:
        """Apply recorded replacements in order, refusing any that break the rule.

        Each row has ``primary_id``, ``reserve_id``, ``reason`` and ``at``; the reserve must be
        the one the rule gives at that point. Nothing is applied if any row is refused.
        """
        saved = list(self._replacements)
        issues: list[DataIssue] = []
        for i, row in enumerate(rows):
            rep, bad = self._check_replacement(
                str(row.get("primary_id") or "").strip(),
                str(row.get("reason") or ""),
                str(row.get("at") or ""),
                str(row.get("reserve_id") or "").strip(),
                source,
                lines[i] if lines is not None else i + 2,
            )
            issues += bad
            if rep is not None:
                self._replacements.append(rep)
        if issues:
            self._replacements[:] = saved
            raise ReplacementError(source, issues)
        return self.replacements[len(saved) :]

    # -- views ----------------------------------------------------------------------------------
    def table(self, active: bool = True) -> pl.DataFrame:
        """The sample as a DataFrame (``active``: only the stations whose copies count)."""
        keep = set(self.active_ids()) if active else None
        rows = [s for s in self.stations if keep is None or s.station_id in keep]
        replaced_by = {r.primary_id: r.reserve_id for r in self._replacements}
        return pl.DataFrame(
            {
                "station_id": [s.station_id for s in rows],
                "stratum": [s.stratum for s in rows],
                "role": [s.role for s in rows],
                "reserve_rank": [s.reserve_rank for s in rows],
                "stratum_stations": [s.stratum_stations for s in rows],
                "stratum_sampled": [s.stratum_sampled for s in rows],
                "weight": [s.weight for s in rows],
                "replaced_by": [replaced_by.get(s.station_id) for s in rows],
            },
            schema_overrides={"reserve_rank": pl.Int64, "replaced_by": pl.Utf8},
        )

    def to_dict(self) -> dict[str, Any]:
        """Sidecar metadata plus counts and replacements (the stations themselves are in the CSV)."""
        return {
            "source": self.source,
            "format": FORMAT,
            "seed": self.seed,
            "strata_by": list(self.strata_by),
            "lookup": self.lookup,
            "replacement_rule": self.replacement_rule,
            "csv_sha256": self.csv_sha256,
            "created_at": self.created_at,
            "design": self.design,
            "primaries": self.n,
            "reserves": len(self.reserves),
            "strata": len(self.strata),
            "replacements": [r.to_dict() for r in self._replacements],
        }


# -- reading --------------------------------------------------------------------------------------


def _int(text: str, minimum: int) -> int | None:
    try:
        v = int(text.strip())
    except ValueError:
        return None
    return v if v >= minimum else None


def _parse_rows(text: str, source: str) -> tuple[list[SampledStation], list[DataIssue]]:
    """Parse and check the CSV text; every problem becomes a :class:`DataIssue`."""
    issues: list[DataIssue] = []
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        issues.append(
            DataIssue(
                source,
                "not a quick-count sample file (header)",
                1,
                None,
                value=",".join(header),
                expected=",".join(COLUMNS) + " (+ optional registered)",
            )
        )
        return [], issues
    idx = {c: header.index(c) for c in header}
    out: list[SampledStation] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            issues.append(
                DataIssue(
                    source,
                    "wrong number of cells",
                    line,
                    None,
                    value=str(len(row)),
                    expected=str(len(header)),
                )
            )
            continue
        cell = {c: row[i].strip() for c, i in idx.items()}
        sid = cell["station_id"]
        n_before = len(issues)

        def bad(
            message: str,
            column: str,
            expected: str,
            sid: str = sid,
            line: int = line,
            cell: dict[str, str] = cell,
        ) -> None:
            issues.append(
                DataIssue(source, message, line, column, sid or None, cell[column], expected)
            )

        if not sid:
            bad("empty station id", "station_id", "a station id of the frame")
        elif sid in seen:
            bad(
                "station listed twice",
                "station_id",
                f"each station once (first on line {seen[sid]})",
            )
        else:
            seen[sid] = line
        if not cell["stratum"]:
            bad("empty stratum", "stratum", "the stratum's name")
        role = cell["role"]
        if role not in ("primary", "reserve"):
            bad("unknown role", "role", "primary or reserve")
        rank: int | None = None
        if role == "primary" and cell["reserve_rank"]:
            bad("a primary station has a reserve rank", "reserve_rank", "blank for a primary")
        elif role == "reserve":
            rank = _int(cell["reserve_rank"], 1)
            if rank is None:
                bad("not a reserve rank", "reserve_rank", "an integer 1, 2, … within the stratum")
        big_n = _int(cell["stratum_stations"], 1)
        if big_n is None:
            bad("not a stratum size", "stratum_stations", "a positive integer N_h")
        small_n = _int(cell["stratum_sampled"], 1)
        if small_n is None:
            bad("not a stratum sample size", "stratum_sampled", "a positive integer n_h")
        try:
            weight = float(cell["weight"])
        except ValueError:
            weight = math.nan
        if big_n and small_n:
            if small_n > big_n:
                bad("more stations sampled than in the stratum", "stratum_sampled", f"≤ {big_n}")
            w = big_n / small_n
            if not math.isfinite(weight) or abs(weight - w) > WEIGHT_RTOL * w:
                bad(
                    "weight inconsistent with N_h/n_h",
                    "weight",
                    f"{big_n}/{small_n} = {w:.6g}",
                )
        elif not math.isfinite(weight):
            bad("not a weight", "weight", "N_h/n_h")
        registered: int | None = None
        if "registered" in cell and cell["registered"]:
            registered = _int(cell["registered"], 0)
            if registered is None:
                bad("not a count of registered voters", "registered", "a non-negative integer")
        if len(issues) == n_before:
            out.append(
                SampledStation(
                    sid,
                    cell["stratum"],
                    role,  # type: ignore[arg-type]  # checked above
                    rank,
                    big_n or 0,
                    small_n or 0,
                    weight,
                    registered,
                )
            )
    if not out and not issues:
        issues.append(DataIssue(source, "no stations", 2, None, expected="one row per station"))
    issues += _check_strata(out, source, seen)
    return out, issues


def _check_strata(
    rows: Sequence[SampledStation], source: str, lines: Mapping[str, int]
) -> list[DataIssue]:
    """Within a stratum: one N_h and n_h, n_h primaries, reserve ranks 1..k, ≤ N_h stations."""
    issues: list[DataIssue] = []
    by: dict[str, list[SampledStation]] = {}
    for s in rows:
        by.setdefault(s.stratum, []).append(s)
    for name, members in by.items():
        first = members[0]
        for s in members[1:]:
            for col in ("stratum_stations", "stratum_sampled"):
                if getattr(s, col) != getattr(first, col):
                    issues.append(
                        DataIssue(
                            source,
                            f"stratum {name!r} has two values of {col}",
                            lines[s.station_id],
                            col,
                            s.station_id,
                            str(getattr(s, col)),
                            f"{getattr(first, col)} as on line {lines[first.station_id]}",
                        )
                    )
        prim = sum(s.role == "primary" for s in members)
        if prim != first.stratum_sampled:
            issues.append(
                DataIssue(
                    source,
                    f"stratum {name!r}: stratum_sampled differs from its primary stations",
                    lines[first.station_id],
                    "stratum_sampled",
                    first.station_id,
                    str(first.stratum_sampled),
                    f"{prim} (primary rows of the stratum)",
                )
            )
        if len(members) > first.stratum_stations:
            issues.append(
                DataIssue(
                    source,
                    f"stratum {name!r} lists more stations than it has",
                    lines[first.station_id],
                    "stratum_stations",
                    first.station_id,
                    str(first.stratum_stations),
                    f"at least {len(members)} (primaries and reserves listed)",
                )
            )
        ranks = sorted(s.reserve_rank or 0 for s in members if s.role == "reserve")
        if ranks != list(range(1, len(ranks) + 1)):
            res = [s for s in members if s.role == "reserve"]
            issues.append(
                DataIssue(
                    source,
                    f"stratum {name!r}: reserve ranks are not 1..{len(ranks)}",
                    lines[res[0].station_id],
                    "reserve_rank",
                    None,
                    ",".join(map(str, ranks)),
                    ",".join(map(str, range(1, len(ranks) + 1))),
                )
            )
    return issues


def _check_sidecar(
    meta: Any, sidecar: str, csv_sha: str, rows: Sequence[SampledStation]
) -> list[DataIssue]:
    issues: list[DataIssue] = []

    def bad(message: str, key: str, value: Any, expected: str) -> None:
        issues.append(DataIssue(sidecar, message, None, key, None, str(value), expected))

    if not isinstance(meta, dict):
        bad("not a sample sidecar", "(document)", type(meta).__name__, "a JSON object")
        return issues
    for key in SIDECAR_KEYS:
        if key not in meta:
            bad(f'missing key "{key}"', key, "", "the keys " + ", ".join(SIDECAR_KEYS))
    if issues:
        return issues
    if meta["format"] != FORMAT:
        bad("unknown format", "format", meta["format"], FORMAT)
    if meta["csv_sha256"] != csv_sha:
        bad(
            "the sample file is not the registered one (SHA-256 differs)",
            "csv_sha256",
            meta["csv_sha256"],
            f"{csv_sha} (SHA-256 of the CSV as found)",
        )
    if meta["seed"] is not None and not isinstance(meta["seed"], int):
        bad("not a seed", "seed", meta["seed"], "an integer (or null)")
    if not isinstance(meta["strata_by"], list) or not all(
        isinstance(c, str) for c in meta["strata_by"]
    ):
        bad("not a list of columns", "strata_by", meta["strata_by"], "a list of column names")
    if meta["replacement_rule"] != REPLACEMENT_RULE:
        bad(
            "unknown replacement rule",
            "replacement_rule",
            meta["replacement_rule"],
            REPLACEMENT_RULE,
        )
    if not isinstance(meta["created_at"], str) or _parse_time(meta["created_at"]) is None:
        bad("not a time", "created_at", meta["created_at"], "an ISO 8601 time with a UTC offset")
    lookup = meta["lookup"]
    if lookup is not None and not (
        isinstance(lookup, dict) and {"file", "sha256", "from"} <= set(lookup)
    ):
        bad("not a lookup record", "lookup", lookup, 'null or {"file", "sha256", "from", …}')
    design = meta["design"]
    if not isinstance(design, dict) or not set(DESIGN_KEYS) <= set(design):
        bad("not a design record", "design", design, "an object with " + ", ".join(DESIGN_KEYS))
    elif rows and design["n"] != sum(s.role == "primary" for s in rows):
        bad(
            "design n differs from the primary stations in the file",
            "design.n",
            design["n"],
            str(sum(s.role == "primary" for s in rows)),
        )
    return issues


def read_sample(path: str | Path) -> RegisteredSample:
    """Read and check a registered sample and its sidecar ``<file>.json``.

    Raises :class:`~pollwatch.errors.IngestError` listing every problem with file, line,
    column, expected and found values: a header that is not :data:`COLUMNS`, duplicate stations,
    unknown roles, weights that are not ``N_h/n_h`` (relative tolerance 1e-6), ``n_h`` that is
    not the stratum's primaries, reserve ranks that are not 1..k, a sidecar of another format
    or rule, or a CSV whose SHA-256 is not the one registered in the sidecar.
    """
    path = Path(path)
    side = sidecar_path(path)
    for p in (path, side):
        if not p.exists():
            raise IngestError(
                str(p),
                [
                    DataIssue(
                        str(p),
                        "file not found",
                        hint=f"a registered sample is {path.name} with its sidecar {side.name}",
                    )
                ],
            )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            str(path), [DataIssue(str(path), "not UTF-8", value=str(exc), expected="UTF-8 text")]
        ) from None
    rows, issues = _parse_rows(text, str(path))
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        issues.append(DataIssue(str(side), "not JSON", value=str(exc), expected="a JSON object"))
        meta = None
    if meta is not None:
        issues += _check_sidecar(meta, str(side), _sha256(data), rows)
    if issues:
        raise IngestError(str(path), issues)
    assert isinstance(meta, dict)  # a parse failure was an issue above
    return RegisteredSample(
        stations=tuple(rows),
        seed=meta["seed"],
        strata_by=tuple(meta["strata_by"]),
        design=dict(meta["design"]),
        created_at=meta["created_at"],
        csv_sha256=meta["csv_sha256"],
        replacement_rule=meta["replacement_rule"],
        lookup=meta["lookup"],
        source=str(path),
    )


# -- writing --------------------------------------------------------------------------------------


def _csv_text(stations: Sequence[SampledStation]) -> str:
    with_registered = any(s.registered is not None for s in stations)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS + (("registered",) if with_registered else ()))
    for s in stations:
        row = [
            s.station_id,
            s.stratum,
            s.role,
            "" if s.reserve_rank is None else s.reserve_rank,
            s.stratum_stations,
            s.stratum_sampled,
            repr(float(s.weight)),
        ]
        if with_registered:
            row.append("" if s.registered is None else s.registered)
        w.writerow(row)
    return buf.getvalue()


def write_sample(
    path: str | Path,
    stations: Sequence[SampledStation],
    *,
    seed: int | None,
    strata_by: Sequence[str],
    design: Mapping[str, Any],
    lookup: Mapping[str, Any] | None = None,
    created_at: str | datetime | None = None,
) -> RegisteredSample:
    """Write ``stations`` as a registered sample (CSV + sidecar) and return it as read back.

    The rows are checked with the same rules as :func:`read_sample` before anything is written;
    ``design`` needs ``target_moe``, ``confidence``, ``deff`` and ``n`` (None where not used).
    """
    path = Path(path)
    text = _csv_text(stations)
    rows, issues = _parse_rows(text, str(path))
    design = dict(design)
    missing = [k for k in DESIGN_KEYS if k not in design]
    if missing:
        raise ValueError(f"design ({design!r}) lacks {', '.join(missing)}")
    if created_at is None:
        created_at = datetime.now(UTC).replace(microsecond=0)
    csv_sha = _sha256(text.encode("utf-8"))
    meta: dict[str, Any] = {
        "format": FORMAT,
        "seed": seed,
        "strata_by": list(strata_by),
        "lookup": dict(lookup) if lookup is not None else None,
        "replacement_rule": REPLACEMENT_RULE,
        "csv_sha256": csv_sha,
        "created_at": _iso(created_at),
        "design": design,
    }
    issues += _check_sidecar(meta, str(sidecar_path(path)), csv_sha, rows)
    if issues:
        raise IngestError(str(path), issues)
    path.write_bytes(text.encode("utf-8"))
    sidecar_path(path).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return read_sample(path)


# -- replacements file ----------------------------------------------------------------------------


def read_replacements(path: str | Path, sample: RegisteredSample) -> tuple[Replacement, ...]:
    """Read a replacements CSV (``primary_id,reserve_id,reason,at``) and apply it to ``sample``.

    Rows are applied in file order and each must follow the sample's rule; any refusal raises
    :class:`ReplacementError` naming the line, column, the reserve the rule gives and the one
    found, and leaves ``sample`` unchanged.
    """
    path = Path(path)
    if not path.exists():
        raise ReplacementError(str(path), [DataIssue(str(path), "file not found")])
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if sorted(header) != sorted(REPLACEMENT_COLUMNS):
        raise ReplacementError(
            str(path),
            [
                DataIssue(
                    str(path),
                    "not a replacements file (header)",
                    1,
                    value=",".join(header),
                    expected=",".join(REPLACEMENT_COLUMNS),
                )
            ],
        )
    rows, lines = [], []
    for r in reader:
        rows.append({k.strip(): (v or "") for k, v in r.items() if k is not None})
        lines.append(reader.line_num)  # DictReader skips blank lines: keep the file's numbering
    return sample.apply(rows, str(path), lines)


def write_replacements(path: str | Path, replacements: Iterable[Replacement]) -> Path:
    """Write replacements as CSV (``primary_id,reserve_id,reason,at``), in the order given."""
    path = Path(path)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REPLACEMENT_COLUMNS)
    for r in replacements:
        w.writerow([r.primary_id, r.reserve_id, r.reason, r.at])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path
