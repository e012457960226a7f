// Stochastic quantization and packing into 512-bit lines (docs/FORMATS.md).
// One source for the CPU module, the testbench and Vitis HLS.
#pragma once
#include <cstdint>

#include "format.hpp"
#include "rng.hpp"

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

/// Nearest rounding, ties up.
inline uint32_t nearest_up(uint32_t off, uint32_t width) {
  return 2 * static_cast<uint64_t>(off) >= width ? 1u : 0u;
}

/// Read `width` bits at bit `pos` of a line (a field may straddle two words).
inline uint32_t get_field(const uint64_t* line, int pos, int width) {
  const uint64_t mask = (uint64_t{1} << width) - 1;
  const int off = pos & 63;
  uint64_t v = line[pos >> 6] >> off;
  if (off + width > 64) v |= line[(pos >> 6) + 1] << (64 - off);
  return static_cast<uint32_t>(v & mask);
}

/// Bit position, inside its plane, of value k of a plane of K fields W bits wide.
/// W = 1 and 8: value k at bit k*W (natural order). W = 2 and 4 are strided so that
/// one byte-to-word widening of consecutive bytes yields consecutive values: with
/// B = K*W/8 plane bytes, value k sits in byte k mod B at bit (k div B)*W.
template <int W, int K>
constexpr int field_pos(int k) {
  return strided_width(W) ? (k % (K * W / 8)) * 8 + (k / (K * W / 8)) * W : k * W;
}

/// Write a plane of K fields W bits wide into `bytes` (zeroed), by the rule above.
template <int W, int K>
inline void pack_plane(const uint32_t* v, uint8_t* bytes) {
  if (W != 1 && !strided_width(W) && W != 8) {  // 3 or 6 bits: natural order, bit by bit
    for (int k = 0; k < K; ++k)
      for (int t = 0; t < W; ++t) {
        const int bit = k * W + t;
        bytes[bit / 8] = static_cast<uint8_t>(bytes[bit / 8] | (((v[k] >> t) & 1u) << (bit % 8)));
      }
    return;
  }
  constexpr int B = K * W / 8;
  for (int t = 0; t < B; ++t) {
    uint32_t byte = 0;
    for (int m = 0; m < (W <= 8 ? 8 / W : 1); ++m) {
      const int k = strided_width(W) ? t + m * B : t * 8 / W + m;  // the value in slot m of byte t
      byte |= (v[k] & ((1u << W) - 1)) << (m * W);
    }
    bytes[t] = static_cast<uint8_t>(byte);
  }
}

/// Pack one line. Planar encodings (Double, Multi): `a` = interval index plane, then the
/// M rounding-bit planes `r` (plane m at r + m*K); Naive/Nearest: `a` = level codes.
/// Planes are byte-aligned; words are little-endian (byte i = bits 8i..8i+7).
template <int Bits, Encoding E, int M = 2>
inline void pack_line(const uint32_t* a, const uint32_t* r, uint64_t* line) {
  constexpr int K = values_per_line(Bits, E, M);
  constexpr int W = planar(E) ? index_bits(Bits) : Bits;  // width of field `a`
  uint8_t buf[kLineBits / 8] = {};
  if (W > 0) pack_plane<(W > 0 ? W : 1), K>(a, buf);
  if (planar(E)) {
    for (int m = 0; m < samples_of(E, M); ++m) pack_plane<1, K>(r + m * K, buf + K * W / 8 + m * K / 8);
  }
  for (int w = 0; w < kLineWords; ++w) {
    uint64_t word = 0;
    for (int b = 0; b < 8; ++b) word |= static_cast<uint64_t>(buf[w * 8 + b]) << (8 * b);
    line[w] = word;
  }
}

/// Decode one line of a planar encoding into the level codes of each sample:
/// codes[m * K + k] = index_k + rounding bit m of value k.
template <int Bits, Encoding E, int M = 2>
inline void decode_samples(const uint64_t* line, int32_t* codes) {
  constexpr int K = values_per_line(Bits, E, M);
  constexpr int ib = index_bits(Bits);
  for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
    const int32_t idx = ib > 0 ? static_cast<int32_t>(get_field(line, field_pos<(ib > 0 ? ib : 1), K>(k), ib)) : 0;
    for (int m = 0; m < samples_of(E, M); ++m)
      codes[m * K + k] = idx + static_cast<int32_t>(get_field(line, K * ib + m * K + k, 1));
  }
}

/// Decode one line into the level codes of the first and second sample
/// (the same code twice for Naive/Nearest).
template <int Bits, Encoding E>
inline void decode_line(const uint64_t* line, int32_t* first, int32_t* second) {
  constexpr int K = values_per_line(Bits, E);
  if (E == Encoding::Double) {
    int32_t codes[2 * K];
    decode_samples<Bits, E>(line, codes);
    for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
      first[k] = codes[k];
      second[k] = codes[K + k];
    }
  } else {
    for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
      first[k] = second[k] = static_cast<int32_t>(get_field(line, field_pos<Bits, K>(k), Bits));
    }
  }
}

