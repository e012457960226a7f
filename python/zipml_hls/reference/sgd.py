"""Golden twin of hls/include/zipml/sgd.hpp: SGD for a linear model on packed data."""

from __future__ import annotations

import numpy as np

from ..spec import format as F
from ..spec.layout import decode_lines
from ..spec.resample import sample_stream_key
from ..spec.losses import LOSSES
from ..spec.rng import STREAM_GRAD, STREAM_MODEL, draw, stream_key
from ..spec.schedule import epoch_shift
from .fixed_point import (grid_shift, qsgd_norm_root, qsgd_norm_shift, qsgd_round, round_shift, saturate32,
                          stochastic_shift, wrap32)
from .losses import FIXED_RESIDUALS


def residual_step(r: int, dot_mult: int, shift: int, vmax: int, pmax: int = 0):
    """Golden ``residual_step``: (g per unit of level value, Q32 int64; the intercept
    step, Q24 saturated; whether the largest possible step, times 2^pmax, or the intercept
    step leaves int32)."""
    g = round_shift(r * dot_mult, F.UPDATE_FRAC + shift)
    dc = round_shift(r << F.DOT_DROP, shift)
    top = round_shift(g * vmax, F.UPDATE_FRAC)
    limit = ((1 << 31) - 1) >> pmax
    return g, saturate32(dc), top > limit or top < -limit - 1 or dc != saturate32(dc)


