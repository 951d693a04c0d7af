"""Quick count (parallel vote tabulation), exit polls and comparison with official results.

* :mod:`~pollwatch.quickcount.design`: sample size, stratified seeded draw, export;
* :mod:`~pollwatch.quickcount.copies`: observers' protocol copies (CSV/Parquet/DataFrame);
* :mod:`~pollwatch.quickcount.estimate`: stratified combined ratio estimator, t and bootstrap
  intervals, the lead and "too close to call", breakdowns, convergence;
* :mod:`~pollwatch.quickcount.compare`: official figures against the intervals, station-level
  protocol match, worst-case bound for partial tally-sheet collections;
* :mod:`~pollwatch.quickcount.exitpoll`: exit polls against the official result and the PVT.

Formulas and test vectors: ``docs/quickcount.md``.
"""
