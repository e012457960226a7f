"""Data the experiments generate themselves (no downloads)."""

from __future__ import annotations

import numpy as np


def make_synthetic_regression(n_samples: int = 5000, n_features: int = 100, *, noise: float = 0.5,
                              random_state: int = 0):
    """Least-squares data in the style of the paper's synthetic sets.

    Features are uniform on [0, 1], the true model x* is standard normal, and
    y = A x* + e with Gaussian noise e whose standard deviation is ``noise`` times
    that of the signal A x* (noise=0.5: R^2 = 0.8).

    Returns
    -------
    X : ndarray (n_samples, n_features), y : ndarray (n_samples,), coef : ndarray (n_features,)
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(size=(n_samples, n_features))
    coef = rng.standard_normal(n_features)
    signal = X @ coef
    y = signal + noise * signal.std() * rng.standard_normal(n_samples)
    return X, y, coef
