"""The Election model: one row per polling station, columnar, the spine of pollwatch.

``Election`` wraps a Polars DataFrame (one row per station) and election metadata.
Derived quantities (ballots issued and cast, turnout, shares) are computed here and
only here (:mod:`pollwatch.model.derived`), so every method uses the same convention.
This package imports nothing else of pollwatch except ``errors``.
"""

from pollwatch.model.election import SOURCE_URL, Candidate, Election, ElectionMeta
from pollwatch.model.fields import EXCLUSION_REASONS, FIELDS, Field, field_names

__all__ = [
    "Candidate",
    "EXCLUSION_REASONS",
    "Election",
    "ElectionMeta",
    "FIELDS",
    "SOURCE_URL",
    "Field",
    "field_names",
]
