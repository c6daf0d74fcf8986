"""Permutation tests, the one randomised procedure besides the bootstrap (``bootstrap``):
SciPy's ``permutation_test`` with exact enumeration when every order fits, and both one-sided
p-values from one null distribution.

References: Phipson & Smyth (2010) "Permutation p-values should never be zero" (the +1 of
Monte-Carlo permutation p-values).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats

# Permutation resamples: p resolved to 1e-4, and exact enumeration up to n = 7 (7! = 5040).
N_RESAMPLES = 9999
# Relative tolerance for ties between a permuted and the observed statistic (SciPy's own).
_TIE_EPS = 100 * np.finfo(float).eps


def permutation(
    sample: np.ndarray,
    statistic: Callable,
    alternative: str,
    rng: np.random.Generator,
    n_resamples: int,
) -> tuple[float, float, float | None, str]:
    """Permute the order of ``sample`` against fixed partners (SciPy's 'pairings').

    Returns (statistic, p in ``alternative``, p in the opposite direction, method). Both
    one-sided p-values come from one null distribution, with SciPy's conventions: exact when
    all n! orders fit in ``n_resamples``, otherwise Monte Carlo with the +1 correction.
    """
    n = sample.size
    exact = n_resamples >= math.factorial(n)
    res = stats.permutation_test(
        (sample,),
        statistic,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=n_resamples,
        alternative=alternative,
        rng=rng,
        batch=1000,  # bounds memory at n_resamples x n for large n
    )
    obs, null = float(res.statistic), np.asarray(res.null_distribution)
    adj = 0 if exact else 1
    gamma = abs(_TIE_EPS * obs)
    p_less = (np.count_nonzero(null <= obs + gamma) + adj) / (null.size + adj)
    p_greater = (np.count_nonzero(null >= obs - gamma) + adj) / (null.size + adj)
    method = f"exact permutation ({null.size})" if exact else f"permutation ({null.size})"
    if alternative == "two-sided":
        return obs, float(res.pvalue), None, method
    p_opp = p_greater if alternative == "less" else p_less
    return obs, float(res.pvalue), float(min(p_opp, 1.0)), method
