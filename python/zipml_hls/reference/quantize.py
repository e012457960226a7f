"""Golden twin of hls/include/zipml/quantize.hpp: scaling to positions, levels, rounding."""

from __future__ import annotations

import numpy as np

from ..spec import format as F
from ..spec.layout import pack_lines
from ..spec.rng import draw, sample_key

_U32 = np.uint32
_U64 = np.uint64


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


def fine_code(j: np.ndarray, off: np.ndarray, width: np.ndarray, rnd: np.ndarray) -> np.ndarray:
    """Double's stored value: j 2^FRACTION_BITS + u, u the fine points at or below
    off * 2^FRACTION_BITS / width plus a stochastic rounding of the remainder."""
    x = off.astype(_U64) << _U64(F.FRACTION_BITS)
    w = width.astype(_U64)
    u = sum((x >= _U64(p) * w).astype(_U64) for p in range(1, 1 << F.FRACTION_BITS))
    return ((j.astype(_U64) << _U64(F.FRACTION_BITS)) + u + stochastic_up(rnd, x - u * w, width)).astype(_U32)


def nearest_up(off: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Nearest rounding, ties up."""
    return (_U64(2) * off.astype(_U64) >= width.astype(_U64)).astype(_U32)


def quantize_matrix(X, lo, inv, levels, bits: int, sampling: str, seed: int, n_copies: int,
                    samples_per_value: int = 2, rows=None) -> np.ndarray:
    """Golden ``quantize_matrix``: (n, d) float32 -> (n_copies, n, words) uint64.
    ``levels``: per-feature Q0.24 level tables (d, 2^bits), or None for uniform levels;
    ``rows``: output row i quantizes X[rows[i]] (with the draws of output row i), or None."""
    if rows is not None:
        X = X[np.asarray(rows)]
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
        elif sampling == "double":  # the index and the 2 fraction bits of the fine code
            fine = fine_code(lev, off, width, draw(sample_key(seed, 0, c, rows), cols))
            a = fine >> _U32(F.FRACTION_BITS)
            rbits = [fine & _U32(1), (fine >> _U32(1)) & _U32(1)]
        else:
            a = lev
            rbits = [stochastic_up(draw(sample_key(seed, m, c, rows), cols), off, width)
                     for m in range(F.samples_of(sampling, samples_per_value))]
        out.append(pack_lines(a, rbits, bits, sampling, samples_per_value).reshape(n, -1))
    return np.stack(out)
