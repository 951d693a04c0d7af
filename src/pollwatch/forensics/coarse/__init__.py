"""Coarse vote shares: Rozenas' resampled kernel density (RKD) and exact small fractions.

``rkd`` holds the methods and their results; the compiled kernels beside it are private to them:
``_sample`` (beta-binomial resampling), ``_kde`` (the binned density of r), ``_fit`` (the
beta-binomial mixture's EM), ``_exact`` (exact probabilities of small denominators) and
``_blas`` (one BLAS thread while the kernels run their own threads).
"""

from pollwatch.forensics.coarse.rkd import (
    CoarseSharesResult,
    SmallDenominatorResult,
    rozenas_rkd,
    small_denominator_test,
)

__all__ = ["CoarseSharesResult", "SmallDenominatorResult", "rozenas_rkd", "small_denominator_test"]
