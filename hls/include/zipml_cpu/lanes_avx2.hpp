// Byte and lane helpers of the AVX2 fast paths (sgd_avx2.hpp, sgd_logistic_avx2.hpp):
// bit masks as bytes, the unpacking of a line's field plane (any width) into one byte per
// value, the step table of small codes, and the wrapping lane sum. Plain AVX2, so they compile wherever the build has AVX2.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "zipml/fixed_point.hpp"
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

/// code_step(g, c) of the codes c = 0 .. S (at most 7) in the lanes of one permute table
/// (0 above S): the step of every code of a row, looked up by the codes themselves.
template <int S>
__attribute__((always_inline)) inline __m256i step_table(int64_t g) {
  static_assert(S <= 7, "a table of 8 lanes");
  alignas(32) int32_t steps[8] = {};
  for (int c = 0; c <= S; ++c) steps[c] = code_step(g, c);
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(steps));
}

/// 8 codes as int32 lanes.
__attribute__((always_inline)) inline __m256i widen8(const uint8_t* codes) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes)));
}

/// Bytes unpack_plane<W, K> writes: the K values, and for the natural-order widths 3 and
/// 6 zeros up to the next multiple of 32 (it writes 32 values at a time); callers size
/// their buffers for it.
constexpr int unpacked_bytes(int W, int K) { return W == 3 || W == 6 ? (K + 31) / 32 * 32 : K; }

/// Fields 8g .. 8g + 7 of a natural-order plane of W = 3 or 6 bits at byte 0 of a line
/// (value k at bits kW .. kW + W - 1, layout.hpp), as int32 lanes: the W bytes at W g, read
/// with one 32-bit (3 bits) or 64-bit (6 bits) load broadcast to the lanes, each lane
/// shifted to its field. A load that would pass the line's end reads its last bytes and
/// shifts the missing ones in as zeros.
template <int W>
__attribute__((always_inline)) inline __m256i natural_group8(const uint8_t* line, int g) {
  static_assert(W == 3 || W == 6, "natural-order planes of 3 or 6 bits per field");
  using Word = std::conditional_t<W == 3, uint32_t, uint64_t>;
  constexpr int kLineBytes = kLineBits / 8;
  const int at = W * g;
  Word word;
  if (at + int(sizeof(Word)) <= kLineBytes) {
    std::memcpy(&word, line + at, sizeof word);
  } else {
    std::memcpy(&word, line + kLineBytes - sizeof(Word), sizeof word);
    word >>= 8 * (at + sizeof(Word) - kLineBytes);
  }
  if constexpr (W == 3) {  // 8 fields in 24 bits: lane k shifted by 3k
    return _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21)),
        _mm256_set1_epi32(7));
  } else {  // fields 0-3 in bytes 0-2, fields 4-7 in bytes 3-5: each half's lanes take one of those 4-byte windows
    const __m256i bytes = _mm256_shuffle_epi8(
        _mm256_set1_epi64x(static_cast<long long>(word)),
        _mm256_setr_epi8(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 3, 4, 5, 6, 3, 4, 5, 6, 3, 4, 5, 6, 3, 4, 5, 6));
    return _mm256_and_si256(_mm256_srlv_epi32(bytes, _mm256_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18)),
                            _mm256_set1_epi32(63));
  }
}

/// The low bytes of four vectors of 8 int32 lanes (each < 256), in order, as 32 bytes.
__attribute__((always_inline)) inline __m256i narrow32(__m256i a, __m256i b, __m256i c, __m256i d) {
  // the packs work within 128-bit halves: dword q of the result holds 4 values of vector
  // q % 4, its low (q < 4) or high half; one permute puts them in order
  const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/**
 * @brief The K fields, W bits wide (1, 2, 3, 4, 6 or 8), of a line's plane at `plane`, one
 * byte per value in value order: out[k] = field k (layout.hpp: field_pos), for k <
 * unpacked_bytes(W, K) (0 past K).
 *
 * 2- and 4-bit planes are strided (byte t holds values t + m B, m < 8 / W, B = K W / 8
 * plane bytes), so a shift and a mask of consecutive bytes yield consecutive values;
 * B is a multiple of 4 (K of 16), taken 8 bytes at a time and then 4. 3- and 6-bit planes
 * are in natural order, at byte 0 of the line (any K: Naive's 170 and 85 too), 8 fields
 * per natural_group8 and 32 per store.
 */
template <int W, int K>
inline void unpack_plane(const uint8_t* plane, uint8_t* out) {
  static_assert(W == 1 || W == 2 || W == 3 || W == 4 || W == 6 || W == 8, "planes of 1, 2, 3, 4, 6 or 8 bits per field");
  static_assert(K % 16 == 0 || W == 3 || W == 6, "planes of whole 16-bit words");
  constexpr int B = K * W / 8;
  if constexpr (W == 3 || W == 6) {
    constexpr int G = (K + 7) / 8;  // groups of 8 fields, the last one partial where K % 8 != 0
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    auto group = [&](int g) __attribute__((always_inline)) {
      if (g >= G) return _mm256_setzero_si256();
      const __m256i v = natural_group8<W>(plane, g);
      // fields past K (the line's unused bits, or past its end): 0
      return K % 8 != 0 && g == G - 1 ? _mm256_and_si256(v, _mm256_cmpgt_epi32(_mm256_set1_epi32(K - 8 * g), lane)) : v;
    };
    for (int g = 0; g < G; g += 4)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * g),
                          narrow32(group(g), group(g + 1), group(g + 2), group(g + 3)));
  } else if (W == 8) {
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
