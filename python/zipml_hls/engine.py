"""The training engine: scaled data -> (quantize) -> SGD kernel -> model history.

Shared by the estimators; works in the scaled space (features in [0, 1], labels
centred and divided by their spread) and returns float64 models there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import formats as F
from . import reference
from .quantize import quantize
from .scaling import FeatureScaling

FULL_PRECISION = 32


@dataclass(frozen=True)
class SgdConfig:
    """What one training run needs besides the data.

    bits: 1, 2, 4, 8, or 32 (the fp32 baseline); sampling: 'double' | 'naive' |
    'nearest'; step_shift: eta_0 = 2^-step_shift; decay_epochs: eta halves every this
    many epochs (0: constant); n_copies: quantized copies cycled over epochs; seed: the
    counter-based RNG seed; backend: 'hls' (C++ kernels) or 'reference' (NumPy).
    """

    bits: int
    sampling: str
    levels: str
    step_shift: int
    decay_epochs: int
    n_copies: int
    seed: int
    backend: str


def step_shift_from_eta(eta0: float) -> int:
    """The power-of-two step nearest to eta0 on a log scale: round(-log2 eta0), in [1, 40]."""
    return int(min(F.MAX_SHIFT, max(1, round(-math.log2(eta0)))))


def rounding_variance(X_scaled: np.ndarray, bits: int) -> np.ndarray:
    """Per-value variance (L_k+1 - a)(a - L_k) of stochastic rounding to uniform levels."""
    s = F.max_code(bits)
    a = X_scaled.astype(np.float64)
    k = np.minimum(np.floor(a * s), s - 1)
    return (((k + 1) / s) - a) * (a - k / s)


def auto_step_shift(X_scaled: np.ndarray, bits: int) -> int:
    """Initial step for least-squares SGD: eta = 2^-ceil(log2((R + 1)(1 + V))).

    R = max_i sum_j a_ij bounds E||Q(a_i)||^2 (for levels in [0, 1], E[Q(a)^2] <= a),
    so eta (||Q(a)||^2 + 1) <= 1 on average: stable for the fp32 baseline. V = max_i
    sum_j Var[Q(a_ij)] is the rounding variance of a row (0 at 32 bits); the
    double-sampled update w -= eta Q2 (Q1^T w - b) carries noise eta Q2 (Q1 - a)^T w
    whose size grows with V, so low precision starts with a smaller step.
    V is measured on at most 65536 evenly spaced rows.
    """
    r = float(X_scaled.sum(axis=1, dtype=np.float64).max()) + 1.0
    v = 0.0
    if bits != FULL_PRECISION:
        rows = X_scaled[:: max(1, X_scaled.shape[0] // 65536)]
        v = float(rounding_variance(rows, bits).sum(axis=1).max())
    return int(min(F.MAX_SHIFT, max(1, math.ceil(math.log2(r * (1.0 + v))))))


@dataclass(frozen=True)
class Prepared:
    """Data as a kernel reads it: scaled float32 rows (fp32) or quantized lines."""

    n_features: int
    scaled: np.ndarray | None = None
    lines: np.ndarray | None = None
    level_values: np.ndarray | None = None  # Q0.10 per-feature tables (optimal levels)


def prepare(X: np.ndarray, scaling: FeatureScaling, config: SgdConfig) -> Prepared:
    """Scale (and quantize, unless bits = 32) once; shared by every target and epoch."""
    if config.bits == FULL_PRECISION:
        return Prepared(X.shape[1], scaled=scaling.transform(X))
    q = quantize(X, config.bits, sampling=config.sampling, levels=config.levels, seed=config.seed,
                 n_copies=config.n_copies, backend=config.backend, scaling=scaling)
    return Prepared(X.shape[1], lines=q.lines, level_values=q.level_values)


def _run_kernel(data: Prepared, y_scaled, config: SgdConfig, epochs: int, step_shift: int, decay: int,
                model_init: np.ndarray, copy: slice) -> np.ndarray:
    d = data.n_features
    if data.lines is None:
        args = (data.scaled, y_scaled.astype(np.float32), epochs, step_shift, decay, model_init.astype(np.float32))
        if config.backend == "hls":
            from . import _kernels

            return _kernels.sgd_fp32(*args).astype(np.float64)
        return reference.sgd_fp32(*args).astype(np.float64)
    labels = F.to_fixed(y_scaled, F.LABEL_FRAC)
    init = F.to_fixed(model_init, F.MODEL_FRAC)
    tables = data.level_values
    dot_mult = F.dot_mult(config.bits) if tables is None else F.TABLE_DOT_MULT
    tail = (epochs, step_shift, decay, dot_mult, init)
    if config.backend == "hls":
        from . import _kernels

        hist = _kernels.sgd_quantized(data.lines[copy], labels, d, config.bits, F.encoding_id(config.sampling), *tail,
                                      values=tables)
    else:
        hist = reference.sgd_least_squares(data.lines[copy], labels, d, config.bits, config.sampling, *tail,
                                           values=tables)
    return hist.astype(np.float64) / (1 << F.MODEL_FRAC)


def train(data: Prepared, y_scaled: np.ndarray, config: SgdConfig, epochs: int, model_init: np.ndarray,
          on_epoch=None) -> np.ndarray:
    """Run ``epochs`` epochs from ``model_init`` (d weights + intercept, scaled units).

    Returns the (epochs, d+1) float64 history of models in scaled units. With
    ``on_epoch(e, model)`` the kernel is called once per epoch (with that epoch's step
    and copy), which gives the same bits as one call for all epochs.
    """
    if on_epoch is None:
        return _run_kernel(data, y_scaled, config, epochs, config.step_shift, config.decay_epochs, model_init,
                           slice(None))
    history = np.empty((epochs, data.n_features + 1))
    model = model_init
    for e in range(epochs):
        shift = reference.epoch_shift(config.step_shift, config.decay_epochs, e)
        c = e % config.n_copies
        history[e] = _run_kernel(data, y_scaled, config, 1, shift, 0, model, slice(c, c + 1))[0]
        model = history[e]
        on_epoch(e, model)
    return history
