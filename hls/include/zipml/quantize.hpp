// Stochastic quantization of float32 rows into packed 512-bit lines (docs/FORMATS.md).
// One source for the CPU module, the testbench and Vitis HLS.
#pragma once
#include <cstdint>

#include "format.hpp"
#include "layout.hpp"
#include "rng.hpp"
#include "tripcount.hpp"

namespace zipml {

/// Q0.24 position of x after per-feature min/max scaling, clamped to [0, 1].
/// `inv_range` is 1/(max-min) in float32, or 0 for a constant feature.
inline uint32_t scaled_position(float x, float lo, float inv_range) {
  float t = (x - lo) * inv_range;
  t = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
  return static_cast<uint32_t>(t * static_cast<float>(kPosOne));  // exact: power-of-two scale
}

/// Position of uniform level k of 2^bits levels: floor(k * 2^24 / s), in 32-bit
/// arithmetic: s divides 2^24 - 1 (bits divides 24), so it is k*q + [k == s].
template <int Bits>
inline uint32_t uniform_level(uint32_t k) {
  static_assert(kPosFrac % Bits == 0, "s must divide 2^24 - 1");
  constexpr uint32_t s = max_code(Bits), q = (kPosOne - 1) / s;
  return k * q + (k >= s ? 1u : 0u);
}

/// Interval j (level j <= v < level j+1, j <= s-1) for uniform levels, in closed form:
/// level k <= v  <=>  k <= ((v+1)s - 1) / 2^24.
template <int Bits>
inline uint32_t uniform_interval(uint32_t v) {
  constexpr uint32_t s = max_code(Bits);
  const uint32_t j = ((v + 1) * s - 1) >> kPosFrac;  // < 2^32: v <= 2^24, s <= 255
  return j > s - 1 ? s - 1 : j;
}

/// Interval j for a strictly increasing table of s+1 positions (table[0] = 0,
/// table[s] = 2^24): branch-free binary search, `Bits` steps.
template <int Bits>
inline uint32_t table_interval(uint32_t v, const uint32_t* table) {
  uint32_t j = 0;
search_loop:
  for (int half = 1 << (Bits - 1); half >= 1; half >>= 1) {
#pragma HLS UNROLL
    const uint32_t probe = j + static_cast<uint32_t>(half);
    if (probe <= static_cast<uint32_t>(max_code(Bits) - 1) && table[probe] <= v) j = probe;
  }
  return j;
}

/// Stochastic rounding: up with probability off/width, decided by the top 24 bits
/// of a draw (P(up) = ceil(off * 2^24 / width) / 2^24, exact to 2^-24).
inline uint32_t stochastic_up(uint32_t rnd, uint32_t off, uint32_t width) {
  return static_cast<uint64_t>(rnd >> 8) * width < (static_cast<uint64_t>(off) << kPosFrac) ? 1u : 0u;
}

/// Double's stored value: the position in interval j (offset `off` of `width`) rounded
/// stochastically to the grid 2^kFractionBits times finer, as a fine code
/// j 2^kFractionBits + u, u in [0, 2^kFractionBits] (resample.hpp): u counts the fine
/// points at or below off, plus a stochastic rounding of the remainder.
inline uint32_t fine_code(uint32_t j, uint32_t off, uint32_t width, uint32_t rnd) {
  const uint32_t x = off << kFractionBits;  // < 2^27: off <= width <= 2^24 + 1 (off = width only at the top)
  uint32_t u = 0;
fine_point_loop:
  for (uint32_t p = 1; p < (1u << kFractionBits); ++p) {
#pragma HLS UNROLL
    u += x >= p * width ? 1u : 0u;
  }
  return (j << kFractionBits) + u + stochastic_up(rnd, x - u * width, width);
}

/// Nearest rounding, ties up.
inline uint32_t nearest_up(uint32_t off, uint32_t width) {
  return 2 * static_cast<uint64_t>(off) >= width ? 1u : 0u;
}

/**
 * @brief Quantize one row of float32 data into its packed lines.
 *
 * @tparam Bits bits per level code (1, 2, 3, 4, 6, 8)
 * @tparam E    sampling (any of kSamplings: Double, Naive, Nearest, Multi)
 * @tparam M    samples of Multi (ignored otherwise)
 * @param x       the row, d float32 values in original units
 * @param d       number of features
 * @param lo      per-feature minimum
 * @param inv     per-feature 1/(max-min), 0 for constant features
 * @param levels  per-feature level positions, d x (2^Bits) Q0.24, or nullptr for uniform levels
 * @param keys    stream keys (sample_keys(E, M) of them: Double's one rounding to the fine
 *                grid, each sample of Naive and Multi; unused by Nearest)
 * @param lines   output, lines_per_row(d) lines of 8 words
 */
template <int Bits, Sampling E, int M = 2>
void quantize_row(const float* x, int d, const float* lo, const float* inv, const uint32_t* levels,
                  const uint32_t* keys, uint64_t* lines) {
  static_assert(supported_bits(Bits), "Bits must be one of kSupportedBits");
  static_assert(E == Sampling::Double || E == Sampling::Naive || E == Sampling::Nearest || E == Sampling::Multi,
                "quantize_row rounds Double, Naive, Nearest or Multi data: each sampling needs its rounding here");
  constexpr int K = values_per_line(Bits, E, M);
  constexpr int S = max_code(Bits);
  constexpr int kSamples = samples_of(E, M);
  static_assert(kFractionBits == 2, "Double packs two fraction planes");
  constexpr int kMaxLines = (kTripMaxFeatures + K - 1) / K;  // for the HLS report only
  (void)kMaxLines;  // read by LOOP_TRIPCOUNT only
  const int n_lines = lines_per_row(d, Bits, E, M);
  constexpr int kPlanes = planar(E) ? bit_planes(E, M) : 1;
  uint32_t v[K], lev[K], off[K], width[K], a[K], r[kPlanes * K] = {};
line_loop:
  for (int l = 0; l < n_lines; ++l) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
    // Positions; padding lanes get 0, which every sampling stores as code 0.
  position_loop:
    for (int k = 0; k < K; ++k) {
      const int j = l * K + k;
      v[k] = j < d ? scaled_position(x[j], lo[j], inv[j]) : 0u;
    }
    if (levels == nullptr) {
    uniform_loop:
      for (int k = 0; k < K; ++k) {
        lev[k] = uniform_interval<Bits>(v[k]);
        const uint32_t left = uniform_level<Bits>(lev[k]);
        off[k] = v[k] - left;
        width[k] = uniform_level<Bits>(lev[k] + 1) - left;
      }
    } else {
    table_loop:
      for (int k = 0; k < K; ++k) {
        const int j = l * K + k;
        const uint32_t* t = levels + static_cast<int64_t>(j < d ? j : d - 1) * (S + 1);
        lev[k] = table_interval<Bits>(v[k], t);
        off[k] = v[k] - t[lev[k]];
        width[k] = t[lev[k] + 1] - t[lev[k]];
      }
    }
    if (E == Sampling::Nearest) {
    nearest_loop:
      for (int k = 0; k < K; ++k) a[k] = lev[k] + nearest_up(off[k], width[k]);
    } else if (E == Sampling::Naive) {
    naive_loop:
      for (int k = 0; k < K; ++k)
        a[k] = lev[k] + stochastic_up(draw(keys[0], static_cast<uint32_t>(l * K + k)), off[k], width[k]);
    } else if (E == Sampling::Double) {  // index and the two fraction bits of the fine code
    fine_loop:
      for (int k = 0; k < K; ++k) {
        const uint32_t fine = fine_code(lev[k], off[k], width[k], draw(keys[0], static_cast<uint32_t>(l * K + k)));
        a[k] = fine >> kFractionBits;
        r[k] = fine & 1u;
        r[K + k] = (fine >> 1) & 1u;
      }
    } else if (E == Sampling::Multi) {  // interval index, then a rounding bit per sample
    index_loop:
      for (int k = 0; k < K; ++k) a[k] = lev[k];
    sample_loop:
      for (int m = 0; m < kSamples; ++m)
      bit_loop:
        for (int k = 0; k < K; ++k)
          r[m * K + k] = stochastic_up(draw(keys[m], static_cast<uint32_t>(l * K + k)), off[k], width[k]);
    } else {  // never reached (static_assert above); defined all the same: code 0
    zero_loop:
      for (int k = 0; k < K; ++k) a[k] = 0;
    }
    pack_line<Bits, E, M>(a, r, lines + static_cast<int64_t>(l) * kLineWords);
  }
}

