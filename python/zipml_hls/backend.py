"""The kernel boundary: the only module that imports the compiled kernels
(``zipml_hls._kernels``) or the NumPy golden model (:mod:`zipml_hls.reference`).

Two implementations of one interface, chosen by name: ``'hls'`` runs the C++ kernels of
hls/include/zipml (the pybind11 module, built at install time), ``'reference'`` the golden
model. Both take samplings and losses by name (``spec.format.SAMPLINGS``,
``spec.losses.LOSSES``) and give identical bits (the fp32 baseline within the tolerance
of docs/FORMATS.md). Arguments are the kernels' own formats (Q0.24 positions, Q16
labels, Q24 models); the callers above have validated them, and the native module checks
every size again, so bad input raises ValueError instead of crashing.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from .spec.format import quantization_id, sampling_id
from .spec.losses import LOSSES
from .spec.rng import epoch_order

BACKENDS = ("hls", "reference")


def row_order(rows, n: int):
    """``rows`` as int64 indices of an n-row X, or None: an integer 1-D array (TypeError
    otherwise: a float or boolean array is no row order), every entry in [0, n)."""
    if rows is None:
        return None
    arr = np.asarray(rows)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"rows must be an integer array of row indices, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"rows must be a non-empty 1-D array of row indices, got shape {arr.shape}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"rows must be rows of X, in [0, {n - 1}]; got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64)


class SgdResult(NamedTuple):
    """What an SGD kernel call returns (both backends).

    history: (epochs, d+1) the model after every epoch (int32 Q24; float32 for fp32);
    predictions: (n, 2) each sample's predictions in the last epoch's pass, made before
    its update, from its first and its second sample (PassReport in sgd.hpp; Q16 int32,
    float32 for fp32, where both columns are the one prediction); saturations: (epochs,)
    samples whose step saturated, or None (fp32); refetches: (epochs,) samples refetched,
    or None (kernels that never refetch).
    """

    history: np.ndarray
    predictions: np.ndarray
    saturations: np.ndarray | None = None
    refetches: np.ndarray | None = None


def _fp32_result(history, predictions) -> SgdResult:
    return SgdResult(history, np.repeat(predictions[:, None], 2, axis=1))


class KernelBackend(Protocol):
    """What both backends implement, with the same signatures (tests/test_backend.py);
    the native one adds ``portable`` / ``monotone`` switches and build diagnostics."""

    name: str

    def positions(self, X, lo, inv): ...

    def epoch_order(self, seed, epoch, n): ...

    def quantize(self, X, lo, inv, levels, bits, sampling, seed, n_copies, samples_per_value=2, rows=None): ...

    def sgd_linear(self, data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in, *,
                   values=None, loss="squared_error", model_bits=0, grad_bits=0, model_quantization="grid", seed=0,
                   full=None,
                   feature_shifts=None, centers=None, rows=None, stored_variance=None, sample_weights=None,
                   decay=None, l1=None, fit_intercept=True): ...

    def sgd_logistic(self, data, labels, d, bits, sampling, samples, epochs, step_shift, decay_epochs, dot_mult,
                     coef, range_q16, model_in, seed=0, rows=None, sample_weights=None, decay=None, l1=None,
                     feature_shifts=None, centers=None, fit_intercept=True): ...

    def sgd_fp32(self, X, y, epochs, step_shift, decay_epochs, model_in, loss="squared_error", rows=None,
                 step_scale=None, centers=None, weights=None, decay=None, l1=None, fit_intercept=True): ...

    def levels_dp(self, x, counts, s, grid_size=0): ...

    def grid_level_columns(self, positions, s, grid_size): ...


class NativeBackend:
    """The C++ kernels, compiled for this machine."""

    name = "hls"

    def __init__(self):
        from . import _kernels

        self._k = _kernels

    def positions(self, X, lo, inv):
        """Q0.24 positions (uint32) of min/max-scaled float32 data, clamped to [0, 1]."""
        return self._k.positions(X, lo, inv)

    def epoch_order(self, seed, epoch, n):
        """The rows of an epoch in visiting order (spec.rng.epoch_order), without the GIL."""
        return self._k.epoch_order(seed, epoch, n)

    # fit()'s set-up statistics: host code that both backends' fits share (not kernels)
    def feature_summary(self, X):
        """(lo, hi, mean, var, finite) of every feature of float32 X, in one pass on every core."""
        return self._k.feature_summary(X)

    def weighted_row_bound(self, X, origin, weight, root):
        """For each row s of origin, weight and root ((sets, d)): (max_i sum_j weight_sj |X_ij -
        origin_sj|, max_i sum_j (root_sj (X_ij - origin_sj))^2) (float32), as row s of a
        (sets, 2) array; one pass over X on every core."""
        return self._k.weighted_row_bound(X, origin, weight, root)

    def rounding_stats(self, X, rows, lo, inv, bits, levels=None):
        """(mean, row_max, stored): the rounding variances at ``bits`` bits of rows ``rows``
        (None: all) of X scaled by lo and inv, at uniform levels or at the level tables
        ``levels`` (``step_size.RoundingStats``)."""
        return self._k.rounding_stats(X, rows, lo, inv, bits, levels)

    def pass_loss(self, predictions, labels, loss, rows=None, weights=None):
        """(mean, standard error) of the training loss of a kernel pass from its predictions
        (``engine.KernelRun.pass_loss``); ``loss`` by name."""
        return self._k.pass_loss(predictions, labels, LOSSES[loss].kernel_id, rows, weights)

    def quantize(self, X, lo, inv, levels, bits, sampling, seed, n_copies, samples_per_value=2, rows=None,
                 portable=False):
        """Packed lines (n_copies, n, words) of X's stochastic quantization; ``rows``: output
        row i quantizes X[rows[i]] (None: X's rows in order); ``portable`` skips the CPU fast
        path (same bits)."""
        return self._k.quantize(X, lo, inv, levels, bits, sampling_id(sampling), seed, n_copies, samples_per_value,
                                portable, row_order(rows, len(X)))

    def sgd_linear(self, data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in, *,
                   values=None, loss="squared_error", model_bits=0, grad_bits=0, model_quantization="grid", seed=0,
                   full=None,
                   feature_shifts=None, centers=None, rows=None, stored_variance=None, portable=False,
                   sample_weights=None, decay=None, l1=None, fit_intercept=True, require_fast=False):
        """SgdResult of the linear kernel; ``rows``: sample i reads row rows[i] of each copy
        (and of ``full``) and labels[i] (None: in order); ``stored_variance``: double data's
        stored-rounding correction (int32 Q32 per feature, or None); ``portable`` skips the
        CPU fast path (same bits), ``require_fast`` raises ValueError where it does not cover
        the call; ``sample_weights`` (int32 Q16, labels' order), ``decay``
        and ``l1`` (int32 Q32 per feature): Regularization (sgd.hpp), or None;
        ``fit_intercept`` False: the intercept stays at model_in's (SgdOptions)."""
        return SgdResult(*self._k.sgd_linear(data, labels, d, bits, sampling_id(sampling), epochs, step_shift,
                                             decay_epochs, dot_mult, model_in, values=values,
                                             loss=LOSSES[loss].kernel_id, model_bits=model_bits, grad_bits=grad_bits,
                                             model_quantization=quantization_id(model_quantization),
                                             seed=seed, full=full, feature_shifts=feature_shifts, centers=centers,
                                             portable=portable, rows=row_order(rows, data.shape[1]),
                                             stored_variance=stored_variance, sample_weights=sample_weights,
                                             decay=decay, l1=l1, fit_intercept=fit_intercept,
                                             require_fast=require_fast))

    def sgd_logistic(self, data, labels, d, bits, sampling, samples, epochs, step_shift, decay_epochs, dot_mult,
                     coef, range_q16, model_in, seed=0, rows=None, sample_weights=None, decay=None, l1=None,
                     feature_shifts=None, centers=None, fit_intercept=True, portable=False, require_fast=False):
        """SgdResult of the polynomial logistic kernel (no refetches); ``seed``: the draws of
        double data's samples; ``rows``, ``sample_weights``, ``decay``, ``l1``,
        ``feature_shifts``, ``centers``, ``fit_intercept``, ``portable``, ``require_fast`` as
        sgd_linear's."""
        return SgdResult(*self._k.sgd_logistic(data, labels, d, bits, sampling_id(sampling), samples, epochs,
                                               step_shift, decay_epochs, dot_mult, coef, range_q16, model_in,
                                               seed=seed, rows=row_order(rows, data.shape[1]),
                                               sample_weights=sample_weights, decay=decay, l1=l1,
                                               feature_shifts=feature_shifts, centers=centers,
                                               fit_intercept=fit_intercept, portable=portable,
                                               require_fast=require_fast))

    def sgd_fp32(self, X, y, epochs, step_shift, decay_epochs, model_in, loss="squared_error", rows=None,
                 step_scale=None, centers=None, weights=None, decay=None, l1=None, fit_intercept=True):
        """SgdResult of the 32-bit baseline; ``rows``: sample i reads X[rows[i]] and y[i]
        (None: X's rows in order); ``step_scale``, ``centers``: per-feature step multipliers
        and centers, or None; ``weights`` (per sample, y's order), ``decay``, ``l1`` (per
        feature): float32 sample weights and penalties, or None; ``fit_intercept`` as
        sgd_linear's."""
        return _fp32_result(*self._k.sgd_fp32(X, y, epochs, step_shift, decay_epochs, model_in,
                                              loss=LOSSES[loss].kernel_id, rows=row_order(rows, len(X)),
                                              step_scale=step_scale, centers=centers, weights=weights, decay=decay,
                                              l1=l1, fit_intercept=fit_intercept))

    def levels_dp(self, x, counts, s, grid_size=0, monotone=True):
        """The s+1 variance-optimal levels among the points x (grid_size 0) or a grid;
        ``monotone=False`` runs the plain O(s M^2) program (the oracle) instead of the fast search."""
        return self._k.levels_dp(x, counts, s, grid_size, monotone)[0]

    def grid_level_columns(self, positions, s, grid_size):
        """Grid-method levels (d, s+1) of every column of (n, d) Q0.24 positions."""
        return self._k.grid_level_columns(np.ascontiguousarray(positions, dtype=np.uint32), s, grid_size)

    def stream_read(self, buffer) -> int:
        """Sum of a uint64 buffer: a streaming read, to measure memory bandwidth."""
        return self._k.stream_read(buffer)

    def info(self) -> dict:
        """Build facts: compiler, flags, instruction set, fast paths, limits."""
        return self._k.info()

    def constants(self) -> dict:
        """Every format constant the kernels were compiled with (mirrored by ``spec``)."""
        return self._k.constants()


def pass_rows(data, labels, rows):
    """``rows`` checked as the C++ module checks a quantized pass (row_order, and
    sample_rows in bindings/sgd.cpp): a part of the data only when it holds one copy, one
    label per sample of the pass."""
    order = row_order(rows, data.shape[1])
    n = data.shape[1] if order is None else len(order)
    if n != data.shape[1] and data.shape[0] != 1:
        raise ValueError(f"rows must hold one row index per sample ({data.shape[1]}) when the data hold "
                         f"{data.shape[0]} copies, got {n}")
    if np.shape(labels) != (n,):
        raise ValueError(f"labels must have shape ({n},), got {np.shape(labels)}")
    return order


class ReferenceBackend:
    """The NumPy golden model; the level solver is the O(s N^2) dynamic program."""

    name = "reference"

    def __init__(self):
        from . import reference

        self._r = reference

    def positions(self, X, lo, inv):
        return self._r.scaled_position(X, lo, inv)

    def epoch_order(self, seed, epoch, n):
        return epoch_order(seed, epoch, n)

    def quantize(self, X, lo, inv, levels, bits, sampling, seed, n_copies, samples_per_value=2, rows=None):
        return self._r.quantize_matrix(X, lo, inv, levels, bits, sampling, seed, n_copies, samples_per_value,
                                       row_order(rows, len(X)))

    def sgd_linear(self, data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in, *,
                   values=None, loss="squared_error", model_bits=0, grad_bits=0, model_quantization="grid", seed=0,
                   full=None,
                   feature_shifts=None, centers=None, rows=None, stored_variance=None, sample_weights=None,
                   decay=None, l1=None, fit_intercept=True):
        if stored_variance is not None and sampling != "double":
            raise ValueError(f"stored_variance corrects double data's stored rounding; these data are {sampling}")
        quantization_id(model_quantization)  # the kernels' check: a name they know
        return SgdResult(*self._r.sgd_linear(data, labels, d, bits, sampling, epochs, step_shift, decay_epochs,
                                             dot_mult, model_in, values=values, loss=loss, model_bits=model_bits,
                                             grad_bits=grad_bits, model_quantization=model_quantization, seed=seed,
                                             full=full,
                                             feature_shifts=feature_shifts, centers=centers,
                                             rows=pass_rows(data, labels, rows), stored_variance=stored_variance,
                                             sample_weights=sample_weights, decay=decay, l1=l1,
                                             fit_intercept=fit_intercept))

    def sgd_logistic(self, data, labels, d, bits, sampling, samples, epochs, step_shift, decay_epochs, dot_mult,
                     coef, range_q16, model_in, seed=0, rows=None, sample_weights=None, decay=None, l1=None,
                     feature_shifts=None, centers=None, fit_intercept=True):
        return SgdResult(*self._r.sgd_logistic(data, labels, d, bits, sampling, samples, epochs, step_shift,
                                               decay_epochs, dot_mult, coef, range_q16, model_in, seed=seed,
                                               rows=pass_rows(data, labels, rows), sample_weights=sample_weights,
                                               decay=decay, l1=l1, feature_shifts=feature_shifts, centers=centers,
                                               fit_intercept=fit_intercept))

    def sgd_fp32(self, X, y, epochs, step_shift, decay_epochs, model_in, loss="squared_error", rows=None,
                 step_scale=None, centers=None, weights=None, decay=None, l1=None, fit_intercept=True):
        return _fp32_result(*self._r.sgd_fp32(X, y, epochs, step_shift, decay_epochs, model_in, loss=loss,
                                              rows=row_order(rows, len(X)), step_scale=step_scale,
                                              centers=centers, weights=weights, decay=decay, l1=l1,
                                              fit_intercept=fit_intercept))

    def levels_dp(self, x, counts, s, grid_size=0):
        if grid_size:
            raise ValueError("backend='reference' implements the exact level method only")
        from .reference.levels import levels_dp

        return levels_dp(x, counts, s)

    def grid_level_columns(self, positions, s, grid_size):
        raise ValueError("backend='reference' implements the exact level method only")


_INSTANCES: dict = {}


def get_backend(name: str = "hls") -> KernelBackend:
    """The backend called ``name`` ('hls' or 'reference'), created once."""
    if name not in _INSTANCES:
        if name not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
        _INSTANCES[name] = NativeBackend() if name == "hls" else ReferenceBackend()
    return _INSTANCES[name]
