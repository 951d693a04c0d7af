"""Claims: who published which figure about an election, reconciled against each other and the data.

* :class:`Claim`, :func:`load_claims`, :func:`example_claims` (the Azerbaijan 2024 reference case);
* :func:`check_claims`: disagreements beyond rounding, arithmetic impossibilities, mismatches
  with figures computed from the data.
"""

from pollwatch.claims.check import ClaimFinding, ClaimsCheck, check_claims, computed_figures
from pollwatch.claims.model import Claim, example_claims, load_claims

__all__ = [
    "Claim",
    "ClaimFinding",
    "ClaimsCheck",
    "check_claims",
    "computed_figures",
    "example_claims",
    "load_claims",
]
