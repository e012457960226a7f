"""The 512-bit line layout: the Python mirror of hls/include/zipml/layout.hpp.

A row of d values fills ``lines_per_row`` lines of 8 little-endian 64-bit words. Planar
samplings (double, multi) store K interval-index fields, then K rounding bits of each
sample; naive and nearest store K level codes (docs/FORMATS.md has the bit maps).
"""

from __future__ import annotations

import numpy as np

from . import format as F

_U32 = np.uint32
_U64 = np.uint64


def field_pos(k: np.ndarray, width: int, K: int) -> np.ndarray:
    """Bit of value k inside a plane of K fields: for widths 2 and 4, byte k mod B at bit
    (k div B) * width, B = K * width / 8 (strided); otherwise k * width (natural)."""
    if not F.strided_width(width):
        return k * width
    B = K * width // 8
    return (k % B) * 8 + (k // B) * width


def _field_positions(bits: int, sampling: str, samples_per_value: int = 2):
    """Bit positions of every field of a line: (index or code positions, its width,
    one position array per rounding-bit plane)."""
    K = F.values_per_line(bits, sampling, samples_per_value)
    k = np.arange(K)
    if F.planar(sampling):
        ib = F.index_bits(bits)
        planes = [K * ib + m * K + k for m in range(F.samples_of(sampling, samples_per_value))]
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


def pack_lines(a: np.ndarray, rbits, bits: int, sampling: str, samples_per_value: int = 2) -> np.ndarray:
    """Pack (..., d) fields into (..., lines, 8) uint64; the tail of the last line is zero.
    ``a``: interval indices (planar) or level codes; ``rbits``: one (..., d) array of
    rounding bits per sample (planar samplings), or None."""
    K = F.values_per_line(bits, sampling, samples_per_value)
    d = a.shape[-1]
    L = F.lines_per_row(d, bits, sampling, samples_per_value)

    def lined(x):
        padded = np.zeros(x.shape[:-1] + (L * K,), dtype=_U32)
        padded[..., :d] = x
        return padded.reshape(x.shape[:-1] + (L, K))

    out = np.zeros(a.shape[:-1] + (L, F.LINE_WORDS), dtype=_U64)
    pos_a, width_a, planes = _field_positions(bits, sampling, samples_per_value)
    _put(pos_a, width_a, lined(a), out)
    for pos, r in zip(planes, rbits or []):
        _put(pos, 1, lined(r), out)
    return out


def decode_samples(lines: np.ndarray, bits: int, sampling: str, d: int, samples_per_value: int = 2) -> list:
    """Level codes of every stored sample of packed rows (..., lines, 8): a list of
    (..., d) int64 arrays (one for naive/nearest)."""
    pos_a, width_a, planes = _field_positions(bits, sampling, samples_per_value)
    a = _get(lines, pos_a, width_a)
    shape = lines.shape[:-2] + (-1,)
    codes = [a + _get(lines, pos, 1) for pos in planes] if planes else [a]
    return [c.reshape(shape)[..., :d] for c in codes]


def decode_lines(lines: np.ndarray, bits: int, sampling: str, d: int):
    """Codes (first, second) of the first two samples; the one code twice for naive/nearest."""
    codes = decode_samples(lines, bits, sampling, d)
    return codes[0], codes[-1]
