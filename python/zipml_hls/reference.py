"""NumPy golden model of the kernels in hls/include/zipml.

Every function mirrors one kernel function and must agree with it bit for bit
(``np.array_equal``); only the fp32 baseline, :func:`sgd_fp32`, has a tolerance
(docs/FORMATS.md, "fp32 baseline"). Integer arithmetic follows the kernels:
uint32 wrap-around for the RNG, int32 wrap-around for the dot product and the
model, int64 for per-sample scalars, arithmetic (floor) right shifts.
"""

from __future__ import annotations

import numpy as np

from . import formats as F

_U32 = np.uint32
_U64 = np.uint64

# ---------------------------------------------------------------- rng.hpp


def mix32(x) -> np.ndarray:
    """Bijective 32-bit mixer (xor-shift / odd-multiply), elementwise, uint32."""
    x = np.array(x, dtype=_U32, ndmin=1)
    x ^= x >> _U32(16)
    x *= _U32(0x7FEB352D)
    x ^= x >> _U32(15)
    x *= _U32(0x846CA68B)
    x ^= x >> _U32(16)
    return x


STREAM_DATA = 1 << 16


def stream_key(seed, a, b, c) -> np.ndarray:
    """Key of stream (a, b, c) under ``seed``; broadcasts over array arguments."""
    k = mix32(np.array(seed, dtype=_U32) ^ _U32(0x9E3779B9))
    k = mix32(k ^ np.array(a, dtype=_U32))
    k = mix32(k ^ np.array(b, dtype=_U32))
    return mix32(k ^ np.array(c, dtype=_U32))


def draw(key, index) -> np.ndarray:
    """Draw number ``index`` of the stream with ``key`` (broadcasting)."""
    index = np.array(index, dtype=_U32, ndmin=1)
    return mix32(np.array(key, dtype=_U32) ^ (index * _U32(0x85EBCA77)))


def sample_key(seed, sample, copy, rows) -> np.ndarray:
    return stream_key(seed, STREAM_DATA | sample, copy, rows)


# ----------------------------------------------------------- quantize.hpp


