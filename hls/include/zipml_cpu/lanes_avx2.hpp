// Byte and lane helpers of the AVX2 fast paths (sgd_avx2.hpp, sgd_logistic_avx2.hpp):
// bit masks as bytes, the unpacking of a line's field plane (any width) into one byte per
// value, the step table of small codes, the wrapping lane sum, the zero test of a decoded
// row's tail (ZeroBytes), the penalties of 8 weights (PenaltyLanes) and their stochastic
// rounding onto a grid (GridLanes). Plain AVX2, so they compile wherever the build has AVX2.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "zipml/fixed_point.hpp"
#include "zipml/format.hpp"
#include "zipml/sgd.hpp"

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

/// code_step(g, c) of the codes c = 0 .. S (at most 7) in the lanes of one permute table
/// (0 above S): the step of every code of a row, looked up by the codes themselves.
template <int S>
__attribute__((always_inline)) inline __m256i step_table(int64_t g) {
  static_assert(S <= 7, "a table of 8 lanes");
  auto step = [g](int c) { return c <= S ? code_step(g, c) : 0; };  // built in registers: no store to reload
  return _mm256_setr_epi32(step(0), step(1), step(2), step(3), step(4), step(5), step(6), step(7));
}

/// 8 codes as int32 lanes.
__attribute__((always_inline)) inline __m256i widen8(const uint8_t* codes) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes)));
}

/// Bytes unpack_plane<W, K> writes: the K values, and for the natural-order widths 3 and
/// 6 zeros up to the next multiple of 32 (it writes 32 values at a time); callers size
/// their buffers for it.
constexpr int unpacked_bytes(int W, int K) { return W == 3 || W == 6 ? (K + 31) / 32 * 32 : K; }

/**
 * @brief Fields 16 H .. 16 H + 15 of a natural-order plane of W = 3 or 6 bits at byte 0 of
 * a line (value k at bits kW .. kW + W - 1, layout.hpp), as 16-bit lanes, 0 past K.
 *
 * 16 fields fill the 2W bytes at 2W H: one 16-byte load (where it would pass the line's
 * end, the line's last 16 bytes shifted down, zeros after them) broadcast to both halves;
 * a byte shuffle gives each 16-bit lane the two bytes that hold its field (the low half's
 * from the first W bytes, the high half's from the next W; a field that starts a byte
 * takes it as the high byte, so that every shift is 1 to 8), and one multiply-high by
 * 2^(16 - shift) moves each field to bit 0.
 */
template <int W, int K, int H>
__attribute__((always_inline)) inline __m256i natural_group16(const uint8_t* line) {
  static_assert(W == 3 || W == 6, "natural-order planes of 3 or 6 bits per field");
  static_assert(16 * H < K, "a group that holds fields");
  constexpr int kLineBytes = kLineBits / 8;
  constexpr int kAt = 2 * W * H;                                             // the group's first byte
  constexpr int kFrom = kAt + 16 <= kLineBytes ? kAt : kLineBytes - 16;  // a load inside the line
  __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line + kFrom));
  if constexpr (kAt != kFrom) bytes = _mm_bsrli_si128(bytes, kAt - kFrom);
  __m256i windows, multipliers;
  if constexpr (W == 3) {  // field k at bit 3k: bytes (3k / 8, + 1), shift 3k % 8 (8 for k = 0)
    windows = _mm256_setr_epi8(-1, 0, 0, 1, 0, 1, 1, 2, 1, 2, 1, 2, 2, 3, 2, 3,  //
                               -1, 3, 3, 4, 3, 4, 4, 5, 4, 5, 4, 5, 5, 6, 5, 6);
    multipliers = _mm256_setr_epi16(1 << 8, 1 << 13, 1 << 10, -32768, 1 << 12, 1 << 9, 1 << 14, 1 << 11,  //
                                    1 << 8, 1 << 13, 1 << 10, -32768, 1 << 12, 1 << 9, 1 << 14, 1 << 11);
  } else {  // field k at bit 6k: shifts 8, 6, 4, 2 for k = 0..3 and again for 4..7
    windows = _mm256_setr_epi8(-1, 0, 0, 1, 1, 2, 2, 3, 2, 3, 3, 4, 4, 5, 5, 6,  //
                               -1, 6, 6, 7, 7, 8, 8, 9, 8, 9, 9, 10, 10, 11, 11, 12);
    multipliers = _mm256_setr_epi16(1 << 8, 1 << 10, 1 << 12, 1 << 14, 1 << 8, 1 << 10, 1 << 12, 1 << 14,  //
                                    1 << 8, 1 << 10, 1 << 12, 1 << 14, 1 << 8, 1 << 10, 1 << 12, 1 << 14);
  }
  const __m256i shuffled = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(bytes), windows);
  __m256i v = _mm256_and_si256(_mm256_mulhi_epu16(shuffled, multipliers), _mm256_set1_epi16((1 << W) - 1));
  if constexpr (16 * H + 16 > K) {  // fields past K (the line's unused bits, or past its end): 0
    const __m256i lane = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    v = _mm256_and_si256(v, _mm256_cmpgt_epi16(_mm256_set1_epi16(K - 16 * H), lane));
  }
  return v;
}

