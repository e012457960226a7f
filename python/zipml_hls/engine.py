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
from .polynomial import logistic_polynomial
from .quantize import quantize
from .scaling import FeatureScaling

FULL_PRECISION = 32


@dataclass(frozen=True)
class SgdConfig:
    """What one training run needs besides the data.

    bits: 1, 2, 3, 4, 6, 8, or 32 (the fp32 baseline); sampling: 'double' | 'naive' |
    'nearest' (for log_loss, 'double' means degree + 1 independent samples); step_shift:
    eta_0 = 2^-step_shift; decay_epochs: eta halves every this many epochs (0: constant);
    n_copies: quantized copies cycled over epochs; seed: the counter-based RNG seed;
    backend: 'hls' (C++ kernels) or 'reference' (NumPy golden model).
    """

    bits: int
    sampling: str
    levels: str
    step_shift: int
    decay_epochs: int
    n_copies: int
    seed: int
    backend: str
    loss: str = "squared_error"  #: 'squared_error' | 'hinge' | 'log_loss'
    model_bits: int = 0  #: round the model to this many bits for the dot product (0: exact)
    grad_bits: int = 0  #: round each update to this many bits (0: exact)
    refetch: bool = True  #: hinge: refetch full-precision rows near the margin
    poly_degree: int = 5  #: log_loss: degree of the polynomial (degree + 1 samples)
    poly_range: float = 4.0  #: log_loss: the polynomial approximates on [-R, R]


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
    V is measured on about 4096 evenly spaced rows (a cheap estimate of the maximum).
    """
    r = float(X_scaled.sum(axis=1, dtype=np.float64).max()) + 1.0
    v = 0.0
    if bits != FULL_PRECISION:
        rows = X_scaled[:: max(1, X_scaled.shape[0] // 4096)]
        v = float(rounding_variance(rows, bits).sum(axis=1).max())
    return int(min(F.MAX_SHIFT, max(1, math.ceil(math.log2(r * (1.0 + v))))))


LOSS_IDS = {"squared_error": 0, "hinge": 1, "log_loss": 2}


@dataclass(frozen=True)
class Prepared:
    """Data as a kernel reads it: scaled float32 rows (fp32) or quantized lines."""

    n_features: int
    scaled: np.ndarray | None = None
    lines: np.ndarray | None = None
    level_values: np.ndarray | None = None  # Q0.10 per-feature tables (optimal levels)
    sampling: str = "double"  # the stored encoding ('multi' for logistic double sampling)
    full: np.ndarray | None = None  # hinge refetching: Q0.24 positions (n, d)


def prepare(X: np.ndarray, scaling: FeatureScaling, config: SgdConfig) -> Prepared:
    """Scale (and quantize, unless bits = 32) once; shared by every target and epoch."""
    if config.bits == FULL_PRECISION:
        return Prepared(X.shape[1], scaled=scaling.transform(X))
    sampling, extra = config.sampling, {}
    if config.loss == "log_loss" and sampling == "double":
        sampling, extra = F.MULTI, {"n_samples": config.poly_degree + 1}
    q = quantize(X, config.bits, sampling=sampling, levels=config.levels, seed=config.seed,
                 n_copies=config.n_copies, backend=config.backend, scaling=scaling, **extra)
    full = None
    if config.loss == "hinge" and config.refetch:
        full = reference.scaled_position(X, scaling.lo, scaling.inv)
    return Prepared(X.shape[1], lines=q.lines, level_values=q.level_values, sampling=sampling, full=full)


def _run_kernel(data: Prepared, y_scaled, config: SgdConfig, epochs: int, step_shift: int, decay: int,
                model_init: np.ndarray, copy: slice):
    """One kernel call; returns (history in scaled units, refetches per epoch or None)."""
    from . import _kernels

    d = data.n_features
    hls = config.backend == "hls"
    if data.lines is None:
        args = (data.scaled, y_scaled.astype(np.float32), epochs, step_shift, decay, model_init.astype(np.float32))
        hist = _kernels.sgd_fp32(*args, loss=LOSS_IDS[config.loss]) if hls else reference.sgd_fp32(
            *args, loss=config.loss)
        return hist.astype(np.float64), None
    labels = F.to_fixed(y_scaled, F.LABEL_FRAC)
    init = F.to_fixed(model_init, F.MODEL_FRAC)
    lines = data.lines[copy]
    if config.loss == "log_loss":
        poly = logistic_polynomial(config.poly_degree, config.poly_range)
        args = (lines, labels, d, config.bits)
        tail = (config.poly_degree + 1, epochs, step_shift, decay, F.dot_mult(config.bits), poly.fixed_coef(),
                poly.range_q16(), init)
        hist = (_kernels.sgd_logistic(*args, F.encoding_id(data.sampling), *tail) if hls
                else reference.sgd_logistic(*args, data.sampling, *tail))
        return hist.astype(np.float64) / (1 << F.MODEL_FRAC), None
    tables = data.level_values
    dot_mult = F.dot_mult(config.bits) if tables is None else F.TABLE_DOT_MULT
    tail = (epochs, step_shift, decay, dot_mult, init)
    opts = {"loss": config.loss, "model_bits": config.model_bits, "grad_bits": config.grad_bits,
            "seed": config.seed, "full": data.full}
    if hls:
        refetches = np.zeros(epochs, np.int32)
        hist = _kernels.sgd_quantized(lines, labels, d, config.bits, F.encoding_id(data.sampling), *tail,
                                      values=tables, loss=LOSS_IDS[config.loss], model_bits=config.model_bits,
                                      grad_bits=config.grad_bits, seed=config.seed, full=data.full,
                                      refetches=refetches if config.loss == "hinge" else None)
    else:
        hist, refetches = reference.sgd_linear(lines, labels, d, config.bits, data.sampling, *tail, values=tables,
                                               **opts)
    return hist.astype(np.float64) / (1 << F.MODEL_FRAC), (refetches if data.full is not None else None)


def run_epoch(data: Prepared, y_scaled: np.ndarray, config: SgdConfig, epoch: int, shift: int, model: np.ndarray):
    """One epoch (copy ``epoch % n_copies``) at step 2^-shift from ``model``: returns the
    new model and the rows refetched (hinge with refetching) or None."""
    c = epoch % config.n_copies
    hist, counts = _run_kernel(data, y_scaled, config, 1, shift, 0, model, slice(c, c + 1))
    return hist[0], (None if counts is None else int(counts[0]))


def train(data: Prepared, y_scaled: np.ndarray, config: SgdConfig, epochs: int, model_init: np.ndarray,
          on_epoch=None):
    """Run ``epochs`` epochs from ``model_init`` (d weights + intercept, scaled units).

    Returns the (epochs, d+1) float64 history of models in scaled units and, for the
    hinge loss with refetching, the samples refetched in each epoch (else None). With
    ``on_epoch(e, model)`` the kernel is called once per epoch (with that epoch's step
    and copy), which gives the same bits as one call for all epochs.
    """
    if on_epoch is None:
        return _run_kernel(data, y_scaled, config, epochs, config.step_shift, config.decay_epochs, model_init,
                           slice(None))
    history = np.empty((epochs, data.n_features + 1))
    refetches = []
    model = model_init
    for e in range(epochs):
        shift = reference.epoch_shift(config.step_shift, config.decay_epochs, e)
        history[e], count = run_epoch(data, y_scaled, config, e, shift, model)
        model = history[e]
        refetches.append(count)
        on_epoch(e, model)
    return history, (None if refetches[0] is None else np.array(refetches))
