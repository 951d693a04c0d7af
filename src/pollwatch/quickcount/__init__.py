"""Quick count (parallel vote tabulation), exit polls and comparison with official results.

* :mod:`~pollwatch.quickcount.design`: sample size, stratified seeded draw, export;
* :mod:`~pollwatch.quickcount.sample`: the registered sample file (strata, weights, reserves)
  and reserve replacements by the recorded rule;
* :mod:`~pollwatch.quickcount.copies`: observers' protocol copies (CSV/Parquet/DataFrame);
* :mod:`~pollwatch.quickcount.checks`: checks before counting (quarantine of copies that fail
  the protocol arithmetic or are incomplete);
* :mod:`~pollwatch.quickcount.estimate`: stratified combined ratio estimator, t and bootstrap
  intervals, the lead and "too close to call", breakdowns, convergence;
* :mod:`~pollwatch.quickcount.verdict`: the pre-registered verdict (consistent, discrepancy,
  too_early) from three headline t-tests with Holm's correction;
* :mod:`~pollwatch.quickcount.compare`: the verdict, official figures against the intervals,
  station-level protocol match, worst-case bound for partial tally-sheet collections;
* :mod:`~pollwatch.quickcount.turnout`: turnout from the observers' own voter counts;
* :mod:`~pollwatch.quickcount.exitpoll`: exit polls against the official result and the PVT.

Formulas and test vectors: ``docs/quickcount.md``.
"""

from pollwatch.quickcount.checks import CopyScreen, QuarantinedCopy, screen_copies
from pollwatch.quickcount.compare import (
    CANNOT_SEE,
    OfficialComparison,
    ProtocolMatch,
    PVTComparison,
    TallySheetBound,
    compare,
    compare_official,
    match_protocols,
    tally_sheet_bound,
)
from pollwatch.quickcount.copies import ProtocolCopies, read_protocol_copies
from pollwatch.quickcount.design import (
    SampleDesign,
    SampleSize,
    allocate,
    derive_strata,
    design_effect,
    draw_sample,
    intraclass_correlation,
    rule_of_thumb_moe,
    sample_size,
    stations_needed,
    voters_needed,
)
from pollwatch.quickcount.estimate import (
    LeadEstimate,
    QuickCountResult,
    RatioEstimate,
    apollo_moe,
    breakdown,
    convergence,
    estimate,
    estimate_lead,
    ratio_estimate,
)
from pollwatch.quickcount.exitpoll import ExitPoll, ExitPollComparison, compare_exit_poll
from pollwatch.quickcount.sample import (
    RegisteredSample,
    Replacement,
    read_replacements,
    read_sample,
    write_replacements,
    write_sample,
)
from pollwatch.quickcount.turnout import ObservedTurnout, estimate_observed_turnout
from pollwatch.quickcount.verdict import Verdict, VerdictRule, decide

__all__ = [
    "CANNOT_SEE",
    "CopyScreen",
    "ExitPoll",
    "ExitPollComparison",
    "ObservedTurnout",
    "LeadEstimate",
    "OfficialComparison",
    "PVTComparison",
    "ProtocolCopies",
    "ProtocolMatch",
    "QuarantinedCopy",
    "QuickCountResult",
    "RatioEstimate",
    "RegisteredSample",
    "Replacement",
    "SampleDesign",
    "SampleSize",
    "TallySheetBound",
    "Verdict",
    "VerdictRule",
    "allocate",
    "apollo_moe",
    "breakdown",
    "compare",
    "compare_exit_poll",
    "compare_official",
    "decide",
    "estimate_observed_turnout",
    "convergence",
    "derive_strata",
    "design_effect",
    "draw_sample",
    "estimate",
    "estimate_lead",
    "intraclass_correlation",
    "match_protocols",
    "ratio_estimate",
    "read_protocol_copies",
    "read_replacements",
    "read_sample",
    "rule_of_thumb_moe",
    "sample_size",
    "screen_copies",
    "stations_needed",
    "tally_sheet_bound",
    "voters_needed",
    "write_replacements",
    "write_sample",
]
