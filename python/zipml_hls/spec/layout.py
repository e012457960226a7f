"""The 512-bit line layout: the Python mirror of hls/include/zipml/layout.hpp.

A row of d values fills ``lines_per_row`` lines of 8 little-endian 64-bit words. Planar
samplings store K index fields, then K-bit planes (double: its 2 fraction bits, multi:
one rounding bit per sample); naive and nearest store K level codes (docs/FORMATS.md has
the bit maps).
"""

from __future__ import annotations

import numpy as np

from . import format as F
from .resample import resampled_up, threshold_planes

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
    one position array per bit plane)."""
    K = F.values_per_line(bits, sampling, samples_per_value)
    k = np.arange(K)
    if F.planar(sampling):
        ib = F.index_bits(bits, sampling)
        planes = [K * ib + m * K + k for m in range(F.bit_planes(sampling, samples_per_value))]
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
    ``a``: indices (planar) or level codes; ``rbits``: one (..., d) array per bit plane
    (double: fraction bits f0, f1; multi: a rounding bit per sample), or None."""
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


def decode_fields(lines: np.ndarray, bits: int, sampling: str, d: int, samples_per_value: int = 2) -> list:
    """The stored fields of packed rows (..., lines, 8): [index or code, then each bit
    plane], (..., d) int64 arrays each."""
    pos_a, width_a, planes = _field_positions(bits, sampling, samples_per_value)
    shape = lines.shape[:-2] + (-1,)
    fields = [_get(lines, pos_a, width_a)] + [_get(lines, pos, 1) for pos in planes]
    return [f.reshape(shape)[..., :d] for f in fields]


def decode_samples(lines: np.ndarray, bits: int, sampling: str, d: int, samples_per_value: int = 2) -> list:
    """Level codes of every stored sample of multi, naive or nearest rows (..., lines, 8):
    a list of (..., d) int64 arrays (one for naive/nearest). Double data store no samples:
    ``decode_lines`` draws them."""
    if sampling == "double":
        raise ValueError("double data store an index and a fraction: decode_lines draws their samples")
    fields = decode_fields(lines, bits, sampling, d, samples_per_value)
    if len(fields) == 1:
        return fields
    top = fields[0] == F.max_code(bits)  # no rounding up from the top level (FORMATS.md section 5)
    return [fields[0] + np.where(top, 0, r) for r in fields[1:]]


def fine_codes(lines: np.ndarray, bits: int, d: int) -> np.ndarray:
    """Double data's stored values on the fine grid, index * 2^FRACTION_BITS + fraction:
    (..., d) int64 from rows (..., lines, 8)."""
    index, f0, f1 = decode_fields(lines, bits, "double", d)
    return (index << F.FRACTION_BITS) + f0 + 2 * f1


def decode_resampled(lines: np.ndarray, bits: int, d: int, keys, samples: int = 2) -> list:
    """``samples`` samples of every value of double rows (R, lines, 8), drawn with the
    rows' threshold keys ``keys`` (R,) (``resample.sample_stream_key``): a list of (R, d)
    int64 code arrays."""
    index, f0, f1 = decode_fields(lines, bits, "double", d)
    K = F.values_per_line(bits, "double")
    t = threshold_planes(keys, lines.shape[-2], K, samples)[..., :d].astype(np.int64)
    top = index == F.max_code(bits)  # no rounding up from the top level (FORMATS.md section 5)
    return [index + np.where(top, 0, resampled_up(f0, f1, t[:, 2 * m], t[:, 2 * m + 1])) for m in range(samples)]


def decode_lines(lines: np.ndarray, bits: int, sampling: str, d: int, keys=None):
    """Codes (first, second) of rows (R, lines, 8): for double, the two samples drawn with
    the rows' threshold keys ``keys`` (R,); the one code twice for naive/nearest."""
    if sampling != "double":
        codes = decode_samples(lines, bits, sampling, d)
        return codes[0], codes[-1]
    first, second = decode_resampled(lines, bits, d, keys)
    return first, second
