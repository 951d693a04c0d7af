"""Statistical forensics of official per-station results.

One module per method family: ``fingerprint`` (distributions, 2-D histogram, correlation,
turnout–share regression), ``klimek``, ``shpilkin``, ``integers``, ``digits``, ``coarse``
(Rozenas), ``mixture`` (eforensics-class finite mixture), ``carousel``, ``scores``
(per-station signals and ranking) and ``run`` (all of them, as ``pollwatch analyze`` does).
Each method is a pure function ``(Election, *, params, rng/seed) -> frozen Result`` with
``summary()``, ``to_dict()`` and ``_repr_html_``. ``critical`` holds the fixed critical
values of the calibrated decision rules and ``strength`` the rule that counts them, so that
``run`` can state the strength of evidence without importing the report or the calibration
harness. Methods import ``model``, ``compute``, ``errors``, ``results`` and ``validate`` only
(``docs/architecture.md``).
"""