/**
 * @brief Quantize one row of float32 data into its packed lines.
 *
 * @tparam Bits bits per level code (1, 2, 3, 4, 6, 8)
 * @tparam E    encoding (Double, Naive, Nearest, Multi)
 * @tparam M    samples of Multi (ignored otherwise)
 * @param x       the row, d float32 values in original units
 * @param d       number of features
 * @param lo      per-feature minimum
 * @param inv     per-feature 1/(max-min), 0 for constant features
 * @param levels  per-feature level positions, d x (2^Bits) Q0.24, or nullptr for uniform levels
 * @param keys    stream key of each sample (samples_of(E, M) keys; unused by Nearest)
 * @param lines   output, lines_per_row(d) lines of 8 words
 */
template <int Bits, Encoding E, int M = 2>
void quantize_row(const float* x, int d, const float* lo, const float* inv, const uint32_t* levels,
                  const uint32_t* keys, uint64_t* lines) {
  constexpr int K = values_per_line(Bits, E, M);
  constexpr int S = max_code(Bits);
  constexpr int kSamples = samples_of(E, M);
  const int n_lines = lines_per_row(d, Bits, E, M);
  uint32_t v[K], lev[K], off[K], width[K], a[K], r[kSamples * K] = {};
  for (int l = 0; l < n_lines; ++l) {
    // Positions; padding lanes get 0, which every encoding stores as code 0.
    for (int k = 0; k < K; ++k) {
      const int j = l * K + k;
      v[k] = j < d ? scaled_position(x[j], lo[j], inv[j]) : 0u;
    }
    if (levels == nullptr) {
      for (int k = 0; k < K; ++k) {
        lev[k] = uniform_interval<Bits>(v[k]);
        const uint32_t left = uniform_level<Bits>(lev[k]);
        off[k] = v[k] - left;
        width[k] = uniform_level<Bits>(lev[k] + 1) - left;
      }
    } else {
      for (int k = 0; k < K; ++k) {
        const int j = l * K + k;
        const uint32_t* t = levels + static_cast<int64_t>(j < d ? j : d - 1) * (S + 1);
        lev[k] = table_interval<Bits>(v[k], t);
        off[k] = v[k] - t[lev[k]];
        width[k] = t[lev[k] + 1] - t[lev[k]];
      }
    }
    if (E == Encoding::Nearest) {
      for (int k = 0; k < K; ++k) a[k] = lev[k] + nearest_up(off[k], width[k]);
    } else if (E == Encoding::Naive) {
      for (int k = 0; k < K; ++k)
        a[k] = lev[k] + stochastic_up(draw(keys[0], static_cast<uint32_t>(l * K + k)), off[k], width[k]);
    } else {
      for (int k = 0; k < K; ++k) a[k] = lev[k];
      for (int m = 0; m < kSamples; ++m)
        for (int k = 0; k < K; ++k)
          r[m * K + k] = stochastic_up(draw(keys[m], static_cast<uint32_t>(l * K + k)), off[k], width[k]);
    }
    pack_line<Bits, E, M>(a, r, lines + static_cast<int64_t>(l) * kLineWords);
  }
}

/// Key of sample `sample` of (copy, row) under `seed`.
inline uint32_t sample_key(uint32_t seed, uint32_t sample, uint32_t copy, uint32_t row) {
  return stream_key(seed, kStreamData | sample, copy, row);
}

/**
 * @brief Quantize an n x d row-major float32 matrix into n_copies independent copies.
 *
 * Output layout: [copy][row][line][word], lines_per_row(d) lines per row.
 * @tparam Bits bits per level code (1, 2, 3, 4, 6, 8)
 * @tparam E    encoding
 * @tparam M    samples of Multi (ignored otherwise; at most 16)
 */
template <int Bits, Encoding E, int M = 2>
void quantize_matrix(const float* X, int n, int d, const float* lo, const float* inv,
                     const uint32_t* levels, uint32_t seed, int n_copies, uint64_t* out) {
  constexpr int kSamples = samples_of(E, M);
  const int64_t row_words = static_cast<int64_t>(lines_per_row(d, Bits, E, M)) * kLineWords;
  uint32_t keys[kSamples];
  for (int c = 0; c < n_copies; ++c) {
    for (int i = 0; i < n; ++i) {
      for (int m = 0; m < kSamples; ++m)
        keys[m] = sample_key(seed, static_cast<uint32_t>(m), static_cast<uint32_t>(c), static_cast<uint32_t>(i));
      quantize_row<Bits, E, M>(X + static_cast<int64_t>(i) * d, d, lo, inv, levels, keys,
                               out + (static_cast<int64_t>(c) * n + i) * row_words);
    }
  }
}

}  // namespace zipml
