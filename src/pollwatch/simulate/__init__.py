"""Synthetic elections with known, injected fraud: the ground truth for tests and calibration.

``simulate_election(n, seed=..., fraud=FraudConfig(stuffing=Stuffing(0.1), ...))`` returns a
:class:`Simulation` with the official-looking ``election``, a per-station ``truth`` table
and ``write(dir)`` to produce the files a real source would (Russian CEC, Azerbaijani PEC,
or generic CSV + mapping). Imports ``model`` only (and ``ingest`` in tests).
"""

from pollwatch.simulate.config import (
    Carousel,
    ElectorateConfig,
    Extreme,
    FraudConfig,
    Rounding,
    Stuffing,
    Switching,
)
from pollwatch.simulate.election import TRUTH_KINDS, Simulation, simulate_election
from pollwatch.simulate.klimek_model import KlimekSimulation, simulate_klimek

__all__ = [
    "Carousel",
    "ElectorateConfig",
    "Extreme",
    "FraudConfig",
    "KlimekSimulation",
    "Rounding",
    "Simulation",
    "Stuffing",
    "Switching",
    "TRUTH_KINDS",
    "simulate_election",
    "simulate_klimek",
]