/// unpack_plane of a natural-order plane: fields 32 C .. 32 C + 31 per C, two groups of 16
/// narrowed to bytes by one pack (which interleaves the halves: one permute restores the order).
template <int W, int K, int... C>
__attribute__((always_inline)) inline void unpack_natural(const uint8_t* plane, uint8_t* out,
                                                          std::integer_sequence<int, C...>) {
  auto group = [plane](auto h) __attribute__((always_inline)) {
    if constexpr (16 * decltype(h)::value < K) return natural_group16<W, K, decltype(h)::value>(plane);
    else return _mm256_setzero_si256();
  };
  (_mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * C),
                       _mm256_permute4x64_epi64(_mm256_packus_epi16(group(std::integral_constant<int, 2 * C>{}),
                                                                    group(std::integral_constant<int, 2 * C + 1>{})),
                                                0xD8)),
   ...);
}

/**
 * @brief The K fields, W bits wide (1, 2, 3, 4, 6 or 8), of a line's plane at `plane`, one
 * byte per value in value order: out[k] = field k (layout.hpp: field_pos), for k <
 * unpacked_bytes(W, K) (0 past K).
 *
 * 2- and 4-bit planes are strided (byte t holds values t + m B, m < 8 / W, B = K W / 8
 * plane bytes), so a shift and a mask of consecutive bytes yield consecutive values;
 * B is a multiple of 4 (K of 16), taken 8 bytes at a time and then 4. 3- and 6-bit planes
 * are in natural order, at byte 0 of the line (any K: Naive's 170 and 85 too), 16 fields
 * per natural_group16 and 32 per store.
 */
template <int W, int K>
inline void unpack_plane(const uint8_t* plane, uint8_t* out) {
  static_assert(W == 1 || W == 2 || W == 3 || W == 4 || W == 6 || W == 8,
                "planes of 1, 2, 3, 4, 6 or 8 bits per field");
  static_assert(K % 16 == 0 || W == 3 || W == 6, "planes of whole 16-bit words");
  constexpr int B = K * W / 8;
  if constexpr (W == 3 || W == 6) {
    unpack_natural<W, K>(plane, out, std::make_integer_sequence<int, (K + 31) / 32>{});
  } else if (W == 8) {
    std::memcpy(out, plane, K);
  } else if (W == 1) {  // 32 values per step, then a last 16 where K is an odd multiple of 16
    for (int c = 0; c < K / 32; ++c)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * c),
                          _mm256_and_si256(bit_bytes32(plane + 4 * c), _mm256_set1_epi8(1)));
    if constexpr (K % 32 != 0)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + K - 16),
                       _mm_and_si128(bit_bytes(load16(plane + K / 8 - 2)), _mm_set1_epi8(1)));
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

/**
 * @brief Whether bytes [begin, end) of a decoded row's buffer are all 0, read in 32-byte
 * vectors at multiples of 32 bytes from the buffer's start, the bytes outside the range
 * masked off. Double data's codes and the level tables' values are stored that way, and a
 * load that straddles two of those stores cannot take their data from the store buffer
 * but waits for both to be written: on rows of a few features, where the kernels check the
 * whole tail of the line right after the decode, reading it 8 bytes at a time cost 12% of
 * a 4-bit epoch. (Naive and nearest codes are stored a line at a time.) The buffer must be
 * readable up to `end` rounded up to 32 bytes.
 */
class ZeroBytes {
 public:
  ZeroBytes(int begin, int end) : first_(begin / 32), chunks_(end > begin ? (end + 31) / 32 - begin / 32 : 0) {
    mask_.assign(size_t(chunks_) * 32, 0);
    for (int at = begin; at < end; ++at) mask_[size_t(at - 32 * first_)] = 0xFF;
  }