def conditioned_steps(g: int, values: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """Golden ``conditioned_step``: round(g v 2^q / 2^8) per feature, one rounding, with
    |g v| capped at 2^55 first, saturated to int32."""
    cap = 1 << 55
    x = np.clip(g * np.asarray(values, dtype=np.int64), -cap, cap)
    q = np.asarray(exponents, dtype=np.int64)
    left = x << np.maximum(q - F.UPDATE_FRAC, 0)
    right_shift = np.maximum(F.UPDATE_FRAC - q, 1)
    right = (x + (np.int64(1) << (right_shift - 1))) >> right_shift
    return np.clip(np.where(q >= F.UPDATE_FRAC, left, right), -(1 << 31), (1 << 31) - 1)


def stored_rounding_corrected(w: np.ndarray, variance: np.ndarray, exponents: np.ndarray, count: int,
                              shift: int) -> np.ndarray:
    """The weights after the stored-rounding correction of ``count`` samples (sgd.hpp):
    w + sat32(round(w v count 2^q / 2^(32 + shift))), wrapping; nothing added where that
    shift passes 62 (the int64 products stay below 2^62)."""
    s = F.VARIANCE_FRAC + shift - exponents
    live = s <= 62
    pull = w * variance * count
    step = np.where(live, (pull + (np.int64(1) << np.where(live, s - 1, 0))) >> np.where(live, s, 0), 0)
    return wrap32(w + np.clip(step, -(1 << 31), (1 << 31) - 1))


class Regularization:
    """Golden ``Regularization`` (sgd.hpp): sample weights u_i (Q16, pass order), L2 decay
    a_j and L1 coefficients t_j (Q32) per feature; each None: none."""

    def __init__(self, sample_weights=None, decay=None, l1=None):
        self.sample_weights = None if sample_weights is None else np.asarray(sample_weights, np.int64)
        self.decay = None if decay is None else np.asarray(decay, np.int64)
        self.l1 = None if l1 is None else np.asarray(l1, np.int64)

    @property
    def penalized(self) -> bool:
        return self.decay is not None or self.l1 is not None

    def weighted(self, r: int, i: int):
        """(sat32(round(r u_i / 2^16)), whether it saturated)."""
        if self.sample_weights is None:
            return r, False
        x = round_shift(r * int(self.sample_weights[i]), F.WEIGHT_FRAC)
        return saturate32(x), x != saturate32(x)

    def decayed(self, w: np.ndarray, shift: int) -> np.ndarray:
        s = F.PENALTY_FRAC + shift
        if self.decay is None or s > 62:
            return w
        return w - ((w * self.decay + (np.int64(1) << (s - 1))) >> s)

    def thresholded(self, w: np.ndarray, shift: int) -> np.ndarray:
        if self.l1 is None:
            return w
        s = F.PENALTY_FRAC - F.MODEL_FRAC + shift
        t = (self.l1 + (np.int64(1) << (s - 1))) >> s if s <= 62 else np.zeros_like(self.l1)
        return np.where(w > t, w - t, np.where(w < -t, w + t, 0))

    def stepped(self, w: np.ndarray, step: np.ndarray, shift: int) -> np.ndarray:
        """The weights after one sample: decayed, stepped (wrapping), thresholded."""
        return self.thresholded(wrap32(self.decayed(w, shift) - step), shift)



def vector_round(x: np.ndarray, bits: int, quantization: str, top: int, rnd: np.ndarray) -> np.ndarray:
    """Golden ``VectorRounding`` (sgd.hpp): x, whose entries are at most ``top`` in
    magnitude, rounded to ``bits`` bits with the draws ``rnd``: 'grid' onto multiples of
    2^k, k the grid shift of top; 'qsgd' onto the s = 2^(bits-1) - 1 levels of its norm."""
    if quantization == "qsgd":
        t = qsgd_norm_shift(top)
        return qsgd_round(x, qsgd_norm_root(x, t), t, (1 << (bits - 1)) - 1, rnd)
    k = grid_shift(top, (1 << (bits - 1)) - 1)
    return stochastic_shift(x, k, rnd) << k


def code_steps(g: int, values: np.ndarray) -> np.ndarray:
    """Golden ``code_step`` of an array of level values: sat32(round(g * v / 2^8))."""
    return conditioned_steps(g, values, np.zeros(np.shape(values), np.int64))


def sgd_linear(data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in, values=None,
               loss="squared_error", model_bits=0, grad_bits=0, seed=0, full=None, feature_shifts=None,
               centers=None, rows=None, stored_variance=None, sample_weights=None, decay=None, l1=None,
               model_quantization="grid", fit_intercept=True):
    """Golden ``sgd_linear``: returns the (epochs, d+1) int32 model history, the (n, 2)
    int32 predictions of the last epoch's pass (PassReport in sgd.hpp), and per epoch the
    samples whose step saturated and the samples refetched (losses with refetching).

    ``values``: per-feature level values (d, 2^bits), Q0.10, or None for uniform codes;
    ``full``: (n, d) Q0.24 positions for refetching, or None; ``feature_shifts``: (d,)
    per-feature step exponents p_j (each step times 2^p_j), or None for 0; ``centers``:
    (d,) per-feature centers in level-value units (the model sees v_j - m_j), or None;
    ``rows``: sample i reads row rows[i] of each copy (and of ``full``) and labels[i]
    (None: in order); ``stored_variance``: (d,) Q32 variances of double data's stored
    rounding, corrected after every CORRECTION_ROWS samples and the last (SgdOptions in
    sgd.hpp), or None; ``sample_weights`` (n,) Q16 in pass order, ``decay`` and ``l1``
    (d,) Q32: the Regularization of sgd.hpp (None: none); ``model_quantization``: how
    ``model_bits`` and ``grad_bits`` round, 'grid' or 'qsgd' (vector_round);
    ``fit_intercept`` False: the intercept keeps model_in's value (SgdOptions::fit_intercept).
    """
    table = None if values is None else np.asarray(values, dtype=np.int64)
    if table is not None and np.any(np.abs(table) > F.MAX_TABLE_VALUE):
        raise ValueError(f"values must lie in [-2^30, 2^30] (level tables are Q0.10: 1024 is 1.0), got "
                         f"{int(np.abs(table).max())} in magnitude")
    if table is not None and np.any(table[:, 0] != 0):
        first = table[:, 0]
        j = int(np.flatnonzero(first)[0])
        raise ValueError(f"values[{j}, 0] is {first[j]}: every table's code 0 must have value 0 (the feature's "
                         "minimum)")
    reg = Regularization(sample_weights, decay, l1)
    residual = FIXED_RESIDUALS[loss]
    refetching = LOSSES[loss].refetch and full is not None
    second_sample = sampling == "double" and LOSSES[loss].second_sample
    n_copies, stored = data.shape[:2]
    order = np.arange(stored) if rows is None else np.asarray(rows)
    n = len(order)  # the pass: every stored row, or those of ``rows`` (a part of one copy)
    rows = data.reshape(n_copies, stored, -1, F.LINE_WORDS)[:, order]
    full = None if full is None else full[order]
    def epoch_codes(e: int):  # the two samples of every row in epoch e (drawn afresh for double)
        first, second = decode_lines(rows[e % n_copies], bits, sampling, d, sample_stream_key(seed, e, np.arange(n)))
        return (first, second) if table is None else (table[np.arange(d), first], table[np.arange(d), second])
    s = F.max_code(bits)
    vmax = s if values is None else 1 << F.LEVEL_VALUE_FRAC
    w = np.asarray(model_in[:d], dtype=np.int64).copy()
    intercept = int(model_in[d])
    history = np.empty((epochs, d + 1), dtype=np.int32)
    refetches = np.zeros(epochs, dtype=np.int32)
    saturations = np.zeros(epochs, dtype=np.int32)
    predictions = np.empty((n, 2), dtype=np.int32)
    code_values = np.arange(s + 1, dtype=np.int64)
    cols = np.arange(d)
    one = 1 << F.LABEL_FRAC
    exponents = np.zeros(d, np.int64) if feature_shifts is None else np.asarray(feature_shifts, np.int64)
    pmax = int(exponents.max()) if d else 0
    m = np.zeros(d, np.int64) if centers is None else np.asarray(centers, np.int64)
    tabled = values is None and centers is None and feature_shifts is None  # steps from a table of the codes
    variance = None if stored_variance is None else np.asarray(stored_variance, np.int64)

    # w >> 8 against codes, >> 10 against table values (then shifted 2 bits less), summed wrapping in int32
    drop, frac = (F.DOT_DROP, F.DOT_MULT_FRAC) if values is None else (F.TABLE_DOT_DROP, F.TABLE_DOT_FRAC)
    centred_full = None if full is None else full.astype(np.int64) - m * dot_mult  # Q0.24
    for e in range(epochs):
        shift = epoch_shift(step_shift, decay_epochs, e)
        first, second = epoch_codes(e)
        for i in range(n):
            v = w
            if model_bits:
                v = wrap32(vector_round(w, model_bits, model_quantization, int(np.abs(w).max()),
                                        draw(stream_key(seed, STREAM_MODEL, e, i), cols)))
            acc = int(wrap32(int(np.dot(first[i] - m, v >> drop))))
            pred = ((acc * dot_mult) >> frac) + (intercept >> F.DOT_DROP)
            label = int(labels[i])
            refetch = False
            if refetching:
                # The low-precision margin is within `band` of the exact one: near 1 its
                # test could go either way, so the exact row decides.
                l1 = int(np.abs(v).sum())
                band = ((l1 >> F.DOT_DROP) * dot_mult) >> F.DOT_MULT_FRAC if values is None else l1 >> F.DOT_DROP
                margin = (1 if label > 0 else -1) * pred
                if abs(margin - one) <= band:
                    refetch = True
                    refetches[e] += 1
                    exact = int(np.dot(centred_full[i], w >> F.DOT_DROP))
                    pred = (exact >> F.POS_FRAC) + (intercept >> F.DOT_DROP)
            r, weight_saturated = reg.weighted(residual(pred, label), i)
            g, dc, saturated = residual_step(r, dot_mult, shift, vmax, pmax)
            saturations[e] += saturated or weight_saturated
            pred2 = pred
            if refetch:
                s = F.LABEL_FRAC + shift - exponents
                w = reg.stepped(w, np.clip((r * centred_full[i] + (np.int64(1) << (s - 1))) >> s, -(1 << 31),
                                           (1 << 31) - 1), shift)
            elif r != 0:
                if second_sample:  # the second sample against the model before the update
                    acc2 = int(wrap32(int(np.dot(second[i] - m, w >> drop))))
                    pred2 = ((acc2 * dot_mult) >> frac) + (intercept >> F.DOT_DROP)
                if tabled:
                    step = code_steps(g, code_values)[second[i]]
                else:
                    step = conditioned_steps(g, second[i] - m, exponents)
                if grad_bits:
                    biggest = int(conditioned_steps(g, np.array([vmax]), np.array([pmax]))[0])
                    step = vector_round(step, grad_bits, model_quantization, abs(biggest),
                                        draw(stream_key(seed, STREAM_GRAD, e, i), cols))
                w = reg.stepped(w, step, shift)
            elif reg.penalized:
                w = reg.thresholded(reg.decayed(w, shift), shift)
            predictions[i] = saturate32(pred), saturate32(pred2)
            if fit_intercept:
                intercept = int(wrap32(intercept - dc))
            if stored_variance is not None and ((i + 1) % F.CORRECTION_ROWS == 0 or i + 1 == n):
                w = stored_rounding_corrected(w, variance, exponents, i % F.CORRECTION_ROWS + 1, shift)
        history[e, :d] = w
        history[e, d] = intercept
    return history, predictions, saturations, refetches
