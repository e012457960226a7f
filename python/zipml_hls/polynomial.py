"""Polynomial approximation of the logistic loss derivative (the paper's non-linear models).

The derivative of log(1 + exp(-y z)) in z is -y h(y z) with h(t) = 1 / (1 + e^t).
:func:`logistic_polynomial` interpolates h at the Chebyshev points of [-R, R] and
returns the monomial coefficients c_0..c_d of P(t) = sum_k c_k t^k, with the
approximation error eps = max_{|t| <= R} |P(t) - h(t)|. Then for a row a and model x,
E[g] = -y P(y a^T x) a exactly for the double/multiple-sampling estimator, so
|E[g] - true gradient| <= eps ||a||.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import Chebyshev, Polynomial

from .spec.format import LABEL_FRAC, POLY_FRAC

DEFAULT_DEGREE = 5
DEFAULT_RANGE = 4.0
DEGREES = (3, 5, 7)  #: degree d uses d + 1 samples per value (drawn from double data, or 'multi' data)


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
    """Chebyshev interpolant of h on [-range, range] as a degree-``degree`` polynomial."""
    if degree not in DEGREES:
        raise ValueError(f"poly_degree must be one of {DEGREES}, got {degree!r}")
    if isinstance(range, bool) or not (isinstance(range, (int, float)) and 2**-16 <= range <= 32):
        raise ValueError(f"poly_range must be a number in [2**-16, 32] (the kernel holds it in Q16), got {range!r}")
    cheb = Chebyshev.interpolate(logistic_derivative, degree, domain=[-range, range])
    coef = cheb.convert(kind=Polynomial).coef
    coef = np.concatenate([coef, np.zeros(degree + 1 - coef.size)])
    t = np.linspace(-range, range, 20001)
    eps = float(np.max(np.abs(Polynomial(coef)(t) - logistic_derivative(t))))
    return LogisticPolynomial(degree=degree, range=float(range), coef=coef, eps=eps)
