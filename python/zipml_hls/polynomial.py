"""Polynomial approximation of the logistic loss derivative (the paper's non-linear models).

The derivative of log(1 + exp(-y z)) in z is -y h(y z) with h(t) = 1 / (1 + e^t).
:func:`logistic_polynomial` returns the monomial coefficients c_0..c_d of a polynomial
P(t) = sum_k c_k t^k close to h on [-R, R], with the approximation error
eps = max_{|t| <= R} |P(t) - h(t)|. Then for a row a and model x, E[g] = -y P(y a^T x) a
exactly for the double/multiple-sampling estimator, so |E[g] - true gradient| <= eps ||a||.

The kernel clamps y a^T x to [-R, R], so P(R) is the pull of every row past the range
(and 1 - P(-R) that of rows far on the wrong side). Chebyshev interpolation of h leaves
P(4) = 0.0098 at degree 5: on 97/3 imbalanced classes the majority rows, far past 4, kept
pushing, and 8 bits at a constant step of 1/16 for 100 epochs ended at 1.236x
LogisticRegression's training log loss. So P interpolates h(t) - h(R) t / R at the
Chebyshev extrema of [-R, R], which include +-R: P(R) = 0 and P(-R) = 1 (up to float64's
rounding), at an eps of 0.021 instead of 0.0084 (degree 5, R = 4); the same run ends at
1.031x (``python scripts/log_loss_start.py``, its last lines). In the kernel's fixed point
(Q30 coefficients, Q16 margins, an accumulator saturated at 2^40) P(R) is exactly 0 for
2^-10 <= R <= 24, 10 and 4 at degrees 3, 5 and 7 (``tests/test_end_to_end.py``; below
2^-10 the accumulator saturates, above, the coefficients' rounding shows); larger ranges also
approximate worse (degree 5: eps 0.039 at R = 6) and dip below 0 inside the range, as
degree 3 does at R = 4 (to -0.014 on (3.05, 4]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import Chebyshev, Polynomial

from .spec.format import LABEL_FRAC, POLY_FRAC

DEFAULT_DEGREE = 5
DEFAULT_RANGE = 4.0
DEGREES = (3, 5, 7)  #: degree d uses d + 1 samples per value (drawn from double data, or 'multi' data)

#: Whether P is pinned to h's limits at +-R (P(R) = 0, P(-R) = 1; the module's docstring).
#: False: plain Chebyshev interpolation of h, for comparison (``scripts/log_loss_start.py``
#: sets it for its long run).
PINNED_TAILS = True


def logistic_derivative(t):
    """h(t) = 1 / (1 + e^t): the logistic loss derivative is -y h(y z)."""
    return 0.5 * (1.0 - np.tanh(0.5 * np.asarray(t, dtype=np.float64)))


@dataclass(frozen=True)
class LogisticPolynomial:
    degree: int
    range: float
    coef: np.ndarray  #: monomial coefficients c_0..c_degree (float64)
    eps: float  #: max |P(t) - h(t)| on [-range, range]

    def __call__(self, t):
        return Polynomial(self.coef)(t)

    def fixed_coef(self) -> np.ndarray:
        """Coefficients in Q30 (int64), as the kernel reads them."""
        return np.rint(self.coef * (1 << POLY_FRAC)).astype(np.int64)

    def range_q16(self) -> int:
        return int(round(self.range * (1 << LABEL_FRAC)))


def logistic_polynomial(degree: int = DEFAULT_DEGREE, range: float = DEFAULT_RANGE) -> LogisticPolynomial:
    """A degree-``degree`` polynomial close to h on [-range, range], equal to 0 at ``range``
    and 1 at ``-range`` (``PINNED_TAILS``; the module's docstring)."""
    if degree not in DEGREES:
        raise ValueError(f"poly_degree must be one of {DEGREES}, got {degree!r}")
    if isinstance(range, bool) or not (isinstance(range, (int, float)) and 2**-16 <= range <= 32):
        raise ValueError(f"poly_range must be a number in [2**-16, 32] (the kernel holds it in Q16), got {range!r}")
    if PINNED_TAILS:  # (h(t) - h(R) t / R is 0 at R and 1 at -R, as h(-t) = 1 - h(t))
        nodes = range * np.cos(np.pi * np.arange(degree + 1) / degree)
        tilted = logistic_derivative(nodes) - logistic_derivative(range) * nodes / range
        cheb = Chebyshev.fit(nodes, tilted, degree, domain=[-range, range])
    else:
        cheb = Chebyshev.interpolate(logistic_derivative, degree, domain=[-range, range])
    # Chebyshev coefficients at float64's rounding noise are 0: in monomials they grow as
    # R^-k, past int64 in Q30 at degree 7 and R = 2^-16
    cheb.coef[np.abs(cheb.coef) < 1e-14] = 0.0
    coef = cheb.convert(kind=Polynomial).coef
    coef = np.concatenate([coef, np.zeros(degree + 1 - coef.size)])
    t = np.linspace(-range, range, 20001)
    eps = float(np.max(np.abs(Polynomial(coef)(t) - logistic_derivative(t))))
    return LogisticPolynomial(degree=degree, range=float(range), coef=coef, eps=eps)
