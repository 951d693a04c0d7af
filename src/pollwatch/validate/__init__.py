"""Protocol arithmetic: each country's control relations, checked station by station.

A violation is a *finding* (rule, station, fields, expected, found): evidence to report,
never a crash. :func:`validate` returns :class:`Findings`, a columnar table with
per-rule counts and examples. Imports ``model``, ``errors`` and ``results`` only.
"""

from pollwatch.validate.findings import Findings
from pollwatch.validate.rules import PROFILES, RULES, Rule, validate

__all__ = ["Findings", "PROFILES", "RULES", "Rule", "validate"]