def scaled_position(X: np.ndarray, lo: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Q0.24 position of min/max-scaled float32 data, clamped to [0, 1]."""
    t = (X.astype(np.float32) - lo.astype(np.float32)) * inv.astype(np.float32)
    t = np.clip(t, np.float32(0), np.float32(1))
    return (t * np.float32(F.POS_ONE)).astype(_U32)


def uniform_levels(bits: int) -> np.ndarray:
    """Positions floor(k 2^24 / s), k = 0..s, of the 2^bits uniform levels."""
    k = np.arange(1 << bits, dtype=_U64)
    return ((k << _U64(F.POS_FRAC)) // _U64(F.max_code(bits))).astype(_U32)


def uniform_interval(v: np.ndarray, bits: int) -> np.ndarray:
    """Interval index for uniform levels, in closed form (as the kernel)."""
    s = _U64(F.max_code(bits))
    j = ((v.astype(_U64) + _U64(1)) * s - _U64(1)) >> _U64(F.POS_FRAC)
    return np.minimum(j, s - _U64(1)).astype(_U32)


def table_interval(v: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Interval index for per-feature tables ``table`` (d, s+1): largest j <= s-1 with
    table[f, j] <= v (the kernel's binary search, here by searchsorted per feature)."""
    s = table.shape[1] - 1
    out = np.empty(v.shape, dtype=_U32)
    for f in range(v.shape[-1]):
        j = np.searchsorted(table[f], v[..., f], side="right") - 1
        out[..., f] = np.clip(j, 0, s - 1)
    return out


def stochastic_up(rnd: np.ndarray, off: np.ndarray, width: np.ndarray) -> np.ndarray:
    """1 where the top 24 bits of the draw fall below off/width, else 0."""
    lhs = (rnd >> _U32(8)).astype(_U64) * width.astype(_U64)
    return (lhs < (off.astype(_U64) << _U64(F.POS_FRAC))).astype(_U32)


def nearest_up(off: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Nearest rounding, ties up."""
    return (_U64(2) * off.astype(_U64) >= width.astype(_U64)).astype(_U32)


def field_pos(k: np.ndarray, width: int, K: int) -> np.ndarray:
    """Bit of value k inside a plane of K fields: for widths 2 and 4, byte k mod B at bit
    (k div B) * width, B = K * width / 8 (strided); otherwise k * width (natural)."""
    if not F.strided_width(width):
        return k * width
    B = K * width // 8
    return (k % B) * 8 + (k // B) * width


def _field_positions(bits: int, sampling: str, samples: int = 2):
    """Bit positions of every field of a line: (index or code positions, its width,
    one position array per rounding-bit plane)."""
    K = F.values_per_line(bits, sampling, samples)
    k = np.arange(K)
    if F.planar(sampling):
        ib = F.index_bits(bits)
        planes = [K * ib + m * K + k for m in range(F.samples_of(sampling, samples))]
        return field_pos(k, ib, K), ib, planes
    return field_pos(k, bits, K), bits, []


def _put(pos: np.ndarray, width: int, values: np.ndarray, out: np.ndarray) -> None:
    """OR ``values`` (..., K) into lines ``out`` (..., 8) at bit positions ``pos``;
    a field may straddle two words."""
    if width == 0:
        return
    v = values.astype(_U64) & _U64((1 << width) - 1)
    off = (pos % 64).astype(_U64)
    low = v << off
    straddle = (pos % 64) + width > 64
    high = np.where(straddle, v >> (_U64(64) - np.where(straddle, off, _U64(1))), _U64(0))
    for w in range(F.LINE_WORDS):
        for part, word in ((low, pos // 64), (high, pos // 64 + 1)):
            sel = word == w
            if sel.any():
                out[..., w] |= np.bitwise_or.reduce(part[..., sel], axis=-1)


def _get(lines: np.ndarray, pos: np.ndarray, width: int) -> np.ndarray:
    """Read ``width``-bit fields at ``pos`` from lines (..., 8) -> (..., K) int64."""
    if width == 0:
        return np.zeros(lines.shape[:-1] + (len(pos),), dtype=np.int64)
    off = (pos % 64).astype(_U64)
    v = lines[..., pos // 64] >> off
    straddle = (pos % 64) + width > 64
    if straddle.any():
        nxt = lines[..., np.minimum(pos // 64 + 1, F.LINE_WORDS - 1)]
        v = v | np.where(straddle, nxt << (_U64(64) - np.where(straddle, off, _U64(1))), _U64(0))
    return (v & _U64((1 << width) - 1)).astype(np.int64)


def pack_lines(a: np.ndarray, rbits, bits: int, sampling: str, samples: int = 2) -> np.ndarray:
    """Pack (..., d) fields into (..., lines, 8) uint64; the tail of the last line is zero.
    ``rbits``: one (..., d) array of rounding bits per sample (planar encodings), or None."""
    K = F.values_per_line(bits, sampling, samples)
    d = a.shape[-1]
    L = F.lines_per_row(d, bits, sampling, samples)

    def lined(x):
        padded = np.zeros(x.shape[:-1] + (L * K,), dtype=_U32)
        padded[..., :d] = x
        return padded.reshape(x.shape[:-1] + (L, K))

    out = np.zeros(a.shape[:-1] + (L, F.LINE_WORDS), dtype=_U64)
    pos_a, width_a, planes = _field_positions(bits, sampling, samples)
    _put(pos_a, width_a, lined(a), out)
    for pos, r in zip(planes, rbits or []):
        _put(pos, 1, lined(r), out)
    return out


def decode_samples(lines: np.ndarray, bits: int, sampling: str, d: int, samples: int = 2) -> list:
    """Level codes of every stored sample of packed rows (..., lines, 8): a list of
    (..., d) int64 arrays (one for naive/nearest)."""
    pos_a, width_a, planes = _field_positions(bits, sampling, samples)
    a = _get(lines, pos_a, width_a)
    shape = lines.shape[:-2] + (-1,)
    codes = [a + _get(lines, pos, 1) for pos in planes] if planes else [a]
    return [c.reshape(shape)[..., :d] for c in codes]


def decode_lines(lines: np.ndarray, bits: int, sampling: str, d: int):
    """Codes (first, second) of the first two samples; the one code twice for naive/nearest."""
    codes = decode_samples(lines, bits, sampling, d)
    return codes[0], codes[-1]


def quantize_matrix(X, lo, inv, levels, bits: int, sampling: str, seed: int, n_copies: int,
                    samples: int = 2) -> np.ndarray:
    """Golden ``quantize_matrix``: (n, d) float32 -> (n_copies, n, words) uint64."""
    n, d = X.shape
    v = scaled_position(X, lo, inv)
    if levels is None:
        lev = uniform_interval(v, bits)
        table = uniform_levels(bits)
        left, right = table[lev], table[lev + 1]
    else:
        lev = table_interval(v, levels)
        cols = np.arange(d)
        left, right = levels[cols, lev], levels[cols, lev + 1]
    off, width = v - left, right - left
    cols = np.arange(d, dtype=_U32)
    rows = np.arange(n, dtype=_U32)[:, None]
    out = []
    for c in range(n_copies):
        rbits = None
        if sampling == "nearest":
            a = lev + nearest_up(off, width)
        elif sampling == "naive":
            a = lev + stochastic_up(draw(sample_key(seed, 0, c, rows), cols), off, width)
        else:
            a = lev
            rbits = [stochastic_up(draw(sample_key(seed, m, c, rows), cols), off, width)
                     for m in range(F.samples_of(sampling, samples))]
        out.append(pack_lines(a, rbits, bits, sampling, samples).reshape(n, -1))
    return np.stack(out)


# ---------------------------------------------------------------- sgd.hpp

_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1


def epoch_shift(step_shift: int, decay_epochs: int, epoch: int) -> int:
    s = step_shift + (epoch // decay_epochs if decay_epochs > 0 else 0)
    return min(s, F.MAX_SHIFT)


def round_shift(x: int, s: int) -> int:
    return (x + (1 << (s - 1))) >> s


def saturate32(x: int) -> int:
    return max(_I32_MIN, min(_I32_MAX, x))


def wrap32(x):
    """Two's-complement wrap of int64 values (array or int) into int32 range."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


STREAM_MODEL = 2 << 16
STREAM_GRAD = 3 << 16
LOSSES = ("squared_error", "hinge")


def grid_shift(maxabs: int, limit: int) -> int:
    """Smallest k >= 0 (at most 31) with maxabs <= limit * 2^k."""
    k = 0
    while (limit << k) < maxabs and k < 31:
        k += 1
    return k


def stochastic_shift(x: np.ndarray, k: int, rnd: np.ndarray) -> np.ndarray:
    """x / 2^k rounded up with probability (x mod 2^k) / 2^k (top k bits of the draws)."""
    x = np.asarray(x, dtype=np.int64)
    if k == 0:
        return x
    q = x >> k
    rem = x - (q << k)
    return q + ((rnd.astype(np.uint64) >> np.uint64(32 - k)).astype(np.int64) < rem)


def sgd_linear(data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in, values=None,
               loss="squared_error", model_bits=0, grad_bits=0, seed=0, full=None):
    """Golden ``sgd_linear``: returns the (epochs, d+1) int32 model history and the
    number of refetched samples per epoch (hinge loss).

    ``values``: per-feature level values (d, 2^bits), Q0.10, or None for uniform codes;
    ``full``: (n, d) Q0.24 positions for hinge refetching, or None.
    """
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
    code_values = np.arange(s + 1, dtype=np.int64)
    cols = np.arange(d)
    one = 1 << F.LABEL_FRAC
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
            r = saturate32(pred - label)
            refetch = False
            if loss == "hinge":
                y = 1 if label > 0 else -1
                l1 = int(np.abs(v).sum())
                band = ((l1 >> F.DOT_DROP) * dot_mult) >> F.DOT_MULT_FRAC if values is None else l1 >> F.DOT_DROP
                margin = y * pred
                if full is not None and abs(margin - one) <= band:
                    refetch = True
                    refetches[e] += 1
                    exact = int(np.dot(full[i].astype(np.int64), w >> F.DOT_DROP))
                    margin = y * ((exact >> F.POS_FRAC) + (intercept >> F.DOT_DROP))
                r = -y * one if margin < one else 0
            g = saturate32(round_shift(r * dot_mult, F.UPDATE_FRAC + shift))
            dc = saturate32(round_shift(r << F.DOT_DROP, shift))
            half = 1 << (F.UPDATE_FRAC - 1)
            if refetch:
                w = wrap32(w - ((r * full[i].astype(np.int64) + (1 << (F.LABEL_FRAC + shift - 1)))
                                >> (F.LABEL_FRAC + shift)))
            elif r != 0:
                if values is None:
                    step = ((g * code_values + half) >> F.UPDATE_FRAC)[second[i]]
                else:
                    step = (g * second[i] + half) >> F.UPDATE_FRAC
                step = wrap32(step)
                if grad_bits:
                    biggest = wrap32((g * vmax + half) >> F.UPDATE_FRAC)
                    kg = grid_shift(abs(int(biggest)), (1 << (grad_bits - 1)) - 1)
                    step = stochastic_shift(step, kg, draw(stream_key(seed, STREAM_GRAD, e, i), cols)) << kg
                w = wrap32(w - step)
            intercept = int(wrap32(intercept - dc))
        history[e, :d] = w
        history[e, d] = intercept
    return history, refetches


POLY_FRAC = 30


def sgd_logistic(data, labels, d, bits, sampling, samples, epochs, step_shift, decay_epochs, dot_mult, coef,
                 range_q16, model_in):
    """Golden ``sgd_logistic``: logistic regression by polynomial approximation with
    ``samples`` = degree + 1 samples: the stored samples of 'multi' data, or the one
    sample of 'naive'/'nearest' data repeated. Returns the int32 model history."""
    n_copies, n = data.shape[:2]
    rows = data.reshape(n_copies, n, -1, F.LINE_WORDS)
    codes = [decode_samples(rows[c], bits, sampling, d, samples) for c in range(n_copies)]
    codes = [c if len(c) == samples else c * samples for c in codes]
    s = F.max_code(bits)
    code_values = np.arange(s + 1, dtype=np.int64)
    w = np.asarray(model_in[:d], dtype=np.int64).copy()
    intercept = int(model_in[d])
    history = np.empty((epochs, d + 1), dtype=np.int32)
    limit = 1 << 40
    coef = [int(c) for c in coef]
    for e in range(epochs):
        shift = epoch_shift(step_shift, decay_epochs, e)
        sample_codes = codes[e % n_copies]
        for i in range(n):
            y = 1 if int(labels[i]) > 0 else -1
            h = coef[samples - 1]
            for m in range(samples - 1, 0, -1):
                acc = int(wrap32(int(np.dot(sample_codes[m][i], w >> F.DOT_DROP))))
                pred = ((acc * dot_mult) >> F.DOT_MULT_FRAC) + (intercept >> F.DOT_DROP)
                z = max(-range_q16, min(range_q16, y * pred))
                h = max(-limit, min(limit, coef[m - 1] + ((z * h) >> F.LABEL_FRAC)))
            r = saturate32(-y * round_shift(h, POLY_FRAC - F.LABEL_FRAC))
            g = saturate32(round_shift(r * dot_mult, F.UPDATE_FRAC + shift))
            step = wrap32((g * code_values + (1 << (F.UPDATE_FRAC - 1))) >> F.UPDATE_FRAC)
            w = wrap32(w - step[sample_codes[0][i]])
            intercept = int(wrap32(intercept - saturate32(round_shift(r << F.DOT_DROP, shift))))
        history[e, :d] = w
        history[e, d] = intercept
    return history


def sgd_least_squares(data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in,
                      values=None):
    """Golden ``sgd_least_squares``: ``sgd_linear`` with a full-precision model and gradient."""
    return sgd_linear(data, labels, d, bits, sampling, epochs, step_shift, decay_epochs, dot_mult, model_in,
                      values)[0]


def sgd_fp32(X, y, epochs, step_shift, decay_epochs, model_in, loss="squared_error"):
    """fp32 baseline in float32 NumPy; equals the kernel up to summation order."""
    X = np.asarray(X, dtype=np.float32)
    d = X.shape[1]
    w = np.array(model_in[:d], dtype=np.float32)
    intercept = np.float32(model_in[d])
    history = np.empty((epochs, d + 1), dtype=np.float32)
    one = np.float32(1)
    for e in range(epochs):
        eta = np.float32(2.0 ** -epoch_shift(step_shift, decay_epochs, e))
        for i in range(X.shape[0]):
            pred = np.dot(X[i], w) + intercept
            yi = np.float32(y[i])
            if loss == "hinge":
                r = -yi if yi * pred < one else np.float32(0)
            elif loss == "log_loss":
                r = -yi / (one + np.exp(yi * pred))
            else:
                r = pred - yi
            step = eta * r
            w -= step * X[i]
            intercept -= step
        history[e, :d] = w
        history[e, d] = intercept
    return history
