"""Write an Election as a real source would: Russian CEC export, Azerbaijani PEC protocol, or
a generic CSV with its TOML mapping. Each reads back with ``pollwatch.ingest.read_election``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.model import Election

LAYOUTS = ("generic", "russia", "azerbaijan")

RUSSIA_COLUMNS = {  # model field -> Russian CEC header (2012 wording)
    "registered": "Число избирателей, включенных в список избирателей",
    "ballots_received": "Число избирательных бюллетеней, полученных участковой избирательной комиссией",
    "ballots_issued_early": "Число избирательных бюллетеней, выданных избирателям, проголосовавшим досрочно",
    "ballots_issued_station": "Число избирательных бюллетеней, выданных в помещении для голосования в день голосования",
    "ballots_issued_mobile": "Число избирательных бюллетеней, выданных вне помещения для голосования в день голосования",
    "ballots_cancelled": "Число погашенных избирательных бюллетеней",
    "ballots_mobile_box": "Число избирательных бюллетеней в переносных ящиках для голосования",
    "ballots_stationary_box": "Число бюллетеней в стационарных ящиках для голосования",
    "invalid": "Число недействительных избирательных бюллетеней",
    "valid": "Число действительных избирательных бюллетеней",
    "absentee_received": "Число полученных открепительных  удостоверений",
    "absentee_issued": "Число открепительных удостоверений, выданных избирателям на избирательном участке",
    "absentee_voted": "Число избирателей, проголосовавших по открепительным удостоверениям",
    "absentee_cancelled": "Число неиспользованных открепительных удостоверений",
    "absentee_issued_higher": "Число открепительных удостоверений, выданных избирателям ТИК",
    "absentee_lost": "Число утраченных открепительных удостоверений",
    "ballots_lost": "Число утраченных избирательных бюллетеней",
    "ballots_unaccounted": "Число избирательных бюллетеней, не учтенных при получении",
}

AZERBAIJAN_COLUMNS = {
    "registered": "100.2.1",
    "registered_main": "1a",
    "additional_list": "1b",
    "absentee_voted": "1c",
    "absentee_taken": "1d",
    "absentee_received": "100.2.2",
    "ballots_received": "100.2.3",
    "ballots_issued_station": "100.2.5",
    "ballots_issued_mobile": "100.2.6",
    "ballots_cancelled": "100.2.9",
    "ballots_mobile_box": "100.2.12",
    "ballots_stationary_box": "100.2.13",
    "valid": "100.2.14",
    "invalid": "100.2.15",
    "ballots_spoilt": "100.2.16",
    "mobile_requests": "mobile_requests",
}


def _col(e: Election, name: str) -> np.ndarray:
    return e.field(name) if e.has(name) else np.zeros(e.n_stations, np.int64)


def _station_number(e: Election) -> pl.Series:
    """The station's number within its constituency (the part of ``C###/k`` after the slash)."""
    return e.table["station_id"].str.split("/").list.last()


def _russia(e: Election) -> pl.DataFrame:
    ac_voted = _col(e, "absentee_voted")
    cols: dict[str, object] = {
        "region": e.level("region"),
        "tik": e.level("constituency"),
        "uik": _station_number(e),
    }
    derived = {  # absentee certificates consistent with the certificates used here
        "absentee_received": ac_voted + 20,
        "absentee_issued": np.minimum(ac_voted, 20),
        "absentee_cancelled": 20 - np.minimum(ac_voted, 20) + ac_voted,
        "absentee_issued_higher": np.zeros(e.n_stations, np.int64),
    }
    derived["absentee_cancelled"] = derived["absentee_received"] - derived["absentee_issued"]
    issued = e.ballots_issued()
    for field, header in RUSSIA_COLUMNS.items():
        if field in derived:
            cols[header] = derived[field]
        elif field == "ballots_cancelled":
            cols[header] = _col(e, "ballots_received") - issued
        else:
            cols[header] = _col(e, field)
    for c in e.candidates:
        cols[c.name] = e.field(c.id)
    cols["url"] = pl.repeat("http://example.invalid/simulated", e.n_stations, eager=True)
    return pl.DataFrame(cols)


def _azerbaijan(e: Election) -> pl.DataFrame:
    cols: dict[str, object] = {"conec": e.level("constituency"), "pec": _station_number(e)}
    for field, header in AZERBAIJAN_COLUMNS.items():
        v = _col(e, field)
        if (
            field == "ballots_issued_station"
        ):  # line 100.2.5 counts every voter given a ballot, mobile included
            v = v + _col(e, "ballots_issued_early") + _col(e, "ballots_issued_mobile")
        if field == "ballots_cancelled":
            v = _col(e, "ballots_received") - e.ballots_issued()
        cols[header] = v
    for c in e.candidates:
        cols[c.name] = e.field(c.id)
    return pl.DataFrame(cols)


GENERIC_MAPPING = """# Mapping for the generic simulated layout (read with: pollwatch ingest results.csv --mapping mapping.toml)
[election]
country = "{country}"
date = "{date}"
name = "{name}"
profile = "generic"

[station]
id = ["station_id"]
hierarchy = ["region", "constituency"]

[fields]
{fields}

[candidates]
columns = [{cands}]
"""


def _generic(e: Election, out: Path) -> pl.DataFrame:
    present = [
        f
        for f in e.table.columns
        if f not in ("station_id", "region", "constituency", "exclusion", "source_line")
        and not f.startswith("cand_")
    ]
    cols = {
        "station_id": e.station_ids,
        "region": e.level("region"),
        "constituency": e.level("constituency"),
    }
    cols.update({f: e.field(f) for f in present})
    cols.update({c.name: e.field(c.id) for c in e.candidates})
    m = e.meta
    (out / "mapping.toml").write_text(
        GENERIC_MAPPING.format(
            country=m.country,
            date=m.date,
            name=m.name.replace('"', "'"),
            fields="\n".join(f'{f} = "{f}"' for f in present),
            cands=", ".join(f'"{c.name}"' for c in e.candidates),
        ),
        encoding="utf-8",
    )
    return pl.DataFrame(cols)


def write_layout(e: Election, layout: str, out: Path) -> dict[str, Path]:
    """Write ``results.csv`` (and ``mapping.toml`` for the generic layout) into ``out``."""
    paths = {"results.csv": out / "results.csv"}
    if layout == "russia":
        df = _russia(e)
    elif layout == "azerbaijan":
        df = _azerbaijan(e)
    elif layout == "generic":
        df = _generic(e, out)
        paths["mapping.toml"] = out / "mapping.toml"
    else:
        raise ValueError(f"layout ({layout!r}) not recognised; must be one of {', '.join(LAYOUTS)}")
    df.write_csv(paths["results.csv"])
    return paths
