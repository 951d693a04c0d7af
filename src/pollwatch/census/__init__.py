"""Tally-sheet census: a parallel count from collected station protocols (``docs/census.md``).

* :mod:`~pollwatch.census.sheets`: the collected sheets, de-duplicated and checked;
* :mod:`~pollwatch.census.estimate`: coverage-corrected estimate (post-stratified ratio);
* :mod:`~pollwatch.census.bound`: worst-case bounds and a verdict for every published claim;
* :mod:`~pollwatch.census.check`: all of it against the official station list;
* :mod:`~pollwatch.census.simulation`: elections with altered official results and a
  non-random collection, for calibration.
"""

from pollwatch.census.bound import ClaimVerdict, WorstCase, judge_claims, worst_case
from pollwatch.census.check import CensusCheck, census_check
from pollwatch.census.estimate import CensusEstimate, coverage_corrected_estimate
from pollwatch.census.sheets import Sheets, read_sheets, sheets_from_frame

__all__ = [
    "CensusCheck",
    "CensusEstimate",
    "ClaimVerdict",
    "Sheets",
    "WorstCase",
    "census_check",
    "coverage_corrected_estimate",
    "judge_claims",
    "read_sheets",
    "sheets_from_frame",
    "worst_case",
]
