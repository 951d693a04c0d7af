"""Every seeded method refuses a negative seed with a message naming it (NumPy's own error,
"expected non-negative integer", names neither the parameter nor the value)."""

import numpy as np
import pytest

from pollwatch.compute.seam import check_seed
from pollwatch.forensics.coarse import rozenas_rkd
from pollwatch.forensics.digits import digit_tests
from pollwatch.forensics.klimek import fit_klimek
from pollwatch.forensics.mixture import fraud_mixture
from pollwatch.forensics.shpilkin import shpilkin
from pollwatch.forensics.shpilkin_permutation import shpilkin_permutation_test
from pollwatch.simulate import simulate_election


@pytest.fixture(scope="module")
def election():
    return simulate_election(600, seed=4).election


@pytest.mark.parametrize(
    "method",
    [digit_tests, shpilkin, shpilkin_permutation_test, fit_klimek, rozenas_rkd, fraud_mixture],
)
def test_negative_seed_is_refused(election, method):
    with pytest.raises(ValueError, match=r"seed \(-1\) must be"):
        method(election, seed=-1)


def test_check_seed():
    for ok in (None, 0, 7, np.int64(3), np.random.SeedSequence(1)):
        check_seed(ok)
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="seed"):
            check_seed(bad)
