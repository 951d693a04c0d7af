"""Mapping files: which source column is which model field, and which are candidates.

A mapping is TOML (see ``presets/*.toml`` for complete examples)::

    [election]            # metadata: country, date, type, name, profile, scrutiny
    [station]             # id = ["region", "uik"] (joined with "/"), hierarchy = ["region"]
    [fields]              # registered = "Reg. voters"  or  { contains = "...", and_contains = "..." }
    [candidates]          # columns = ["A", "B"], or rest = true with ignore = ["url"]
    [source]              # encoding, delimiter, thousands, sheet
    [options]             # station_issued_includes_mobile = true
    [exclusions]          # evoting_labels = [...], evoting_min_registered = 20000
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pollwatch.errors import ConfigError
from pollwatch.model.fields import FIELD_BY_NAME


@dataclass(frozen=True)
class ColumnSpec:
    """How to find one column: an exact name, or substrings that must (not) occur."""

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
            parts.append(f"or {' or '.join(map(repr, self.any_of))}")
        return "a column " + " ".join(parts)

    def matches(self, column: str) -> bool:
        if self.name is not None:
            return column.strip() == self.name
        low = column.casefold()
        ok = all(s.casefold() in low for s in self.contains) if self.contains else False
        ok = ok or any(s.casefold() in low for s in self.any_of)
        return ok and not any(s.casefold() in low for s in self.not_contains)


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

    def detects(self, header: list[str]) -> bool:
        """True if every ``detect`` substring occurs in some header cell."""
        return bool(self.detect) and all(any(d.casefold() in h.casefold() for h in header) for d in self.detect)


def _spec(where: str, key: str, raw: Any) -> ColumnSpec:
    required = FIELD_BY_NAME[key].required if key in FIELD_BY_NAME else False
    if isinstance(raw, str):
        return ColumnSpec(name=raw, optional=not required)
    if isinstance(raw, dict):
        unknown = set(raw) - {"name", "contains", "and_contains", "or_contains", "not_contains", "optional"}
        if unknown:
            raise ConfigError(f"{where}: [fields] {key} has unknown keys {sorted(unknown)}; "
                              "allowed: name, contains, and_contains, or_contains, not_contains, optional")
        contains = tuple(x for x in (raw.get("contains"), raw.get("and_contains")) if x)
        return ColumnSpec(
            name=raw.get("name"),
            contains=contains,
            any_of=tuple(x for x in [raw.get("or_contains")] if x),
            not_contains=tuple(x for x in [raw.get("not_contains")] if x),
            optional=bool(raw.get("optional", not required)),
        )
    raise ConfigError(f"{where}: [fields] {key} must be a column name or a table, got {raw!r}")


def parse_mapping(data: dict[str, Any], where: str) -> Mapping:
    """Build a :class:`Mapping` from parsed TOML, with errors naming the file and key."""
    fields_raw = data.get("fields", {})
    unknown = sorted(set(fields_raw) - set(FIELD_BY_NAME))
    if unknown:
        raise ConfigError(f"{where}: [fields] has unknown model fields {unknown}; "
                          f"known fields: {', '.join(FIELD_BY_NAME)}")
    missing = [f for f, spec in FIELD_BY_NAME.items() if spec.required and f not in fields_raw]
    if missing:
        raise ConfigError(f"{where}: [fields] must map the required fields {missing}")
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
            raise ConfigError(f"{where}: [candidates] columns entries must be a column name or "
                              f"{{column = ..., name = ..., party = ...}}, got {item!r}")
    rest = bool(cands.get("rest", False))
    if not cols and not rest:
        raise ConfigError(f"{where}: [candidates] must list columns = [...] or set rest = true")
    preset = data.get("preset", {})
    return Mapping(
        name=preset.get("name", Path(where).stem),
        fields={k: _spec(where, k, v) for k, v in fields_raw.items()},
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
    return sorted(p.name[:-5] for p in resources.files("pollwatch.ingest.presets").iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> Mapping:
    """A shipped preset by name (``russia_cec``, ``azerbaijan_pec``, ...)."""
    if name not in preset_names():
        raise ConfigError(f"unknown preset {name!r}; available presets: {', '.join(preset_names())}")
    text = resources.files("pollwatch.ingest.presets").joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return parse_mapping(tomllib.loads(text), f"preset {name}")


def detect_preset(header: list[str]) -> Mapping | None:
    """The first shipped preset whose ``detect`` substrings all occur in ``header``."""
    for name in preset_names():
        m = load_preset(name)
        if m.detects(header):
            return m
    return None
