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


def make_tabular_regression(n_samples: int = 50_000, *, n_numeric: int = 8, n_skewed: int = 6,
                            categories: tuple = (12, 7, 30), noise: float = 0.5, random_state: int = 0):
    """Regression data shaped like real tabular sets: Gaussian numeric columns on scales
    that differ by orders of magnitude, log-normal (heavy-tailed) columns, and one-hot
    columns of categorical features with skewed category frequencies (Zipf-like), so
    min/max scaling leaves the per-feature variances very unequal. Rows are in random order.

    y = X x* + e, x* chosen so every group of columns contributes to the signal, and e
    Gaussian with ``noise`` times the signal's standard deviation.

    Returns
    -------
    X : ndarray (n_samples, n_numeric + n_skewed + sum(categories)), y, coef
    """
    rng = np.random.default_rng(random_state)
    scales = 10.0 ** rng.uniform(-2, 3, n_numeric)
    numeric = rng.standard_normal((n_samples, n_numeric)) * scales + rng.uniform(-5, 5, n_numeric) * scales
    skewed = rng.lognormal(mean=rng.uniform(0, 2, n_skewed), sigma=rng.uniform(0.8, 1.6, n_skewed),
                           size=(n_samples, n_skewed))
    onehots = []
    for k in categories:
        p = 1.0 / np.arange(1, k + 1) ** 1.2
        onehots.append(np.eye(k)[rng.choice(k, size=n_samples, p=p / p.sum())])
    X = np.hstack([numeric, skewed] + onehots)
    coef = rng.standard_normal(X.shape[1]) / X.std(axis=0).clip(1e-12)  # each column matters
    signal = X @ coef
    y = signal + noise * signal.std() * rng.standard_normal(n_samples)
    return X, y, coef


def make_ill_conditioned_regression(n_samples: int = 2000, n_features: int = 30, *, condition: float = 1e4,
                                    noise: float = 0.05, random_state: int = 0):
    """Least-squares data whose feature covariance has condition number ``condition``:
    Gaussian rows times Q diag(s) Q^T, Q a random rotation and s log-spaced from 1 down to
    condition^(-1/2). Every feature mixes strong and weak directions of the spectrum, so no
    per-feature scaling (nor the kernels' per-feature steps) removes its spread.

    y = X x* + e with x* standard normal and e Gaussian with ``noise`` times the signal's
    standard deviation (noise=0.05: R^2 = 0.9975, a low loss floor that rounding noise has
    to stay under).

    Returns
    -------
    X : ndarray (n_samples, n_features), y : ndarray (n_samples,), coef : ndarray (n_features,)
    """
    rng = np.random.default_rng(random_state)
    rotation, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    spectrum = np.logspace(0.0, -0.5 * np.log10(condition), n_features)
    X = rng.standard_normal((n_samples, n_features)) @ (rotation * spectrum) @ rotation.T
    coef = rng.standard_normal(n_features)
    signal = X @ coef
    y = signal + noise * signal.std() * rng.standard_normal(n_samples)
    return X, y, coef
