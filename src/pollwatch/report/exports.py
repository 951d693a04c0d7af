"""Machine-readable exports of an analysis: results.json, stations.csv, stations.parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pollwatch.results import jsonable


def write_exports(analysis, out_dir: str | Path, *, census: Any = None) -> dict[str, Path]:
    """Write ``results.json``, ``stations.csv`` and ``stations.parquet`` into ``out_dir``.

    ``census``: a :class:`~pollwatch.census.check.CensusCheck`; its ``to_json()`` is written as
    the ``census`` block of ``results.json`` (left out without one)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "results.json": out / "results.json",
        "stations.csv": out / "stations.csv",
        "stations.parquet": out / "stations.parquet",
    }
    doc = dict(analysis.doc)
    if census is not None:
        doc["census"] = census.to_json()
    paths["results.json"].write_text(
        json.dumps(jsonable(doc), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    table = analysis.stations_table()
    table.write_csv(paths["stations.csv"])
    table.write_parquet(paths["stations.parquet"])
    return paths
