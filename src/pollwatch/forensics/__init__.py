"""Statistical forensics of official per-station results.

One module per method family: ``fingerprint`` (distributions, 2-D histogram, correlation,
turnout–share regression), ``klimek``, ``shpilkin``, ``integers``, ``digits``, ``coarse``
(Rozenas), ``mixture`` (eforensics-class finite mixture), ``carousel``, ``scores``
(per-station signals and ranking) and ``run`` (all of them, as ``pollwatch analyze`` does).
Each method is a pure function ``(Election, *, params, rng/seed) -> frozen Result`` with
``summary()``, ``to_dict()`` and ``_repr_html_``. Methods import ``model``, ``compute``,
``errors`` and ``results`` only.
"""
