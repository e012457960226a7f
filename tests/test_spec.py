"""The specification (``zipml_hls.spec``) agrees with the compiled kernels: every mirrored
constant, the sampling and loss ids, the line layout and the RNG."""

import numpy as np
import pytest

from zipml_hls import _kernels
from zipml_hls.reference import quantize as RQ
from zipml_hls.spec import format as F
from zipml_hls.spec import layout, rng
from zipml_hls.spec.losses import LOSSES

MIRRORED = {
    "line_bits": F.LINE_BITS, "line_words": F.LINE_WORDS, "lane_multiple": F.LANE_MULTIPLE, "pos_frac": F.POS_FRAC,
    "label_frac": F.LABEL_FRAC, "model_frac": F.MODEL_FRAC, "dot_drop": F.DOT_DROP, "dot_mult_frac": F.DOT_MULT_FRAC,
    "update_frac": F.UPDATE_FRAC, "max_shift": F.MAX_SHIFT, "max_feature_shift": F.MAX_FEATURE_SHIFT,
    "level_value_frac": F.LEVEL_VALUE_FRAC, "table_dot_mult": F.TABLE_DOT_MULT, "table_dot_drop": F.TABLE_DOT_DROP,
    "table_dot_frac": F.TABLE_DOT_FRAC, "max_table_value": F.MAX_TABLE_VALUE, "poly_frac": F.POLY_FRAC,
    "supported_bits": F.SUPPORTED_BITS,
    "multi_samples": F.MULTI_SAMPLES, "stream_data": rng.STREAM_DATA, "stream_model": rng.STREAM_MODEL,
    "stream_grad": rng.STREAM_GRAD, "mix_mul1": rng.MIX_MUL1, "mix_mul2": rng.MIX_MUL2, "index_mul": rng.INDEX_MUL,
    "key_seed_xor": rng.KEY_SEED_XOR, "stream_sample": rng.STREAM_SAMPLE, "stream_order": rng.STREAM_ORDER,
    "fraction_bits": F.FRACTION_BITS, "weight_frac": F.WEIGHT_FRAC, "penalty_frac": F.PENALTY_FRAC,
}


def test_every_mirrored_constant_equals_the_kernels():
    compiled = _kernels.constants()
    for name, value in MIRRORED.items():
        assert tuple(compiled[name]) == value if isinstance(value, tuple) else compiled[name] == value, name
    # every constant the kernels export is mirrored (or is a build limit, the line table
    # or the loss table, each checked by a test of its own below)
    assert set(compiled) - set(MIRRORED) == {"max_features", "values_per_line", "losses"}


def test_loss_policies_match_the_registry():
    # For every loss: the C++ policy's id, kRefetch, kSecondSample and membership of
    # LinearLosses (losses.hpp) against the registry's kernel_id, refetch, second_sample
    # and kernel == "linear".
    compiled = _kernels.constants()["losses"]
    assert set(compiled) == set(LOSSES)
    for name, loss in LOSSES.items():
        assert dict(compiled[name]) == {"id": loss.kernel_id, "refetch": loss.refetch,
                                        "second_sample": loss.second_sample, "linear": loss.kernel == "linear"}, name


def test_values_per_line_match_kernels():
    table = _kernels.constants()["values_per_line"]
    expected = {f"{s}/{b}": F.values_per_line(b, s) for b in F.SUPPORTED_BITS for s in F.TRAINING_SAMPLINGS}
    expected.update({f"multi{m}/{b}": F.values_per_line(b, "multi", m)
                     for b in F.SUPPORTED_BITS for m in F.MULTI_SAMPLES})
    assert dict(table) == expected


def test_sampling_and_loss_ids_match_the_kernel_enums():
    assert {name: int(v) for name, v in _kernels.Sampling.__members__.items()} == {
        name: s.kernel_id for name, s in F.SAMPLINGS.items()}
    assert {name: int(v) for name, v in _kernels.Loss.__members__.items()} == {
        name: loss.kernel_id for name, loss in LOSSES.items()}


@pytest.mark.parametrize("bits, sampling, per_line, stored", [
    (1, "double", 160, 3), (2, "double", 128, 4), (4, "double", 80, 6), (8, "double", 48, 10),
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
    got = rng.mix32(np.array([0, 1, 2, 0xFFFFFFFF], dtype=np.uint32))
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
    py = rng.draw(rng.stream_key(seed, a, b, c), np.arange(4096))
    assert np.array_equal(cpp, py)


def test_rng_draws_look_uniform():
    x = rng.draw(rng.stream_key(1, 2, 3, 4), np.arange(1 << 16)).astype(np.float64) / 2**32
    # mean and each of 16 bins within ~5 standard errors
    assert abs(x.mean() - 0.5) < 5 * np.sqrt(1 / 12 / x.size)
    counts = np.bincount((x * 16).astype(int), minlength=16)
    assert np.all(np.abs(counts - x.size / 16) < 5 * np.sqrt(x.size / 16))


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_uniform_interval_closed_form_equals_table_search(bits):
    table = RQ.uniform_levels(bits)
    assert table[0] == 0 and table[-1] == F.POS_ONE and len(table) == 1 << bits
    rng = np.random.default_rng(bits)
    v = np.concatenate([table, table[1:] - 1, rng.integers(0, F.POS_ONE + 1, 100000)]).astype(np.uint32)
    closed = RQ.uniform_interval(v[:, None], bits)
    searched = RQ.table_interval(v[:, None], table[None, :])
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
    line = layout.pack_lines(codes, None, 4, "naive")[0, 0]
    assert int(line[0]) & 0xFF == 0xA0 and (int(line[0]) >> 8) & 0xF == 0x3
    codes = np.zeros((1, 170), np.uint32)
    codes[0, 21] = 0b101
    line = layout.pack_lines(codes, None, 3, "naive")[0, 0]
    assert int(line[0]) >> 63 == 1 and int(line[1]) & 0b11 == 0b10
    first, _ = layout.decode_lines(line[None, None], 3, "naive", 170)
    assert first[0, 21] == 0b101 and first.sum() == 0b101


def test_resampling_thresholds_follow_the_documented_recipe():
    # Bit k of threshold plane q of line l is bit b = q K + k of the string of draws
    # l K/8 .. l K/8 + K/8 - 1: bit b % 32 of draw(key, l K/8 + b // 32); sample m of a value
    # is index + [t1 t0 < f1 f0] with plane 2m = t0, plane 2m + 1 = t1 (docs/FORMATS.md sec. 5).
    from zipml_hls.spec import resample

    K, lines = 80, 3
    keys = resample.sample_stream_key(9, 2, np.arange(4))
    planes = resample.threshold_planes(keys, lines, K)
    for r, key in enumerate(keys.tolist()):
        for q in range(4):
            for j in range(lines * K):
                l, k = divmod(j, K)
                b = q * K + k
                word = int(rng.draw(key, l * K // 8 + b // 32)[0])
                assert planes[r, q, j] == (word >> (b % 32)) & 1
    f0, f1 = np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])  # fractions 0..3
    for t in range(4):
        up = resample.resampled_up(f0, f1, np.full(4, t & 1), np.full(4, t >> 1))
        assert up.tolist() == [int(t < f) for f in range(4)]
