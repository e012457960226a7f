// Line layout: packing level codes and rounding bits into 512-bit lines, and decoding
// them back (docs/FORMATS.md). Every kernel reads its data through these functions.
#pragma once
#include <cstdint>

#include "format.hpp"
#include "resample.hpp"

namespace zipml {

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
  natural_value_loop:
    for (int k = 0; k < K; ++k)
    natural_bit_loop:
      for (int t = 0; t < W; ++t) {
        const int bit = k * W + t;
        bytes[bit / 8] = static_cast<uint8_t>(bytes[bit / 8] | (((v[k] >> t) & 1u) << (bit % 8)));
      }
    return;
  }
  constexpr int B = K * W / 8;
byte_loop:
  for (int t = 0; t < B; ++t) {
    uint32_t byte = 0;
  slot_loop:
    for (int m = 0; m < (W <= 8 ? 8 / W : 1); ++m) {
      const int k = strided_width(W) ? t + m * B : t * 8 / W + m;  // the value in slot m of byte t
      byte |= (v[k] & ((1u << W) - 1)) << (m * W);
    }
    bytes[t] = static_cast<uint8_t>(byte);
  }
}

/// Pack one line. Planar samplings: `a` = index plane, then the bit planes `r` (plane m
/// at r + m*K: Double's 2 fraction bits, Multi's M rounding bits); Naive/Nearest: `a` =
/// level codes.
/// Planes are byte-aligned; words are little-endian (byte i = bits 8i..8i+7).
template <int Bits, Sampling E, int M = 2>
inline void pack_line(const uint32_t* a, const uint32_t* r, uint64_t* line) {
  constexpr int K = values_per_line(Bits, E, M);
  constexpr int W = planar(E) ? index_bits(Bits, E) : Bits;  // width of field `a`
  uint8_t buf[kLineBits / 8] = {};
  if (W > 0) pack_plane<(W > 0 ? W : 1), K>(a, buf);
  if (planar(E)) {
  plane_loop:
    for (int m = 0; m < bit_planes(E, M); ++m) pack_plane<1, K>(r + m * K, buf + K * W / 8 + m * K / 8);
  }
word_loop:
  for (int w = 0; w < kLineWords; ++w) {
    uint64_t word = 0;
  word_byte_loop:
    for (int b = 0; b < 8; ++b) word |= static_cast<uint64_t>(buf[w * 8 + b]) << (8 * b);
    line[w] = word;
  }
}

/// Decode one Multi line into the level codes of each sample: codes[m * K + k] =
/// index_k + rounding bit m of value k.
template <int Bits, int M>
inline void decode_samples(const uint64_t* line, int32_t* codes) {
  constexpr int K = values_per_line(Bits, Sampling::Multi, M);
  constexpr int ib = index_bits(Bits, Sampling::Multi);
decode_value_loop:
  for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
    const int32_t idx = ib > 0 ? static_cast<int32_t>(get_field(line, field_pos<(ib > 0 ? ib : 1), K>(k), ib)) : 0;
    const uint32_t below_top = idx != max_code(Bits);  // no rounding up from the top level (FORMATS.md sec. 5)
  decode_sample_loop:
    for (int m = 0; m < M; ++m)
      codes[m * K + k] = idx + static_cast<int32_t>(get_field(line, K * ib + m * K + k, 1) & below_top);
  }
}

/// Value k of a Double line as stored: its index, its two fraction bits, and whether the
/// index is below the top level (the top level never rounds up: FORMATS.md sec. 5).
struct StoredValue {
  int32_t index;
  uint32_t f0, f1, below_top;
};
template <int Bits>
inline StoredValue stored_value(const uint64_t* line, int k) {
  constexpr int K = values_per_line(Bits, Sampling::Double);
  constexpr int ib = index_bits(Bits, Sampling::Double);
  const int32_t index = static_cast<int32_t>(get_field(line, field_pos<ib, K>(k), ib));
  return {index, get_field(line, K * ib + k, 1), get_field(line, K * ib + K + k, 1),
          static_cast<uint32_t>(index != max_code(Bits))};
}