/// Draw streams of the quantizer per row: one for Double (its fine code; the kernel draws
/// the samples), one per sample otherwise.
constexpr int sample_keys(Sampling e, int m) { return e == Sampling::Double ? 1 : samples_of(e, m); }

/// Key of sample `sample` of (copy, row) under `seed`.
inline uint32_t sample_key(uint32_t seed, uint32_t sample, uint32_t copy, uint32_t row) {
  return stream_key(seed, kStreamData | sample, copy, row);
}

/**
 * @brief Quantize n rows of a row-major float32 matrix (d columns) into n_copies
 * independent copies.
 *
 * Output layout: [copy][row][line][word], lines_per_row(d) lines per row. Output row i
 * quantizes row rows[i] of X (a row order: the host writes an epoch's rows in that
 * epoch's order without a reordered copy of X), or row i when `rows` is nullptr; its
 * draws are those of output row i. Only output rows [row_begin, row_end) are written
 * (row_end < 0: to n), so hosts may split the rows among threads with identical results.
 * @tparam Bits bits per level code (1, 2, 3, 4, 6, 8)
 * @tparam E    sampling (any of kSamplings)
 * @tparam M    samples of Multi (ignored otherwise; at most 16)
 */
template <int Bits, Sampling E, int M = 2>
void quantize_matrix(const float* X, int n, int d, const float* lo, const float* inv,
                     const uint32_t* levels, uint32_t seed, int n_copies, uint64_t* out,
                     const int64_t* rows = nullptr, int row_begin = 0, int row_end = -1) {
  constexpr int kSamples = sample_keys(E, M);
  const int64_t row_words = static_cast<int64_t>(lines_per_row(d, Bits, E, M)) * kLineWords;
  uint32_t keys[kSamples];
copy_loop:
  for (int c = 0; c < n_copies; ++c) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxCopies
  row_loop:
    for (int i = row_begin; i < (row_end < 0 ? n : row_end); ++i) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxRows
    key_loop:
      for (int m = 0; m < kSamples; ++m)
        keys[m] = sample_key(seed, static_cast<uint32_t>(m), static_cast<uint32_t>(c), static_cast<uint32_t>(i));
      quantize_row<Bits, E, M>(X + (rows == nullptr ? static_cast<int64_t>(i) : rows[i]) * d, d, lo, inv, levels, keys,
                               out + (static_cast<int64_t>(c) * n + i) * row_words);
    }
  }
}

}  // namespace zipml
