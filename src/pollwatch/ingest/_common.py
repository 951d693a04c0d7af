"""What every ingest step shares about the working frame and its messages.

The reader adds hidden columns to the frame it reads (the row's source line; the station key of
a long layout); steps look at the file's own columns without them, and their messages share the
header preview and the pointer to the mapping docs. Kept apart so the steps need not import
each other for it.
"""

from __future__ import annotations

import polars as pl

LINE = "\x00line"  # internal column: the row's line in the source (the header is line 1)
KEY = "\x00key"
MAPPING_DOCS = "see docs/mapping.md, or draft one with `pollwatch mapping draft FILE`"


def source_columns(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in (LINE, KEY)]


def preview(values: list[str], n: int = 12) -> str:
    return ", ".join(values[:n]) + (" …" if len(values) > n else "")