  bool operator()(const void* buffer) const {
    const auto* chunk = static_cast<const uint8_t*>(buffer) + 32 * first_;
    __m256i any = _mm256_setzero_si256();
    for (int c = 0; c < chunks_; ++c)
      any = _mm256_or_si256(any, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk + 32 * c)),
                                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&mask_[32 * c]))));
    return _mm256_testz_si256(any, any);
  }

 private:
  int first_, chunks_;
  std::vector<uint8_t> mask_;
};

/**
 * @brief Regularization's penalties (sgd.hpp) on 8 weights at a time, bit for bit its
 * decayed and thresholded: the coefficients in feature order, 0 past d, where they leave
 * the weights as they are. at_step gives an epoch's penalties as a small value to copy into
 * the kernel's locals (a pass's stores could alias a member's data pointer).
 */
class PenaltyLanes {
 public:
  /// One epoch's penalties at step 2^-shift.
  struct Step {
    const int32_t* decay;      // a_j (Q32)
    const int32_t* threshold;  // T_j (Q24), or nullptr: no L1
    int decay_shift;           // Regularization::decay_shift: 0, no decay

    /// 8 weights from j after one sample's L2 decay, w - round(w a_j / 2^decay_shift): the
    /// products in int64 lanes (even features, then odd ones), rounded, their high halves
    /// (floor(x / 2^32)) shifted on by decay_shift - 32 (the shift, >= 1).
    __attribute__((always_inline)) __m256i decayed(__m256i w, int j) const {
      if (decay_shift == 0) return w;
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(decay + j));
      const __m256i round = _mm256_set1_epi64x(int64_t{1} << (decay_shift - 1));
      const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(w, a), round);
      const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(w, 32), _mm256_srli_epi64(a, 32)), round);
      const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
      return _mm256_sub_epi32(w, _mm256_sra_epi32(high, _mm_cvtsi32_si128(decay_shift - 32)));
    }

    /// 8 weights from j after the L1 step, w - clamp(w, -T_j, T_j): 0 within the threshold.
    __attribute__((always_inline)) __m256i thresholded(__m256i w, int j) const {
      if (threshold == nullptr) return w;
      const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(threshold + j));
      return _mm256_sub_epi32(w, _mm256_min_epi32(_mm256_max_epi32(w, _mm256_sub_epi32(_mm256_setzero_si256(), t)), t));
    }

    /// Both, in Regularization's order around a step: decayed, then thresholded.
    __attribute__((always_inline)) __m256i penalized(__m256i w, int j) const { return thresholded(decayed(w, j), j); }
  };

  /// `padded`: the kernel's model length (a multiple of 8, at least d).
  PenaltyLanes(const Regularization& reg, int d, int padded)
      : reg_(reg), d_(d), decay_(reg.decay != nullptr ? padded : 0, 0), threshold_(reg.l1 != nullptr ? padded : 0, 0) {
    for (int j = 0; j < d && reg.decay != nullptr; ++j) decay_[j] = reg.decay[j];
  }

  /// The penalties of every sample at step 2^-shift (the L1 thresholds computed here).
  Step at_step(int shift) {
    for (int j = 0; j < d_ && reg_.l1 != nullptr; ++j) threshold_[j] = reg_.threshold(j, shift);
    return Step{decay_.data(), reg_.l1 != nullptr ? threshold_.data() : nullptr, reg_.decay_shift(shift)};
  }

 private:
  Regularization reg_;
  int d_;
  std::vector<int32_t> decay_, threshold_;
};

/// fixed_point.hpp's round_to_grid of 8 lanes: x rounded stochastically onto the multiples
/// of 2^k (0 <= k <= 31) with the top k bits of each lane's draw, wrapping to int32 as it.
class GridLanes {
 public:
  explicit GridLanes(int k)
      : k_(_mm_cvtsi32_si128(k)),
        top_(_mm_cvtsi32_si128(32 - k)),
        low_(_mm256_set1_epi32(static_cast<int32_t>((uint32_t{1} << k) - 1u))) {}

  __attribute__((always_inline)) __m256i operator()(__m256i x, __m256i draws) const {
    // x mod 2^k and the draw's top k bits are both below 2^31: a signed compare (k = 0: 0 < 0)
    const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(x, low_), _mm256_srl_epi32(draws, top_));
    return _mm256_sll_epi32(_mm256_sub_epi32(_mm256_sra_epi32(x, k_), up), k_);
  }

 private:
  __m128i k_, top_;
  __m256i low_;
};

}  // namespace avx2
}  // namespace zipml
#endif
