"""Finite-mixture fraud model of the eforensics class, fitted by EM-scored maximum likelihood.

``model`` holds the method (:func:`fraud_mixture`) and its result; ``_em`` its compiled E-step
and objective kernels.
"""

from pollwatch.forensics.mixture.model import CLASSES, MixtureResult, fraud_mixture

__all__ = ["CLASSES", "MixtureResult", "fraud_mixture"]
