"""``Election``: station table plus metadata, with numpy views for the methods."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from pollwatch.errors import CandidateError, MissingFieldError
from pollwatch.model import derived
from pollwatch.model.fields import FIELD_BY_NAME, UNTRUSTED_EXCLUSIONS

STATION_ID = "station_id"
EXCLUSION = "exclusion"
SOURCE_LINE = "source_line"
#: optional str column: the station's official web page (protocol), as the source file gives it
SOURCE_URL = "source_url"


@dataclass(frozen=True)
class Candidate:
    """A candidate or party list. ``id`` names its vote column in the station table."""

    id: str
    name: str
    party: str | None = None
    source_column: str | None = None


@dataclass(frozen=True)
class ElectionMeta:
    """What the election was. ``scrutiny`` is the id of the candidate under scrutiny
    (``None`` means the official winner: most votes in the file)."""

    country: str = ""
    date: str = ""
    type: str = ""
    name: str = ""
    candidates: tuple[Candidate, ...] = ()
    round: str = ""  # "1", "2", "runoff", … when the election has rounds
    hierarchy: tuple[str, ...] = ()
    scrutiny: str | None = None
    source: str | None = None
    profile: str = "generic"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ElectionMeta:
        d = dict(d)
        d["candidates"] = tuple(Candidate(**c) for c in d.get("candidates", ()))
        d["hierarchy"] = tuple(d.get("hierarchy", ()))
        return cls(**d)


class Election:
    """Official results of one election, one row per polling station.

    Columns of ``table``:

    * ``station_id`` (str, unique), then one str column per hierarchy level
      (``meta.hierarchy``, outermost first, e.g. ``region``, ``tik``);
    * protocol fields present in this election (Int64; see :mod:`pollwatch.model.fields`);
    * one Int64 vote column per candidate, named by ``Candidate.id``;
    * ``exclusion`` (str or null): why the station cannot be analysed, if it cannot;
    * ``source_line`` (Int64, optional): the 1-based line in the source file;
    * ``source_url`` (str, optional): the station's official page from the file's URL column
      (untrusted text: the report links only http(s) URLs).

    Conventions (one place: :mod:`pollwatch.model.derived`): ballots cast = valid + invalid;
    ballots issued = early + in station + mobile; turnout = cast / registered by default,
    ``basis="issued"`` for ballots issued / registered (the Kobak/Shpilkin convention).
    Candidate shares are of ballots cast by default, ``denominator="valid"`` for valid votes.
    """

    def __init__(
        self, table: pl.DataFrame, meta: ElectionMeta, ingest_report: object | None = None
    ) -> None:
        self.table = table
        self.meta = meta
        #: the :class:`pollwatch.ingest.IngestReport` of the source, when read from one
        self.ingest_report = ingest_report
        self._cache: dict[str, np.ndarray] = {}
        ids = [c.id for c in meta.candidates]
        missing = [c for c in ids if c not in table.columns]
        if missing:
            raise ValueError(f"candidate columns {missing} are not in the station table")
        if STATION_ID not in table.columns:
            raise ValueError("the station table has no 'station_id' column")

    # -- basic shape ---------------------------------------------------------------
    @property
    def n_stations(self) -> int:
        return self.table.height

    def __len__(self) -> int:
        return self.table.height

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"<Election {m.name or m.country or 'unnamed'} {m.date}: {self.n_stations:,} stations, "
            f"{len(m.candidates)} candidates>"
        )

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.meta.candidates

    @property
    def station_ids(self) -> np.ndarray:
        return self.table[STATION_ID].to_numpy()

    def level(self, name: str) -> np.ndarray:
        """Labels of one hierarchy level (e.g. ``"region"``) as a numpy string/object array."""
        if name not in self.meta.hierarchy:
            raise KeyError(f"hierarchy level {name!r} not in {list(self.meta.hierarchy)}")
        return self.table[name].to_numpy()

    def level_codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes and the unique labels of a hierarchy level (for group-bys in numpy).

        Groups nest: the code of ``tik`` distinguishes equal TIK names in different regions.
        """
        idx = self.meta.hierarchy.index(name) if name in self.meta.hierarchy else None
        if idx is None:
            raise KeyError(f"hierarchy level {name!r} not in {list(self.meta.hierarchy)}")
        cols = list(self.meta.hierarchy[: idx + 1])
        key = pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in cols], separator="\x1f")
        labels = self.table.select(key.alias("k"))["k"].to_numpy()
        uniq, inv = np.unique(labels, return_inverse=True)
        return inv.astype(np.int64), uniq

    # -- fields ----------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.table.columns

    def field(self, name: str) -> np.ndarray:
        """A protocol line or vote column as int64; missing cells (null) read as 0.

        Raises :class:`MissingFieldError` if the election has no such column.
        """
        if name not in self._cache:
            if name not in self.table.columns:
                what = FIELD_BY_NAME.get(name)
                raise MissingFieldError(
                    f"this election has no {name!r} column"
                    + (f" ({what.description})" if what else "")
                    + f"; it has: {', '.join(c for c in self.table.columns if c in FIELD_BY_NAME)}"
                )
            self._cache[name] = self.table[name].fill_null(0).cast(pl.Int64).to_numpy()
        return self._cache[name]

    def null_mask(self, name: str) -> np.ndarray:
        """True where a station's cell of ``name`` was empty in the source."""
        return self.table[name].is_null().to_numpy()

    # -- candidates ------------------------------------------------------------------
    def candidate(self, ref: str | None = None) -> Candidate:
        """Resolve a candidate by id, exact name, party, or a unique case-insensitive substring.

        ``None`` gives the candidate under scrutiny (``meta.scrutiny``, else the winner).
        """
        if ref is None:
            ref = self.meta.scrutiny
            if ref is None:
                return self.winner
        cands = self.meta.candidates
        for c in cands:
            if ref in (c.id, c.name, c.party, c.source_column):
                return c
        low = ref.casefold()
        hits = [c for c in cands if low in c.name.casefold() or low in (c.party or "").casefold()]
        if len(hits) == 1:
            return hits[0]
        names = ", ".join(repr(c.name) for c in cands)
        if not hits:
            raise CandidateError(f"no candidate matches {ref!r}; candidates are: {names}")
        raise CandidateError(
            f"{ref!r} matches {len(hits)} candidates ({', '.join(c.name for c in hits)}); be more specific"
        )

    @property
    def winner(self) -> Candidate:
        """The candidate with the most votes in the file."""
        keep = self.counted()
        totals = [int(self.field(c.id)[keep].sum()) for c in self.meta.candidates]
        return self.meta.candidates[int(np.argmax(totals))]

    @property
    def leader(self) -> Candidate:
        """The candidate under scrutiny (default: the official winner)."""
        return self.candidate(None)

    def votes(self, ref: str | None = None) -> np.ndarray:
        """Votes per station for a candidate (default: the one under scrutiny)."""
        return self.field(self.candidate(ref).id)

    def votes_matrix(self) -> np.ndarray:
        """(stations × candidates) int64 matrix in ``meta.candidates`` order."""
        if "__votes__" not in self._cache:
            self._cache["__votes__"] = np.column_stack(
                [self.field(c.id) for c in self.meta.candidates]
            )
        return self._cache["__votes__"]

    # -- derived quantities (delegated so that there is exactly one definition) -------
    def ballots_cast(self) -> np.ndarray:
        return derived.ballots_cast(self)

    def ballots_issued(self) -> np.ndarray:
        return derived.ballots_issued(self)

    def ballots_in_boxes(self) -> np.ndarray:
        return derived.ballots_in_boxes(self)

    def turnout(self, basis: Literal["cast", "issued"] = "cast") -> np.ndarray:
        return derived.turnout(self, basis)

    def share(
        self, ref: str | None = None, denominator: Literal["cast", "valid"] = "cast"
    ) -> np.ndarray:
        return derived.share(self, ref, denominator)

    # -- exclusions and subsets --------------------------------------------------------
    @property
    def exclusion(self) -> np.ndarray:
        """Per-station reason it cannot be analysed (None where it can)."""
        return (
            self.table[EXCLUSION].to_numpy()
            if EXCLUSION in self.table.columns
            else np.full(self.n_stations, None)
        )

    def analysable(self) -> np.ndarray:
        """Boolean mask of stations with no exclusion reason."""
        if EXCLUSION not in self.table.columns:
            return np.ones(self.n_stations, dtype=bool)
        return self.table[EXCLUSION].is_null().to_numpy()

    def exclusion_counts(self) -> dict[str, int]:
        if EXCLUSION not in self.table.columns:
            return {}
        vc = self.table[EXCLUSION].drop_nulls().value_counts()
        return {
            r: int(n) for r, n in zip(vc[EXCLUSION].to_list(), vc["count"].to_list(), strict=True)
        }

    def subset(self, mask: np.ndarray | Sequence[bool]) -> Election:
        """A new Election with the stations where ``mask`` is true (metadata kept)."""
        return Election(
            self.table.filter(pl.Series(np.asarray(mask, dtype=bool))),
            self.meta,
            self.ingest_report,
        )

    def with_meta(self, **changes) -> Election:
        return Election(self.table, replace(self.meta, **changes), self.ingest_report)

    def with_scrutiny(self, ref: str | None) -> Election:
        """The same election with another candidate under scrutiny."""
        return self.with_meta(scrutiny=None if ref is None else self.candidate(ref).id)

    # -- totals ------------------------------------------------------------------------
    def counted(self) -> np.ndarray:
        """Stations whose counts enter national totals: all but those excluded for a reason in
        :data:`~pollwatch.model.fields.UNTRUSTED_EXCLUSIONS` (a count no station can have would
        otherwise make the totals, and the "winner", whatever it says)."""
        if EXCLUSION not in self.table.columns:
            return np.ones(self.n_stations, dtype=bool)
        return ~self.table[EXCLUSION].is_in(list(UNTRUSTED_EXCLUSIONS)).fill_null(False).to_numpy()

    def totals(self) -> dict:
        """National totals as plain ints/floats: every station, excluded ones too, except those
        whose counts cannot be trusted (:meth:`counted`; they are listed in ``left_out``)."""
        keep = self.counted()
        out: dict = {"stations": self.n_stations}
        for name in ("registered", "valid", "invalid"):
            out[name] = int(self.field(name)[keep].sum())
        out["ballots_cast"] = out["valid"] + out["invalid"]
        if derived.has_issued(self):
            out["ballots_issued"] = int(self.ballots_issued()[keep].sum())
        out["votes"] = {c.name: int(self.field(c.id)[keep].sum()) for c in self.meta.candidates}
        lead = self.leader
        out["leader"] = lead.name
        out["leader_votes"] = out["votes"][lead.name]
        out["turnout"] = (
            out["ballots_cast"] / out["registered"] if out["registered"] else float("nan")
        )
        out["leader_share"] = (
            out["leader_votes"] / out["ballots_cast"] if out["ballots_cast"] else float("nan")
        )
        out["leader_share_valid"] = (
            out["leader_votes"] / out["valid"] if out["valid"] else float("nan")
        )
        out["excluded"] = self.exclusion_counts()
        out["left_out"] = {k: v for k, v in out["excluded"].items() if k in UNTRUSTED_EXCLUSIONS}
        return out

    def group_sums(self, level: str, columns: Sequence[str]) -> pl.DataFrame:
        """Sum of ``columns`` per label of a hierarchy level (nested: TIKs within regions)."""
        keys = list(self.meta.hierarchy[: self.meta.hierarchy.index(level) + 1])
        return self.table.group_by(keys, maintain_order=True).agg(
            [pl.col(c).fill_null(0).sum() for c in columns] + [pl.len().alias("stations")]
        )

    # -- persistence ---------------------------------------------------------------------
    def to_parquet(self, path: str | Path) -> None:
        """Write the station table with the metadata in the Parquet key-value metadata."""
        import pyarrow.parquet as pq

        arrow = self.table.to_arrow()
        arrow = arrow.replace_schema_metadata(
            {b"pollwatch.meta": json.dumps(self.meta.to_dict()).encode()}
        )
        pq.write_table(arrow, str(path))

    @classmethod
    def from_parquet(cls, path: str | Path) -> Election:
        """Read an Election written by :meth:`to_parquet`."""
        import pyarrow.parquet as pq

        arrow = pq.read_table(str(path))
        raw = (arrow.schema.metadata or {}).get(b"pollwatch.meta")
        if raw is None:
            raise ValueError(
                f"{path}: not a pollwatch Election parquet file (no pollwatch.meta); "
                "use pollwatch.ingest.read_election for source files"
            )
        table = pl.from_arrow(arrow)
        assert isinstance(table, pl.DataFrame)  # a pyarrow Table gives a DataFrame
        return cls(table, ElectionMeta.from_dict(json.loads(raw)))

    @classmethod
    def from_arrays(
        cls,
        *,
        registered,
        valid,
        invalid,
        votes: dict[str, np.ndarray],
        station_ids=None,
        hierarchy: dict[str, np.ndarray] | None = None,
        fields: dict[str, np.ndarray] | None = None,
        meta: ElectionMeta | None = None,
    ) -> Election:
        """Build an Election from numpy arrays (tests, simulations, notebooks).

        ``votes`` maps candidate names to vote arrays; ids become ``cand_00``, ``cand_01``, ...
        Exclusion reasons are computed as in ingest.
        """
        n = len(registered)
        ids = np.arange(1, n + 1) if station_ids is None else np.asarray(station_ids)
        cols: dict[str, object] = {
            STATION_ID: pl.Series(STATION_ID, ids.astype(str), dtype=pl.Utf8)
        }
        hierarchy = hierarchy or {}
        for k, v in hierarchy.items():
            cols[k] = pl.Series(k, np.asarray(v).astype(str), dtype=pl.Utf8)
        cols["registered"] = np.asarray(registered, dtype=np.int64)
        for k, v in (fields or {}).items():
            cols[k] = np.asarray(v, dtype=np.int64)
        cols["valid"] = np.asarray(valid, dtype=np.int64)
        cols["invalid"] = np.asarray(invalid, dtype=np.int64)
        cands = []
        for i, (name, v) in enumerate(votes.items()):
            cid = f"cand_{i:02d}"
            cands.append(Candidate(cid, name))
            cols[cid] = np.asarray(v, dtype=np.int64)
        table = pl.DataFrame(cols)
        base = meta or ElectionMeta()
        meta = replace(base, candidates=tuple(cands), hierarchy=tuple(hierarchy))
        table = table.with_columns(derived.exclusion_expr(table, meta).alias(EXCLUSION))
        return cls(table, meta)


__all__ = [
    "Candidate",
    "Election",
    "ElectionMeta",
    "STATION_ID",
    "EXCLUSION",
    "SOURCE_LINE",
    "SOURCE_URL",
]
