"""Golden twin of hls/include/zipml/sgd_logistic.hpp: logistic regression by polynomial
approximation of the loss derivative with several independent samples."""

from __future__ import annotations

import numpy as np

from ..spec import format as F
from ..spec.layout import decode_resampled, decode_samples
from ..spec.resample import sample_stream_key
from ..spec.schedule import epoch_shift
from .fixed_point import round_shift, saturate32, wrap32
from .sgd import Regularization, code_steps, conditioned_steps, residual_step


def sgd_logistic(data, labels, d, bits, sampling, samples, epochs, step_shift, decay_epochs, dot_mult, coef,
                 range_q16, model_in, seed=0, rows=None, sample_weights=None, decay=None, l1=None,
                 feature_shifts=None, centers=None, fit_intercept=True):
    """Golden ``sgd_logistic``: ``samples`` = degree + 1 samples: drawn every epoch from
    'double' data with the draws of ``seed``, the stored samples of 'multi' data, or the
    one sample of 'naive'/'nearest' data repeated; ``rows``: sample i reads row rows[i] of
    each copy and labels[i] (None: in order); ``sample_weights``, ``decay``, ``l1``: the
    Regularization of sgd.hpp (None: none); ``feature_shifts``, ``centers``,
    ``fit_intercept``: the LogisticOptions of sgd_logistic.hpp (as sgd_linear's). Returns the int32
    model history, the (n, 2) predictions of the last epoch's pass (both from sample 1)
    and the samples whose step saturated, per epoch."""
    reg = Regularization(sample_weights, decay, l1)
    n_copies, stored = data.shape[:2]
    order = np.arange(stored) if rows is None else np.asarray(rows)
    n = len(order)  # the pass: every stored row, or those of ``rows`` (a part of one copy)
    rows = data.reshape(n_copies, stored, -1, F.LINE_WORDS)[:, order]

    def epoch_codes(e: int) -> list:  # the samples of every row in epoch e
        if sampling == "double":
            return decode_resampled(rows[e % n_copies], bits, d, sample_stream_key(seed, e, np.arange(n)), samples)
        codes = decode_samples(rows[e % n_copies], bits, sampling, d, samples)
        return codes if len(codes) == samples else codes * samples
    s = F.max_code(bits)
    code_values = np.arange(s + 1, dtype=np.int64)
    exponents = np.zeros(d, np.int64) if feature_shifts is None else np.asarray(feature_shifts, np.int64)
    pmax = int(exponents.max()) if d else 0
    m_j = np.zeros(d, np.int64) if centers is None else np.asarray(centers, np.int64)
    tabled = centers is None and feature_shifts is None  # steps from a table of the codes
    w = np.asarray(model_in[:d], dtype=np.int64).copy()
    intercept = int(model_in[d])
    history = np.empty((epochs, d + 1), dtype=np.int32)
    predictions = np.empty((n, 2), dtype=np.int32)
    saturations = np.zeros(epochs, dtype=np.int32)
    limit = 1 << 40
    coef = [int(c) for c in coef]
    for e in range(epochs):
        shift = epoch_shift(step_shift, decay_epochs, e)
        sample_codes = epoch_codes(e)
        for i in range(n):
            y = 1 if int(labels[i]) > 0 else -1
            h = coef[samples - 1]
            for m in range(samples - 1, 0, -1):
                acc = int(wrap32(int(np.dot(sample_codes[m][i] - m_j, w >> F.DOT_DROP))))
                pred = ((acc * dot_mult) >> F.DOT_MULT_FRAC) + (intercept >> F.DOT_DROP)
                if m == 1:
                    predictions[i] = saturate32(pred)
                z = max(-range_q16, min(range_q16, y * pred))
                h = max(-limit, min(limit, coef[m - 1] + ((z * h) >> F.LABEL_FRAC)))
            r, weight_saturated = reg.weighted(saturate32(-y * round_shift(h, F.POLY_FRAC - F.LABEL_FRAC)), i)
            g, dc, saturated = residual_step(r, dot_mult, shift, s, pmax)
            saturations[e] += saturated or weight_saturated
            first = sample_codes[0][i]
            step = code_steps(g, code_values)[first] if tabled else conditioned_steps(g, first - m_j, exponents)
            w = reg.stepped(w, step, shift)
            if fit_intercept:
                intercept = int(wrap32(intercept - dc))
        history[e, :d] = w
        history[e, d] = intercept
    return history, predictions, saturations
