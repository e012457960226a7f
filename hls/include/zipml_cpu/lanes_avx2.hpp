// Byte and lane helpers of the AVX2 fast paths (sgd_avx2.hpp, sgd_logistic_avx2.hpp):
// bit masks as bytes, the unpacking of a line's field plane into one byte per value, and
// the wrapping lane sum. Plain AVX2, so they compile wherever the build has AVX2.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>
#include <cstring>

#include "zipml/format.hpp"

#if defined(__AVX2__)
#include <immintrin.h>

namespace zipml {
namespace avx2 {

/// 16 bits as 16 bytes: 0xFF where the bit is set, else 0.
__attribute__((always_inline)) inline __m128i bit_bytes(uint16_t bits) {
  const __m128i spread = _mm_shuffle_epi8(_mm_set1_epi16(static_cast<short>(bits)),
                                          _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
  const __m128i select = _mm_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm_cmpeq_epi8(_mm_and_si128(spread, select), select);
}

/// 32 bits (little-endian at p) as 32 bytes: 0xFF where the bit is set, else 0.
__attribute__((always_inline)) inline __m256i bit_bytes32(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i select = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
}

/// Sum of the 8 int32 lanes, wrapping like the portable kernel's int32 dot product.
__attribute__((always_inline)) inline int32_t reduce_add_wrapping(__m256i v) {
  __m128i b = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0xB1));
  return _mm_cvtsi128_si32(b);
}

__attribute__((always_inline)) inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// The widest |g 2^q| (bits) whose steps round(g 2^q v / 2^8) = (g 2^q v + 2^7) >> 8 are
/// exact in int32 lanes for every |v| <= vmax: (2^bits - 1) vmax + 2^7 < 2^31. Steps past
/// it take the kernels' per-value pass; the bound falls as vmax grows (30 bits at 1 bit, 23
/// at 8 bits), so small codes keep the lanes for the large steps of a noisy start.
constexpr int lane_step_bits(int64_t vmax) {
  int bits = 0;
  while (((int64_t{1} << (bits + 1)) - 1) * vmax + 128 < (int64_t{1} << 31)) ++bits;
  return bits;
}

/// 8 codes as int32 lanes.
__attribute__((always_inline)) inline __m256i widen8(const uint8_t* codes) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes)));
}

/**
 * @brief The K fields, W bits wide (1, 2, 4 or 8), of a line's plane at `plane`, one byte
 * per value in value order: out[k] = field k (layout.hpp: field_pos).
 *
 * 2- and 4-bit planes are strided (byte t holds values t + m B, m < 8 / W, B = K W / 8
 * plane bytes), so a shift and a mask of consecutive bytes yield consecutive values;
 * B is a multiple of 4 (K of 16), taken 8 bytes at a time and then 4.
 */
template <int W, int K>
inline void unpack_plane(const uint8_t* plane, uint8_t* out) {
  static_assert(W == 1 || W == 2 || W == 4 || W == 8, "planes of 1, 2, 4 or 8 bits per field");
  static_assert(K % 16 == 0, "planes of whole 16-bit words");
  constexpr int B = K * W / 8;
  if (W == 8) {
    std::memcpy(out, plane, K);
  } else if (W == 1) {
    for (int c = 0; c < K / 16; ++c)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * c),
                       _mm_and_si128(bit_bytes(load16(plane + 2 * c)), _mm_set1_epi8(1)));
  } else {
    const __m128i mask = _mm_set1_epi8(static_cast<char>((1 << W) - 1));
    int t = 0;
    for (; t + 8 <= B; t += 8) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(plane + t));
      for (int m = 0; m < 8 / W; ++m)
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + t + m * B), _mm_and_si128(_mm_srli_epi16(bytes, m * W), mask));
    }
    if (t < B) {  // the last 4 bytes
      int32_t word;
      std::memcpy(&word, plane + t, sizeof word);
      const __m128i bytes = _mm_cvtsi32_si128(word);
      for (int m = 0; m < 8 / W; ++m) {
        const int32_t v = _mm_cvtsi128_si32(_mm_and_si128(_mm_srli_epi16(bytes, m * W), mask));
        std::memcpy(out + t + m * B, &v, sizeof v);
      }
    }
  }
}

}  // namespace avx2
}  // namespace zipml
#endif
