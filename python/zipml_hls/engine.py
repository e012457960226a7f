"""The training engine: scaled data -> (quantize) -> SGD kernel -> model history.

Shared by the estimators and the benchmark; works in the scaled space (features in
[0, 1], labels centred and divided by their spread, or +1/-1 for margin losses) and
returns float64 models there. Every kernel call goes through :mod:`zipml_hls.backend`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import get_backend
from .polynomial import logistic_polynomial
from .quantize import quantize_checked
from .scaling import FeatureScaling
from .spec import format as F
from .spec.losses import LOSSES
from .spec.schedule import epoch_shift


@dataclass(frozen=True)
class SgdConfig:
    """What one training run needs besides the data.

    bits: 1, 2, 3, 4, 6, 8, or 32 (the fp32 baseline); sampling: 'double' | 'naive' |
    'nearest' (for log_loss, 'double' means degree + 1 independent samples); levels:
    'uniform' | 'optimal'; step_shift: eta_0 = 2^-step_shift; decay_epochs: eta halves
    every this many epochs (0: constant); n_copies: quantized copies cycled over epochs;
    seed: the counter-based RNG seed; backend: 'hls' (C++ kernels) or 'reference' (NumPy
    golden model); loss: a name of ``spec.losses.LOSSES``.
    """

    bits: int
    sampling: str
    levels: str
    step_shift: int
    decay_epochs: int
    n_copies: int
    seed: int
    backend: str
    loss: str = "squared_error"
    model_bits: int = 0  #: round the model to this many bits for the dot product (0: exact)
    grad_bits: int = 0  #: round each update to this many bits (0: exact)
    refetch: bool = True  #: losses with refetching: refetch full-precision rows near the margin
    poly_degree: int = 5  #: log_loss: degree of the polynomial (degree + 1 samples)
    poly_range: float = 4.0  #: log_loss: the polynomial approximates on [-R, R]

    @property
    def stored_sampling(self) -> str:
        """The sampling of the stored data: log_loss stores degree + 1 samples ('multi')
        where the user asked for 'double'."""
        polynomial = LOSSES[self.loss].kernel == "polynomial"
        return "multi" if polynomial and self.sampling == "double" else self.sampling


@dataclass(frozen=True)
class Prepared:
    """Data as a kernel reads it: scaled float32 rows (fp32) or quantized lines."""

    n_features: int
    scaled: np.ndarray | None = None
    lines: np.ndarray | None = None
    level_values: np.ndarray | None = None  # Q0.10 per-feature tables (optimal levels)
    sampling: str = "double"  # the stored sampling ('multi' for logistic double sampling)
    full: np.ndarray | None = None  # refetching: Q0.24 positions (n, d)


def prepare(X: np.ndarray, scaling: FeatureScaling, config: SgdConfig) -> Prepared:
    """Scale (and quantize, unless bits = 32) once; shared by every target and epoch.
    ``X`` is a validated float32 C array."""
    if config.bits == F.FULL_PRECISION:
        return Prepared(X.shape[1], scaled=scaling.transform(X))
    sampling = config.stored_sampling
    samples = config.poly_degree + 1 if sampling == "multi" else 2
    q = quantize_checked(X, config.bits, sampling, config.levels, config.seed, config.n_copies, config.backend,
                         scaling, samples_per_value=samples)
    full = None
    if LOSSES[config.loss].refetch and config.refetch:
        full = get_backend(config.backend).positions(X, scaling.lo, scaling.inv)
    return Prepared(X.shape[1], lines=q.lines, level_values=q.level_values, sampling=sampling, full=full)


class KernelRun:
    """Prepared data and one target bound to the kernel, labels converted once (float32
    for the fp32 baseline, Q16 otherwise); calling it runs epochs on the backend."""

    def __init__(self, data: Prepared, y_scaled: np.ndarray, config: SgdConfig):
        self.data, self.config = data, config
        self.kernels = get_backend(config.backend)
        self.labels = (y_scaled.astype(np.float32) if data.lines is None else F.to_fixed(y_scaled, F.LABEL_FRAC))
        if data.lines is not None and LOSSES[config.loss].kernel == "polynomial":
            self.poly = logistic_polynomial(config.poly_degree, config.poly_range)

    def __call__(self, epochs: int, step_shift: int, decay: int, model_init: np.ndarray, copy: slice = slice(None)):
        """``epochs`` epochs from ``model_init`` (scaled units) on the copies ``copy``;
        returns (history (epochs, d+1) float64 in scaled units, refetches per epoch or None)."""
        data, config, kernels = self.data, self.config, self.kernels
        d = data.n_features
        if data.lines is None:
            hist = kernels.sgd_fp32(data.scaled, self.labels, epochs, step_shift, decay,
                                    model_init.astype(np.float32), loss=config.loss)
            return hist.astype(np.float64), None
        init = F.to_fixed(model_init, F.MODEL_FRAC)
        lines = data.lines[copy]
        if LOSSES[config.loss].kernel == "polynomial":
            hist = kernels.sgd_logistic(lines, self.labels, d, config.bits, data.sampling, config.poly_degree + 1,
                                        epochs, step_shift, decay, F.dot_mult(config.bits), self.poly.fixed_coef(),
                                        self.poly.range_q16(), init)
            return hist.astype(np.float64) / (1 << F.MODEL_FRAC), None
        tables = data.level_values
        dot_mult = F.dot_mult(config.bits) if tables is None else F.TABLE_DOT_MULT
        hist, refetches = kernels.sgd_linear(lines, self.labels, d, config.bits, data.sampling, epochs, step_shift,
                                             decay, dot_mult, init, values=tables, loss=config.loss,
                                             model_bits=config.model_bits, grad_bits=config.grad_bits,
                                             seed=config.seed, full=data.full)
        return hist.astype(np.float64) / (1 << F.MODEL_FRAC), (refetches if data.full is not None else None)


def run_epoch(run: KernelRun, epoch: int, shift: int, model: np.ndarray):
    """One epoch (copy ``epoch % n_copies``) at step 2^-shift from ``model``: returns the
    new model and the rows refetched (losses with refetching) or None."""
    c = epoch % run.config.n_copies
    hist, counts = run(1, shift, 0, model, slice(c, c + 1))
    return hist[0], (None if counts is None else int(counts[0]))


def train(run: KernelRun, epochs: int, model_init: np.ndarray, on_epoch=None):
    """Run ``epochs`` epochs of the fixed schedule from ``model_init`` (d weights +
    intercept, scaled units).

    Returns the (epochs, d+1) float64 history of models in scaled units and, for losses
    with refetching, the samples refetched in each epoch (else None). With
    ``on_epoch(e, model)`` the kernel is called once per epoch (with that epoch's step
    and copy), which gives the same bits as one call for all epochs.
    """
    config = run.config
    if on_epoch is None:
        return run(epochs, config.step_shift, config.decay_epochs, model_init)
    history = np.empty((epochs, run.data.n_features + 1))
    refetches = []
    model = model_init
    for e in range(epochs):
        history[e], count = run_epoch(run, e, epoch_shift(config.step_shift, config.decay_epochs, e), model)
        model = history[e]
        refetches.append(count)
        on_epoch(e, model)
    return history, (None if refetches[0] is None else np.array(refetches))
