"""Mapping files: which source column is which model field, and which are candidates.

A mapping is TOML (see ``presets/*.toml`` for complete examples)::

    [election]            # metadata: country, date, type, name, profile, scrutiny
    [station]             # id = ["region", "uik"] (joined with "/"), hierarchy = ["region"]
                          # level = { column = "level", value = "УИК" }   (rows of several levels)
                          # contest = { column = "election", value = "..." } (several contests)
                          # blank_id = "skip"  (leave out, and count, total rows with a blank id part)
    [fields]              # registered = "Reg. voters"  or  { contains = "...", and_contains = "..." }
    [derive]              # valid = "sum(candidates)"  or  valid = ["Да", "Нет"]  (when no column has it)
    [candidates]          # columns = ["A", "B"], or rest = true with ignore = ["url"]
    [long]                # candidate = "candidate", votes = "votes"  (one row per station and candidate)
    [source]              # encoding, delimiter, thousands, sheet
    [options]             # station_issued_includes_mobile = true
    [exclusions]          # evoting_labels = [...], evoting_min_registered = 20000
    [plausibility]        # max_count, max_registered, max_ratio, sum_tolerance, enforce

Why ``[derive]`` has its own little syntax (terms joined by ``+``/``-``, each a model field,
``sum(candidates)`` or a quoted column name) rather than Python: a mapping is data that
people share, and reading it must never run code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pollwatch.errors import ConfigError
from pollwatch.model.fields import FIELD_BY_NAME


@dataclass(frozen=True)
class ColumnSpec:
    """How to find one column: an exact name, or substrings that must (not) occur.

    A column matches when it holds every ``contains`` substring, or any ``any_of`` one, and
    none of ``not_contains`` (all case-insensitive). When several columns match, the reader
    ranks them with :meth:`specificity` and the protocol-line vocabulary.
    """

    name: str | None = None
    contains: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    optional: bool = True

    def describe(self) -> str:
        if self.name is not None:
            return repr(self.name)
        parts = [f"containing {' and '.join(map(repr, self.contains))}"] if self.contains else []
        if self.any_of:
            parts.append(
                f"{'or ' if parts else 'containing '}{' or '.join(map(repr, self.any_of))}"
            )
        if self.not_contains:
            parts.append(f"but not {' or '.join(map(repr, self.not_contains))}")
        return "a column " + " ".join(parts)

    def matches(self, column: str) -> bool:
        return self.specificity(column) is not None

    def specificity(self, column: str) -> int | None:
        """How many of the spec's terms the column matched (``None``: no match; 1000: exact name)."""
        if self.name is not None:
            return 1000 if column.strip() == self.name.strip() else None
        low = _norm(column)
        n_all = sum(_norm(s) in low for s in self.contains)
        n_any = sum(_norm(s) in low for s in self.any_of)
        ok = (bool(self.contains) and n_all == len(self.contains)) or n_any > 0
        if not ok or any(_norm(s) in low for s in self.not_contains):
            return None
        return n_all + n_any


def _norm(text: str) -> str:
    """Casefold, ``ё`` as ``е``, single spaces: wording that differs only in these is the same line."""
    return re.sub(r"\s+", " ", text.casefold().replace("ё", "е")).strip()


@dataclass(frozen=True)
class RowSelector:
    """Which rows to keep by the value of one column (``[station] level`` / ``contest``).

    ``column`` ``None`` means the column whose header names a level (or contest).
    """

    column: str | None
    values: tuple[str, ...]


@dataclass(frozen=True)
class Derivation:
    """A field computed from others: ``sign * term`` summed; a term is a model field,
    ``sum(candidates)`` or a source column (``'Да'``)."""

    text: str
    terms: tuple[
        tuple[int, str, str], ...
    ]  # (sign, kind in {"field", "column", "candidates"}, name)


@dataclass(frozen=True)
class LongLayout:
    """One row per station and candidate: which columns hold the candidate and the votes."""

    candidate: str
    votes: str
    party: str | None = None


@dataclass(frozen=True)
class Mapping:
    name: str
    fields: dict[str, ColumnSpec]
    station_id: tuple[str, ...]
    hierarchy: tuple[str, ...] = ()
    candidate_columns: tuple[str, ...] = ()
    candidates_rest: bool = False
    candidates_ignore: tuple[str, ...] = ()
    candidate_names: dict[str, str] = field(default_factory=dict)
    candidate_parties: dict[str, str] = field(default_factory=dict)
    election: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    exclusions: dict[str, Any] = field(default_factory=dict)
    detect: tuple[str, ...] = ()
    description: str = ""
    level: RowSelector | None = None
    contest: RowSelector | None = None
    blank_id: str = "error"
    derive: dict[str, Derivation] = field(default_factory=dict)
    long: LongLayout | None = None
    plausibility: dict[str, Any] = field(default_factory=dict)

    def detects(self, header: list[str]) -> bool:
        """True if every ``detect`` substring occurs in some header cell."""
        return bool(self.detect) and all(
            any(d.casefold() in h.casefold() for h in header) for d in self.detect
        )


