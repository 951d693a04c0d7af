"""Reading official results into an :class:`~pollwatch.model.Election`.

Sources: CSV/TSV (UTF-8 or cp1251, also inside a .zip), XLSX, Parquet, or a Polars DataFrame
already in memory (:func:`read_frame`). A TOML mapping
(or a shipped preset, auto-detected from the header) maps source columns to model fields
and names the candidate columns. Every problem (missing column, non-numeric count,
duplicate station id) is collected into an :class:`IngestReport`; if any is an error,
one :class:`~pollwatch.errors.IngestError` lists them all. Stations that cannot be
analysed are kept, with a reason, and counted in the report. A reading that fails a
plausibility gate (candidates that do not add up to the valid votes, a "candidate" above 100 %)
is refused rather than analysed. Imports ``model`` and ``errors``.
"""

from pollwatch.ingest.mapping import Mapping, load_mapping, load_preset, preset_names
from pollwatch.ingest.reader import read_columns, read_election, read_frame
from pollwatch.ingest.report import IngestReport

__all__ = [
    "IngestReport",
    "Mapping",
    "load_mapping",
    "load_preset",
    "preset_names",
    "read_columns",
    "read_election",
    "read_frame",
]
