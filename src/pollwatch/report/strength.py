"""How strong is the evidence? A written rule, applied to the analysis numbers.

The rule is deliberately simple and printed in the report, so a reader can check it:

* signals counted (each from an independent method family, digit tests excluded as weak):
  1. integer percentages: excess over the binomial null with p < 0.001;
  2. Shpilkin: excess votes at least 1 % of ballots cast, interval above zero;
  3. finite mixture: fraudulent votes at least 1 % of ballots cast, interval above zero;
  4. Klimek model: incremental-fraud share f_i above 0.05 by two standard deviations,
     or extreme-fraud share f_e above 0 by two standard deviations;
* strong: three or four signals; moderate: two; weak: one, or only protocol-arithmetic
  violations or digit-test deviations; none: nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RULE = ("strong = 3–4 of {integer-percentage excess p<0.001; Shpilkin excess ≥1 % of ballots with interval "
        "above 0; mixture fraudulent votes ≥1 % of ballots with interval above 0; Klimek f_i>0.05 or f_e>0 by "
        "2 sd}; moderate = 2; weak = 1, or only arithmetic/digit deviations; none = 0. Digit tests never count.")


@dataclass(frozen=True)
class Strength:
    level: str
    signals: tuple[str, ...]
    rule: str = RULE


def _num(d: dict, *keys, default=math.nan) -> float:
    for k in keys:
        d = d.get(k, {}) if isinstance(d, dict) else {}
    try:
        return float(d)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def assess(doc: dict) -> Strength:
    """Apply :data:`RULE` to a results document (``results.json`` shape)."""
    m = doc.get("methods", {})
    cast = _num(doc, "election", "ballots_cast")
    fired: list[str] = []
    if _num(m, "integer_percentages", "p_value") < 0.001:
        fired.append("integer percentages")
    sh = m.get("shpilkin", {})
    if _num(sh, "excess_votes") >= 0.01 * cast and _num(sh, "excess_votes_low", default=_num(sh, "excess_votes")) > 0:
        fired.append("Shpilkin excess votes")
    mx = m.get("mixture", {})
    if _num(mx, "fraudulent_votes") >= 0.01 * cast and _num(mx, "fraudulent_votes_low", default=0.0) > 0:
        fired.append("finite mixture")
    kl = m.get("klimek", {})
    if (_num(kl, "f_i") - 2 * _num(kl, "f_i_sd", default=0.0) > 0.05
            or _num(kl, "f_e") - 2 * _num(kl, "f_e_sd", default=0.0) > 0):
        fired.append("Klimek model")
    n = len(fired)
    if n >= 3:
        level = "strong"
    elif n == 2:
        level = "moderate"
    elif n == 1:
        level = "weak"
    else:
        hard = sum(v for k, v in doc.get("findings", {}).items() if k != "nonnegative")
        digits_flag = bool(m.get("digits", {}).get("any_flagged"))
        level = "weak" if hard or digits_flag else "none"
    return Strength(level, tuple(fired))
