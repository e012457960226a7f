"""The Python mirror of format.hpp and rng.hpp agrees with the compiled kernels."""

import numpy as np
import pytest

from zipml_hls import _kernels
from zipml_hls import formats as F
from zipml_hls import reference as R


def test_values_per_line_match_kernels():
    info = _kernels.info()
    for bits in F.SUPPORTED_BITS:
        for sampling in ("double", "naive"):
            assert info["values_per_line"][f"{sampling}/{bits}"] == F.values_per_line(bits, sampling)


@pytest.mark.parametrize("bits, sampling, per_line, stored", [
    (1, "double", 256, 2), (2, "double", 128, 4), (4, "double", 80, 6), (8, "double", 48, 10),
    (1, "naive", 512, 1), (4, "nearest", 128, 4), (8, "naive", 64, 8),
    (3, "double", 96, 5), (6, "double", 64, 8), (3, "naive", 170, 3), (6, "nearest", 85, 6),
])
def test_documented_layout(bits, sampling, per_line, stored):
    # The numbers docs/FORMATS.md states.
    assert F.values_per_line(bits, sampling) == per_line
    assert F.stored_bits(bits, sampling) == stored
    assert per_line * stored <= F.LINE_BITS


def test_mix32_known_answers():
    # Pinned outputs: a change to the hash changes every stored data set.
    got = R.mix32(np.array([0, 1, 2, 0xFFFFFFFF], dtype=np.uint32))
    x = np.array([0, 1, 2, 0xFFFFFFFF], dtype=np.uint64)
    ref = []
    for v in x.tolist():  # the documented recipe in plain Python integers
        v ^= v >> 16
        v = (v * 0x7FEB352D) & 0xFFFFFFFF
        v ^= v >> 15
        v = (v * 0x846CA68B) & 0xFFFFFFFF
        v ^= v >> 16
        ref.append(v)
    assert got.tolist() == ref
    assert ref[0] == 0 and len(set(ref)) == 4


@pytest.mark.parametrize("seed, a, b, c", [(0, 0, 0, 0), (7, 1 << 16, 3, 12345), (2**32 - 1, 99, 2**31, 7)])
def test_rng_identical_in_cpp_and_numpy(seed, a, b, c):
    cpp = _kernels.draws(seed, a, b, c, 4096)
    py = R.draw(R.stream_key(seed, a, b, c), np.arange(4096))
    assert np.array_equal(cpp, py)


def test_rng_draws_look_uniform():
    x = R.draw(R.stream_key(1, 2, 3, 4), np.arange(1 << 16)).astype(np.float64) / 2**32
    # mean and each of 16 bins within ~5 standard errors
    assert abs(x.mean() - 0.5) < 5 * np.sqrt(1 / 12 / x.size)
    counts = np.bincount((x * 16).astype(int), minlength=16)
    assert np.all(np.abs(counts - x.size / 16) < 5 * np.sqrt(x.size / 16))


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_uniform_interval_closed_form_equals_table_search(bits):
    table = R.uniform_levels(bits)
    assert table[0] == 0 and table[-1] == F.POS_ONE and len(table) == 1 << bits
    rng = np.random.default_rng(bits)
    v = np.concatenate([table, table[1:] - 1, rng.integers(0, F.POS_ONE + 1, 100000)]).astype(np.uint32)
    closed = R.uniform_interval(v[:, None], bits)
    searched = R.table_interval(v[:, None], table[None, :])
    assert np.array_equal(closed, searched)


def test_dot_mult_is_rounded_reciprocal():
    for bits in F.SUPPORTED_BITS:
        s = F.max_code(bits)
        assert abs(F.dot_mult(bits) - 2**24 / s) <= 0.5


def test_to_fixed_rounds_and_saturates():
    got = F.to_fixed([0.5, -0.5, 1.0, 1e12, -1e12], 16)
    assert got.tolist() == [32768, -32768, 65536, 2**31 - 1, -(2**31)]


def test_layout_pinned_examples():
    # docs/FORMATS.md: 4-bit naive (strided): value 64 is the high nibble of byte 0;
    # 3-bit naive (natural): value 21 straddles words 0 and 1 (bits 63..65).
    codes = np.zeros((1, 128), np.uint32)
    codes[0, 64] = 0xA
    codes[0, 1] = 0x3
    line = R.pack_lines(codes, None, 4, "naive")[0, 0]
    assert int(line[0]) & 0xFF == 0xA0 and (int(line[0]) >> 8) & 0xF == 0x3
    codes = np.zeros((1, 170), np.uint32)
    codes[0, 21] = 0b101
    line = R.pack_lines(codes, None, 3, "naive")[0, 0]
    assert int(line[0]) >> 63 == 1 and int(line[1]) & 0b11 == 0b10
    first, _ = R.decode_lines(line[None, None], 3, "naive", 170)
    assert first[0, 21] == 0b101 and first.sum() == 0b101