/// The code a sample draws from value v with the 2-bit threshold (t1 t0): index + [t < f].
inline int32_t resampled_code(const StoredValue& v, uint32_t t0, uint32_t t1) {
  return v.index + static_cast<int32_t>(resampled_up<uint32_t>(v.f0, v.f1, t0, t1) & v.below_top);
}

/// Draw M samples of each value of line l of a Double row (resample.hpp; `key`:
/// sample_stream_key): codes[m * K + k] = index_k + [t_m < f_k].
template <int Bits, int M>
inline void decode_resampled(const uint64_t* line, uint32_t key, int l, int32_t* codes) {
  constexpr int K = values_per_line(Bits, Sampling::Double);
  uint32_t t[threshold_words(K, M)];
#pragma HLS ARRAY_PARTITION variable = t complete
  line_thresholds<K, M>(key, l, t);
resampled_value_loop:
  for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
    const StoredValue v = stored_value<Bits>(line, k);
  resampled_sample_loop:
    for (int m = 0; m < M; ++m)
      codes[m * K + k] = resampled_code(v, threshold_bit<K>(t, 2 * m, k), threshold_bit<K>(t, 2 * m + 1, k));
  }
}

/// Sample 0 of decode_resampled<Bits, M> (codes[k] as there), drawing only its
/// thresholds: planes 0 and 1, the first K / 16 of the line's draws. For a step that reads
/// only the first sample (sgd_logistic's update).
template <int Bits, int M>
inline void decode_resampled_first(const uint64_t* line, uint32_t key, int l, int32_t* codes) {
  constexpr int K = values_per_line(Bits, Sampling::Double);
  constexpr int D = threshold_words(K, M);
  uint32_t t[2 * K / 32];
#pragma HLS ARRAY_PARTITION variable = t complete
first_threshold_loop:
  for (int q = 0; q < 2 * K / 32; ++q) {
#pragma HLS UNROLL
    t[q] = draw(key, static_cast<uint32_t>(l * D + q));
  }
first_value_loop:
  for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
    codes[k] = resampled_code(stored_value<Bits>(line, k), threshold_bit<K>(t, 0, k), threshold_bit<K>(t, 1, k));
  }
}

/// Decode line l of a row into the level codes of its first and second sample: for
/// Double, the two samples drawn from the stored index and fraction with the row's
/// thresholds (`key`: sample_stream_key; decode_resampled); the one stored code twice for
/// Naive and Nearest (`key`, `l` unused). Multi lines hold M samples: decode_samples.
template <int Bits, Sampling E>
inline void decode_line(const uint64_t* line, uint32_t key, int l, int32_t* first, int32_t* second) {
  static_assert(E == Sampling::Double || E == Sampling::Naive || E == Sampling::Nearest,
                "decode_line reads Double, Naive or Nearest lines (Multi: decode_samples)");
  constexpr int K = values_per_line(Bits, E);
  if (E == Sampling::Double) {
    // Sampling::Double spelled out (E is Double here), so that the other instances never
    // instantiate the threshold helpers for a line size they do not have (C++14).
    constexpr int KD = values_per_line(Bits, Sampling::Double);
    int32_t codes[2 * KD];
#pragma HLS ARRAY_PARTITION variable = codes complete
    decode_resampled<Bits, 2>(line, key, l, codes);
  split_loop:
    for (int k = 0; k < KD; ++k) {
#pragma HLS UNROLL
      first[k] = codes[k];
      second[k] = codes[KD + k];
    }
  } else if (E == Sampling::Naive || E == Sampling::Nearest) {
  code_loop:
    for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
      first[k] = second[k] = static_cast<int32_t>(get_field(line, field_pos<Bits, K>(k), Bits));
    }
  } else {  // never reached (static_assert above); defined all the same: zero codes
  zero_loop:
    for (int k = 0; k < K; ++k) {
#pragma HLS UNROLL
      first[k] = second[k] = 0;
    }
  }
}

}  // namespace zipml