def _strings(where: str, what: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return tuple(raw)
    raise ConfigError(f"{where}: {what} must be a string or a list of strings, got {raw!r}")


def _spec(where: str, key: str, raw: Any, derived: bool = False) -> ColumnSpec:
    required = (FIELD_BY_NAME[key].required if key in FIELD_BY_NAME else False) and not derived
    if isinstance(raw, str):
        return ColumnSpec(name=raw, optional=not required)
    if isinstance(raw, dict):
        unknown = set(raw) - {
            "name",
            "contains",
            "and_contains",
            "or_contains",
            "not_contains",
            "optional",
        }
        if unknown:
            raise ConfigError(
                f"{where}: [fields] {key} has unknown keys {sorted(unknown)}; "
                "allowed: name, contains, and_contains, or_contains, not_contains, optional"
            )
        w = f"[fields] {key}"
        return ColumnSpec(
            name=raw.get("name"),
            contains=_strings(where, w, raw.get("contains"))
            + _strings(where, w, raw.get("and_contains")),
            any_of=_strings(where, w, raw.get("or_contains")),
            not_contains=_strings(where, w, raw.get("not_contains")),
            optional=bool(raw.get("optional", not required)),
        )
    raise ConfigError(f"{where}: [fields] {key} must be a column name or a table, got {raw!r}")


_TERM = re.compile(
    r"\s*([+-])?\s*(sum\(\s*candidates\s*\)|'[^']*'|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_]*)\s*"
)


def parse_derivation(where: str, key: str, raw: Any) -> Derivation:
    """``[derive] key = ...``: a list of column names (their sum) or ``"a + b - 'Column'"``.

    Terms: a model field name, ``sum(candidates)``, or a source column in quotes. Only ``+`` and
    ``-``; nothing is evaluated as code.
    """
    if key not in FIELD_BY_NAME:
        raise ConfigError(
            f"{where}: [derive] {key}: not a model field; known fields: {', '.join(FIELD_BY_NAME)}"
        )
    if isinstance(raw, list):
        if not raw or not all(isinstance(x, str) for x in raw):
            raise ConfigError(
                f"{where}: [derive] {key} = [...] must list column names, got {raw!r}"
            )
        return Derivation(" + ".join(repr(x) for x in raw), tuple((1, "column", x) for x in raw))
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(
            f"{where}: [derive] {key} must be a list of columns or an expression such as "
            f'"sum(candidates)" or "ballots_stationary_box + ballots_mobile_box - invalid", got {raw!r}'
        )
    terms: list[tuple[int, str, str]] = []
    pos = 0
    while pos < len(raw):
        m = _TERM.match(raw, pos)
        if m is None or m.end() == pos or (terms and m.group(1) is None):
            raise ConfigError(
                f"{where}: [derive] {key} = {raw!r}: cannot read it from {raw[pos:]!r}; terms are "
                "model fields, sum(candidates) or 'quoted column names', joined by + or -"
            )
        sign = -1 if m.group(1) == "-" else 1
        tok = m.group(2)
        if tok.startswith("sum("):
            terms.append((sign, "candidates", "candidates"))
        elif tok[0] in "'\"":
            terms.append((sign, "column", tok[1:-1]))
        elif tok in FIELD_BY_NAME:
            if tok == key:
                raise ConfigError(f"{where}: [derive] {key} refers to itself")
            terms.append((sign, "field", tok))
        else:
            raise ConfigError(
                f"{where}: [derive] {key} = {raw!r}: {tok!r} is not a model field; put a column "
                f"name in quotes ('{tok}') or use sum(candidates)"
            )
        pos = m.end()
    return Derivation(raw.strip(), tuple(terms))


def _selector(where: str, what: str, raw: Any) -> RowSelector | None:
    if raw is None:
        return None
    if isinstance(raw, (str, list)):
        return RowSelector(None, _strings(where, f"[station] {what}", raw))
    if isinstance(raw, dict) and "value" in raw and set(raw) <= {"column", "value"}:
        col = raw.get("column")
        if col is not None and not isinstance(col, str):
            raise ConfigError(
                f"{where}: [station] {what}.column must be a column name, got {col!r}"
            )
        return RowSelector(col, _strings(where, f"[station] {what}.value", raw["value"]))
    raise ConfigError(
        f'{where}: [station] {what} must be {{ column = "...", value = "..." }} '
        f"(value may be a list), got {raw!r}"
    )


def _blank_id(where: str, raw: Any) -> str:
    if raw not in ("error", "skip"):
        raise ConfigError(
            f'{where}: [station] blank_id must be "error" (the default) or "skip" (leave out, '
            f"and count, rows with a blank part of the station id: totals of a higher level), got {raw!r}"
        )
    return raw


PLAUSIBILITY_DEFAULTS: dict[str, Any] = {
    "max_count": 10_000_000,  # no count at one station can be this large
    "max_registered": 100_000,  # registered voters at one ordinary (not e-voting) station
    "max_ratio": 10.0,  # ballots or votes above this multiple of registered voters
    "sum_tolerance": 0.20,  # share of stations allowed where candidates do not add up to valid
    "min_stations": 10,  # a gate on station counts fails only when at least this many stations fail it
    "enforce": True,  # false: a failed gate is a warning instead of a refusal
}


def parse_mapping(data: dict[str, Any], where: str) -> Mapping:
    """Build a :class:`Mapping` from parsed TOML, with errors naming the file and key."""
    fields_raw = data.get("fields", {})
    unknown = sorted(set(fields_raw) - set(FIELD_BY_NAME))
    if unknown:
        raise ConfigError(
            f"{where}: [fields] has unknown model fields {unknown}; "
            f"known fields: {', '.join(FIELD_BY_NAME)}"
        )
    derive = {k: parse_derivation(where, k, v) for k, v in data.get("derive", {}).items()}
    missing = [
        f
        for f, spec in FIELD_BY_NAME.items()
        if spec.required and f not in fields_raw and f not in derive
    ]
    if missing:
        raise ConfigError(
            f"{where}: [fields] must map the required fields {missing} "
            '(or [derive] them, e.g. valid = "sum(candidates)")'
        )
    long_raw = data.get("long")
    long = None
    if long_raw is not None:
        if (
            not isinstance(long_raw, dict)
            or not {"candidate", "votes"} <= set(long_raw)
            or not set(long_raw) <= {"candidate", "votes", "party"}
        ):
            raise ConfigError(
                f'{where}: [long] needs candidate = "column of candidate names" and '
                f'votes = "column of votes" (optional party = "..."), got {long_raw!r}'
            )
        long = LongLayout(
            str(long_raw["candidate"]),
            str(long_raw["votes"]),
            None if long_raw.get("party") is None else str(long_raw["party"]),
        )
    plaus = dict(PLAUSIBILITY_DEFAULTS)
    bad = sorted(set(data.get("plausibility", {})) - set(PLAUSIBILITY_DEFAULTS))
    if bad:
        raise ConfigError(
            f"{where}: [plausibility] has unknown keys {bad}; allowed: {', '.join(PLAUSIBILITY_DEFAULTS)}"
        )
    plaus.update(data.get("plausibility", {}))
    station = data.get("station", {})
    sid = station.get("id")
    if isinstance(sid, str):
        sid = [sid]
    if not sid:
        raise ConfigError(f"{where}: [station] id must name the column(s) that identify a station")
    cands = data.get("candidates", {})
    cols, names, parties = [], {}, {}
    for item in cands.get("columns", []):
        if isinstance(item, str):
            cols.append(item)
        elif isinstance(item, dict) and "column" in item:
            cols.append(item["column"])
            if "name" in item:
                names[item["column"]] = item["name"]
            if "party" in item:
                parties[item["column"]] = item["party"]
        else:
            raise ConfigError(
                f"{where}: [candidates] columns entries must be a column name or "
                f"{{column = ..., name = ..., party = ...}}, got {item!r}"
            )
    rest = bool(cands.get("rest", False))
    if not cols and not rest:
        if long is None:
            raise ConfigError(f"{where}: [candidates] must list columns = [...] or set rest = true")
        rest = True  # a long layout: every candidate named in its candidate column
    preset = data.get("preset", {})
    return Mapping(
        name=preset.get("name", Path(where).stem),
        fields={k: _spec(where, k, v, derived=k in derive) for k, v in fields_raw.items()},
        station_id=tuple(sid),
        hierarchy=tuple(station.get("hierarchy", ())),
        candidate_columns=tuple(cols),
        candidates_rest=rest,
        candidates_ignore=tuple(cands.get("ignore", ())),
        candidate_names=names,
        candidate_parties=parties,
        election=dict(data.get("election", {})),
        source=dict(data.get("source", {})),
        options=dict(data.get("options", {})),
        exclusions=dict(data.get("exclusions", {})),
        detect=tuple(preset.get("detect", ())),
        description=preset.get("description", ""),
        level=_selector(where, "level", station.get("level")),
        blank_id=_blank_id(where, station.get("blank_id", "error")),
        contest=_selector(where, "contest", station.get("contest")),
        derive=derive,
        long=long,
        plausibility=plaus,
    )


def load_mapping(path: str | Path) -> Mapping:
    """Read a TOML mapping file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"mapping file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_mapping(data, str(path))


def preset_names() -> list[str]:
    return sorted(
        p.name[:-5]
        for p in resources.files("pollwatch.ingest.presets").iterdir()
        if p.name.endswith(".toml")
    )


def load_preset(name: str) -> Mapping:
    """A shipped preset by name (``russia_cec``, ``azerbaijan_pec``, ...)."""
    if name not in preset_names():
        raise ConfigError(
            f"unknown preset {name!r}; available presets: {', '.join(preset_names())}"
        )
    text = (
        resources.files("pollwatch.ingest.presets")
        .joinpath(f"{name}.toml")
        .read_text(encoding="utf-8")
    )
    return parse_mapping(tomllib.loads(text), f"preset {name}")


def detect_preset(header: list[str]) -> Mapping | None:
    """The first shipped preset whose ``detect`` substrings all occur in ``header``."""
    for name in preset_names():
        m = load_preset(name)
        if m.detects(header):
            return m
    return None
