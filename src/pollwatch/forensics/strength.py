"""How strong is the evidence? A written rule, applied to the analysis numbers.

The rule counts the methods whose **calibrated decision rule** fires (the critical values of
:mod:`pollwatch.forensics.critical`, fitted by ``pollwatch.calibration``, ``docs/calibration.md``:
each rule signals at most ~5 % of clean simulated elections), so the report's verdict and the
calibration table speak about the same tests:

  1. integer percentages: z of the whole-percent excess above its critical value (1.94);
  2. Shpilkin: within-region permutation p-value below 0.05;
  3. finite mixture, fitted region by region: manufactured votes above the critical share of
     ballots cast (0.48 %);
  4. Klimek model: f_i or f_e above its critical value (0.47 / 0.002);
  5. coarse vote shares (Rozenas): fraud % above its critical value (0.90 %).

strong = three or more; moderate = two; weak = one, or only protocol-arithmetic violations
or a last-digit deviation (calibrated, but with little power and many innocent causes);
none = nothing. The critical values were fitted on simulated elections of 5,000–20,000
stations: on other data they are a reference, which the report says.

A rule whose method failed, was skipped or had no data is "not computed" (``not_run``; in
``results.json`` the strength block's ``not_computed``) and never counts as a signal: a
header-only file or a misread one must not read as evidence.

The rule lives with the methods (``forensics.run`` writes its verdict into ``results.json``);
``pollwatch.report.strength`` re-exports it for the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pollwatch.forensics.critical import CRITICAL_VALUES
from pollwatch.forensics.klimek import SMALL_N as KLIMEK_SMALL_N
from pollwatch.forensics.shpilkin_permutation import MIN_STATIONS as SHPILKIN_MIN_STATIONS
from pollwatch.i18n import N_, note

C = CRITICAL_VALUES
_z, _mix = f"{C['integer_z']:.2f}", f"{100 * C['mixture_manufactured_share']:.2f}"
_fi, _fe, _coarse = (
    f"{C['klimek_f_i']:.2f}",
    f"{C['klimek_f_e']:.3f}",
    f"{C['coarse_fraud_pct']:.2f}",
)
#: the strength rule (English as a ``str``, in ``results.json``; translated where shown)
RULE = note(
    "strong = 3 or more of 5 calibrated level-5 % rules {{integer-percentage z > {z}; "
    "Shpilkin within-region permutation p < 0.05; mixture (by region) manufactured votes > "
    "{mixture} % of ballots; Klimek f_i > {f_i} or f_e > {f_e}; coarse shares > {coarse} %}}; "
    "moderate = 2; weak = 1, or only arithmetic violations or a last-digit deviation; none = 0. "
    "Critical values from simulated elections of 5,000–20,000 stations (docs/calibration.md).",
    z=_z,
    mixture=_mix,
    f_i=_fi,
    f_e=_fe,
    coarse=_coarse,
)


@dataclass(frozen=True)
class Strength:
    level: str
    signals: tuple[str, ...]
    rule: str = RULE
    not_run: tuple[str, ...] = ()


def _num(d: dict, *keys, default=math.nan) -> float:
    for k in keys:
        d = d.get(k, {}) if isinstance(d, dict) else {}
    try:
        return float(d)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


#: each rule's method: its key in ``results.json`` ``methods`` and its name in ``errors``
#: (the name of :data:`pollwatch.forensics.run.METHODS`)
RULE_METHODS = {  # the names are catalogue messages: the report shows them translated
    N_("integer percentages"): ("integer_percentages", "integer_percentages"),
    N_("Shpilkin excess votes"): ("shpilkin_permutation", "shpilkin_test"),
    N_("finite mixture"): ("mixture_by_region", "mixture_by_region"),
    N_("Klimek model"): ("klimek", "klimek"),
    N_("coarse vote shares"): ("coarse_shares", "coarse_shares"),
}


#: fewest analysed stations for which each rule counts: the method's own small-sample limit
#: (integer test: 30, its normal approximation; Shpilkin: 50, a natural peak needs them;
#: coarse shares: 100, its ``min_stations``; Klimek: 1,000, the 101 × 101 fingerprint is too
#: sparse below, ``klimek.SMALL_N``). Below it the rule is "not computed": on 20 stations a
#: Klimek fit reads f_e = 0.015, far beyond its critical value, and means nothing.
MIN_STATIONS = {
    "integer percentages": 30,
    "Shpilkin excess votes": SHPILKIN_MIN_STATIONS,
    "coarse vote shares": 100,
    "Klimek model": KLIMEK_SMALL_N,
}


def _analysed_stations(doc: dict) -> float:
    """Stations left for analysis (all stations minus excluded ones); NaN when not recorded."""
    el = doc.get("election", {})
    stations = _num(doc, "election", "stations")
    excluded = el.get("excluded") if isinstance(el, dict) else None
    if isinstance(excluded, dict):
        stations -= sum(float(v) for v in excluded.values() if isinstance(v, (int, float)))
    return stations


def assess(doc: dict) -> Strength:
    """Apply :data:`RULE` to a results document (``results.json`` shape).

    A rule whose method was not run, failed (named in ``doc["errors"]``), was skipped (its
    entry says ``"skipped"``) or had no data (its statistic is missing or NaN: no stations, an
    undefined estimate, fewer analysed stations than :data:`MIN_STATIONS`) cannot fire and is
    listed in ``not_run`` ("not computed"). The
    mixture counts only when it was fitted in at least two units (the calibrated,
    region-by-region rule). An election with no station left for analysis is "none" whatever
    its protocol arithmetic says: nothing was analysed.
    """
    m = doc.get("methods", {})
    errors = doc.get("errors") or {}
    cast = _num(doc, "election", "ballots_cast")
    checks = {
        "integer percentages": (_num(m, "integer_percentages", "z"), C["integer_z"]),
        "Shpilkin excess votes": (-_num(m, "shpilkin_permutation", "p_value"), -0.05),
        # calibrated on region-by-region fits: one pooled fit is the national model, whose clean
        # elections reach ~10 % "manufactured" votes, so it cannot use this critical value
        "finite mixture": (
            _num(m, "mixture_by_region", "manufactured_votes") / cast
            if _num(m, "mixture_by_region", "units", default=0) >= 2
            else math.nan,
            C["mixture_manufactured_share"],
        ),
        "Klimek model": (
            max(
                _num(m, "klimek", "f_i") - C["klimek_f_i"],
                _num(m, "klimek", "f_e") - C["klimek_f_e"],
            ),
            0.0,
        ),
        "coarse vote shares": (_num(m, "coarse_shares", "fraud_percent"), C["coarse_fraud_pct"]),
    }
    analysed = _analysed_stations(doc)  # NaN when the document does not say: no limit applied
    nothing = analysed <= 0

    def computed(name: str, stat: float) -> bool:
        key, run_name = RULE_METHODS[name]
        entry = m.get(key)
        return (
            not nothing
            and math.isfinite(stat)
            and isinstance(entry, dict)
            and "skipped" not in entry
            and run_name not in errors
            and key not in errors
            and not analysed < MIN_STATIONS.get(name, 0)
        )

    ok = {name: computed(name, stat) for name, (stat, _) in checks.items()}
    fired = tuple(name for name, (stat, crit) in checks.items() if ok[name] and stat > crit)
    not_run = tuple(name for name in checks if not ok[name])
    n = len(fired)
    if n >= 3:
        level = "strong"
    elif n == 2:
        level = "moderate"
    elif n == 1:
        level = "weak"
    elif nothing:
        level = "none"
    else:
        hard = sum(v for k, v in doc.get("findings", {}).items() if k != "nonnegative")
        digits_ok = "digits" not in errors and isinstance(m.get("digits"), dict)
        digits_flag = digits_ok and _num(m, "digits", "leader_last_digit_high_p") < 0.05
        level = "weak" if hard or digits_flag else "none"
    return Strength(level, fired, RULE, not_run)
