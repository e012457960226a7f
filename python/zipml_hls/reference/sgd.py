"""Golden twin of hls/include/zipml/sgd.hpp: SGD for a linear model on packed data."""

from __future__ import annotations

import numpy as np

from ..spec import format as F
from ..spec.layout import decode_lines
from ..spec.losses import LOSSES
from ..spec.rng import STREAM_GRAD, STREAM_MODEL, draw, stream_key
from ..spec.schedule import epoch_shift
from .fixed_point import grid_shift, round_shift, saturate32, stochastic_shift, wrap32
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


def shift_steps(steps: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """Golden ``shift_step``: int32 steps times 2^p (per feature), saturated to int32."""
    return np.clip(np.asarray(steps, dtype=np.int64) << exponents, -(1 << 31), (1 << 31) - 1)


def code_steps(g: int, values: np.ndarray) -> np.ndarray:
    """Golden ``code_step`` of an array of level values: sat32(round(g * v / 2^8))."""
    return np.clip((g * values.astype(np.int64) + (1 << (F.UPDATE_FRAC - 1))) >> F.UPDATE_FRAC,
                   -(1 << 31), (1 << 31) - 1)


def sgd_linear(data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in, values=None,
               loss="squared_error", model_bits=0, grad_bits=0, seed=0, full=None, feature_shifts=None):
    """Golden ``sgd_linear``: returns the (epochs, d+1) int32 model history, the (n, 2)
    int32 predictions of the last epoch's pass (PassReport in sgd.hpp), and per epoch the
    samples whose step saturated and the samples refetched (losses with refetching).

    ``values``: per-feature level values (d, 2^bits), Q0.10, or None for uniform codes;
    ``full``: (n, d) Q0.24 positions for refetching, or None; ``feature_shifts``: (d,)
    per-feature step exponents p_j (each step times 2^p_j), or None for 0.
    """
    residual = FIXED_RESIDUALS[loss]
    refetching = LOSSES[loss].refetch and full is not None
    second_sample = sampling == "double" and LOSSES[loss].second_sample
    n_copies, n = data.shape[:2]
    rows = data.reshape(n_copies, n, -1, F.LINE_WORDS)
    codes = [decode_lines(rows[c], bits, sampling, d) for c in range(n_copies)]
    if values is not None:  # code -> value, per feature
        table = np.asarray(values, dtype=np.int64)
        cols = np.arange(d)
        codes = [(table[cols, first], table[cols, second]) for first, second in codes]
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
    for e in range(epochs):
        shift = epoch_shift(step_shift, decay_epochs, e)
        first, second = codes[e % n_copies]
        for i in range(n):
            v = w
            if model_bits:
                km = grid_shift(int(np.abs(w).max()), (1 << (model_bits - 1)) - 1)
                v = wrap32(stochastic_shift(w, km, draw(stream_key(seed, STREAM_MODEL, e, i), cols)) << km)
            acc = int(wrap32(int(np.dot(first[i], v >> F.DOT_DROP))))  # exact in int64, then wrapped
            pred = ((acc * dot_mult) >> F.DOT_MULT_FRAC) + (intercept >> F.DOT_DROP)
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
                    exact = int(np.dot(full[i].astype(np.int64), w >> F.DOT_DROP))
                    pred = (exact >> F.POS_FRAC) + (intercept >> F.DOT_DROP)
            r = residual(pred, label)
            g, dc, saturated = residual_step(r, dot_mult, shift, vmax, pmax)
            saturations[e] += saturated
            pred2 = pred
            if refetch:
                delta = np.clip((r * full[i].astype(np.int64) + (1 << (F.LABEL_FRAC + shift - 1)))
                                >> (F.LABEL_FRAC + shift), -(1 << 31), (1 << 31) - 1)
                w = wrap32(w - shift_steps(delta, exponents))
            elif r != 0:
                if second_sample:  # the second sample against the model before the update
                    acc2 = int(wrap32(int(np.dot(second[i], w >> F.DOT_DROP))))
                    pred2 = ((acc2 * dot_mult) >> F.DOT_MULT_FRAC) + (intercept >> F.DOT_DROP)
                step = code_steps(g, code_values)[second[i]] if values is None else code_steps(g, second[i])
                step = shift_steps(step, exponents)
                if grad_bits:
                    biggest = int(shift_steps(code_steps(g, np.array([vmax])), pmax)[0])
                    kg = grid_shift(abs(biggest), (1 << (grad_bits - 1)) - 1)
                    step = stochastic_shift(step, kg, draw(stream_key(seed, STREAM_GRAD, e, i), cols)) << kg
                w = wrap32(w - step)
            predictions[i] = saturate32(pred), saturate32(pred2)
            intercept = int(wrap32(intercept - dc))
        history[e, :d] = w
        history[e, d] = intercept
    return history, predictions, saturations, refetches
