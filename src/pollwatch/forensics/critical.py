"""The fixed critical values of the calibrated decision rules, at α = 0.05.

They live here, below ``calibration`` (which fits them) and ``report`` (which applies them), so
that the methods layer can apply a rule without importing the calibration harness and its
simulator. How each value was fitted: ``docs/calibration.md``, "Decision rules".
"""

from __future__ import annotations

#: Fixed critical values at α = 0.05, fitted by :func:`fit_critical_values` on
#: ``N_CALIBRATION`` clean elections (5,000–20,000 stations, seed ``CALIBRATION_SEED``) with
#: the detector settings below; regenerate with ``python benchmarks/calibration.py --fit 80``
#: (integer and Klimek: 2026-11-23 10:44, 789 s with all four; coarse re-fitted 2026-11-23 12:31,
#: after the RKD sampler changed; mixture re-fitted 2026-11-23 18:56, 70 s, after its
#: magnitude weights became generalised normal and its optimiser got restarts and two starts;
#: mixture re-fitted 2026-12-04, 33 s, after its objective was compiled whole).
#: Statistics: integer = z of the "either" count; coarse = RKD fraud % (100 resamples);
#: mixture = manufactured votes / ballots cast, fitted region by region (n_boot = 0); Klimek =
#: f_i and f_e (5 realisations), each at the 97.5 % quantile.
CRITICAL_VALUES: dict[str, float] = {
    "integer_z": 1.940777071599013,
    "coarse_fraud_pct": 0.8990916832245248,
    "mixture_manufactured_share": 0.003363378289776649,
    "klimek_f_i": 0.46959999999999996,
    "klimek_f_e": 0.002,
}
