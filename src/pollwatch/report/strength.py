"""The strength-of-evidence rule, as the report applies it: re-exported from
:mod:`pollwatch.forensics.strength`, where it lives beside the critical values it reads."""

from __future__ import annotations

from pollwatch.forensics.strength import MIN_STATIONS, RULE, RULE_METHODS, Strength, assess

__all__ = ["MIN_STATIONS", "RULE", "RULE_METHODS", "Strength", "assess"]
