"""Golden twin of hls/include/zipml/sgd_fp32.hpp: the 32-bit baseline in float32 NumPy.

It equals the kernel up to summation order (docs/FORMATS.md, "fp32 baseline")."""

from __future__ import annotations

import numpy as np

from ..spec.schedule import epoch_shift
from .losses import FLOAT_RESIDUALS


def sgd_fp32(X, y, epochs, step_shift, decay_epochs, model_in, loss="squared_error", rows=None, step_scale=None,
             centers=None, weights=None, decay=None, l1=None, fit_intercept=True):
    """``rows``: sample i reads X[rows[i]] and y[i] (an epoch's row order), or None;
    ``step_scale``: (d,) per-feature step multipliers, or None for 1; ``centers``: (d,)
    per-feature centers (the model sees x - mu), or None; ``weights``: (n,) sample
    weights in pass order (step eta r u_i), or None; ``decay``: (d,) L2 decay a_j (w_j -=
    eta a_j w_j before each step), or None; ``l1``: (d,) L1 coefficients (soft threshold
    by eta t_j after each step), or None; ``fit_intercept`` False: the intercept keeps
    model_in's value.
    Returns the history and the (n,) predictions of the last epoch's pass."""
    residual = FLOAT_RESIDUALS[loss]
    X = np.asarray(X, dtype=np.float32)
    if rows is not None:
        X = X[np.asarray(rows)]
    d = X.shape[1]
    w = np.array(model_in[:d], dtype=np.float32)
    intercept = np.float32(model_in[d])
    history = np.empty((epochs, d + 1), dtype=np.float32)
    scale = None if step_scale is None else np.asarray(step_scale, dtype=np.float32)
    mu = np.zeros(d, np.float32) if centers is None else np.asarray(centers, dtype=np.float32)
    predictions = np.empty(X.shape[0], dtype=np.float32)
    for e in range(epochs):
        eta = np.float32(2.0 ** -epoch_shift(step_shift, decay_epochs, e))
        for i in range(X.shape[0]):
            x = X[i] - mu
            pred = np.dot(x, w) + intercept
            predictions[i] = pred
            r = residual(pred, np.float32(y[i]))
            step = eta * (r if weights is None else r * np.float32(weights[i]))
            if decay is not None:
                w -= eta * np.asarray(decay, np.float32) * w
            w -= (step if step_scale is None else step * scale) * x
            if l1 is not None:
                t = eta * np.asarray(l1, np.float32)
                w = np.where(w > t, w - t, np.where(w < -t, w + t, np.float32(0))).astype(np.float32)
            if fit_intercept:
                intercept -= step
        history[e, :d] = w
        history[e, d] = intercept
    return history, predictions
