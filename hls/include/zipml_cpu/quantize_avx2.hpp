// CPU fast path of quantize_matrix for uniform levels (Double, Naive, Nearest; 1, 2, 3,
// 4, 6, 8 bits) on AVX2, for machines without AVX-512: the same draws, roundings and line
// layout, bit for bit, 8 values per instruction. Never synthesized; the module and
// tb_quantize run it through fast_quantize_matrix (quantize_fast.hpp), and tb_quantize
// checks it against the golden vectors. How it is fast:
//  - positions, intervals, draws and the rounding decisions of 8 values at a time;
//  - the exact 48-bit test (rnd >> 8) * width < off * 2^24 on even and odd lanes with
//    32x32->64-bit multiplies and 64-bit compares (both sides < 2^49, so the signed
//    compare is exact), the two results merged by one 32-bit blend: no BMI2 needed;
//  - Double's fine code (index and 2 fraction bits) by three compares and one
//    stochastic rounding of the remainder;
//  - fraction bits and 1-bit codes go straight from a sign-bit movemask into their
//    plane, one byte per 8 values; 2- and 4-bit codes are narrowed to bytes and merged
//    into strided fields with a few whole-line ops; 8-bit codes are stored directly; 3-
//    and 6-bit codes (natural order) are shifted to their fields and OR-ed across the
//    lanes, 8 values into 3 or 6 bytes (Naive and Nearest lines of 170 and 85 values end
//    inside a group of 8: the lanes past the line are masked out like those past d).
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>

#include "zipml/format.hpp"
#include "zipml/quantize.hpp"
#include "zipml/rng.hpp"
#include "zipml_cpu/quantize_avx512.hpp"
#include "zipml_cpu/rng_avx2.hpp"

#if defined(__AVX2__)
#define ZIPML_HAVE_AVX2_QUANTIZE 1
#include <immintrin.h>

#include <cstring>
#include <memory>
#endif

namespace zipml {
namespace avx2 {

/// The formats the AVX2 quantizer covers, with uniform levels: those of the AVX-512 one
/// (1, 2, 4, 8 bits; Double, Naive, Nearest) and the same samplings on 3 and 6 bits.
template <int Bits, Sampling E>
constexpr bool supports_quantize() {
  return avx512::supports_quantize<Bits, E>() ||
         ((Bits == 3 || Bits == 6) && (E == Sampling::Double || E == Sampling::Naive || E == Sampling::Nearest));
}

#ifdef ZIPML_HAVE_AVX2_QUANTIZE

/// stochastic_up of 8 lanes as a lane mask (all ones where up): (rnd >> 8) * width <
/// off * 2^24 in 64-bit lanes, exact (both sides < 2^49 < 2^63). `width_odd` = the odd
/// lanes' widths (width >> 32 per 64-bit lane), `off_even` / `off_odd` = the even / odd
/// lanes' off * 2^24 as 64-bit lanes.
__attribute__((always_inline)) inline __m256i stochastic_up8(__m256i rnd, __m256i width, __m256i width_odd,
                                                             __m256i off_even, __m256i off_odd) {
  const __m256i a = _mm256_srli_epi32(rnd, 8);
  const __m256i even = _mm256_mul_epu32(a, width);  // low 32 bits of each 64-bit lane
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), width_odd);
  // Each compare fills its whole 64-bit lane: even lanes from the low half, odd from the high.
  return _mm256_blend_epi32(_mm256_cmpgt_epi64(off_even, even), _mm256_cmpgt_epi64(off_odd, odd), 0xAA);
}

/// off * 2^24 of the even (low 32 bits) and odd 32-bit lanes as 64-bit lanes.
__attribute__((always_inline)) inline void wide_offsets(__m256i off, __m256i& even, __m256i& odd) {
  even = _mm256_slli_epi64(_mm256_and_si256(off, _mm256_set1_epi64x(0xFFFFFFFFll)), kPosFrac);
  odd = _mm256_slli_epi64(_mm256_srli_epi64(off, 32), kPosFrac);
}

/// Bit 0 of each of 8 lanes, as one byte (lane k at bit k).
__attribute__((always_inline)) inline uint8_t low_bits8(__m256i v) {
  return static_cast<uint8_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v, 31))));
}

/// 8 codes of W = 3 or 6 bits (lanes k = 0..7, each < 2^W) in natural order, field k at
/// bit k W of the 3 W low bits: each lane shifted to its field, then OR-ed across lanes
/// (6 bits: each 128-bit half's 4 fields make 24 bits, the high half's go above).
template <int W>
__attribute__((always_inline)) inline uint64_t natural_fields8(__m256i code) {
  static_assert(W == 3 || W == 6, "natural-order fields of 3 or 6 bits");
  const __m256i shift =
      W == 3 ? _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21) : _mm256_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18);
  __m256i v = _mm256_sllv_epi32(code, shift);
  v = _mm256_or_si256(v, _mm256_shuffle_epi32(v, 0x4E));
  v = _mm256_or_si256(v, _mm256_shuffle_epi32(v, 0xB1));  // each half's OR in all its lanes
  const uint32_t lo = static_cast<uint32_t>(_mm256_cvtsi256_si32(v));
  const uint32_t hi = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm256_extracti128_si256(v, 1)));
  return W == 3 ? uint64_t{lo | hi} : (uint64_t{lo} | uint64_t{hi} << 24);
}

/// The low bytes of 8 lanes (values < 256), as 8 consecutive bytes in a 64-bit word.
__attribute__((always_inline)) inline uint64_t low_bytes8(__m256i v) {
  const __m256i gather = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, gather);
  return static_cast<uint32_t>(_mm256_cvtsi256_si32(b)) |
         static_cast<uint64_t>(static_cast<uint32_t>(_mm256_extract_epi32(b, 4))) << 32;
}

/**
 * @brief AVX2 twin of zipml::quantize_matrix for uniform levels (levels = nullptr).
 * @tparam Bits 1, 2, 3, 4, 6 or 8 (supports_quantize)
 * @tparam E    Double, Naive or Nearest
 * Parameters as zipml::quantize_matrix (without `levels`).
 */
template <int Bits, Sampling E>
void quantize_matrix(const float* X, int n, int d, const float* lo, const float* inv, uint32_t seed, int n_copies,
                     uint64_t* out, const int64_t* rows, int row_begin, int row_end) {
  static_assert(supports_quantize<Bits, E>(),
                "the AVX2 quantizer covers 1, 2, 3, 4, 6, 8 bits and Double, Naive, Nearest");
  constexpr int K = values_per_line(Bits, E);
  constexpr int W = planar(E) ? index_bits(Bits, E) : Bits;  // width of the code / index field
  constexpr int B = K * W / 8;                             // bytes of the index plane
  constexpr uint32_t S = max_code(Bits), Q = (kPosOne - 1) / S;
  constexpr bool kNatural = W == 3 || W == 6;  // natural-order fields straddling bytes
  static_assert((K % 8 == 0 || kNatural) && (!strided_width(W) || B % 8 == 0),
                "groups of 8 values (3- and 6-bit lines may end inside one); strided planes of whole words");
  const int n_lines = lines_per_row(d, Bits, E);
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lane_index = _mm256_mullo_epi32(lane, _mm256_set1_epi32(static_cast<int>(kIndexMul)));
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i top = _mm256_set1_epi32(S - 1);
  const __m256i q = _mm256_set1_epi32(Q);

  // 2- and 4-bit codes of one row, one per byte, merged into their strided planes after
  // the whole row is computed (reading them back right after the narrow stores would
  // stall on store forwarding). Zeroed once: the groups past d are never written.
  std::unique_ptr<uint8_t[]> codes(new uint8_t[strided_width(W) ? static_cast<size_t>(n_lines) * K : 1]());
  for (int c = 0; c < n_copies; ++c) {
    for (int i = row_begin; i < (row_end < 0 ? n : row_end); ++i) {
      const float* x = X + (rows == nullptr ? static_cast<int64_t>(i) : rows[i]) * d;
      const __m256i key0 = _mm256_set1_epi32(static_cast<int>(sample_key(seed, 0, c, i)));
      uint8_t* row = reinterpret_cast<uint8_t*>(out + (static_cast<int64_t>(c) * n + i) * row_words);  // little-endian
      std::memset(row, 0, static_cast<size_t>(row_words) * 8);
      for (int l = 0; l < n_lines; ++l) {
        uint8_t* line = row + l * (kLineBits / 8);
        for (int k0 = 0; k0 < K; k0 += 8) {
          const int j0 = l * K + k0;
          // scaled_position: the same float32 operations; lanes past d or past the line
          // load 0 and are position 0, which every sampling rounds to code 0
          const int count = d - j0 < K - k0 ? d - j0 : K - k0;  // lanes holding this line's features
          // A group past d is position 0 in every lane: code 0 and fraction 0 in every
          // sampling, the zeros the row and the code buffer hold already (narrow rows are
          // mostly such groups: 3 features fill one of a line's 6 to 64)
          if (count <= 0) continue;
          __m256 xv, lov, invv;
          if (count >= 8) {
            xv = _mm256_loadu_ps(x + j0), lov = _mm256_loadu_ps(lo + j0), invv = _mm256_loadu_ps(inv + j0);
          } else {
            const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane);
            xv = _mm256_maskload_ps(x + j0, valid), lov = _mm256_maskload_ps(lo + j0, valid);
            invv = _mm256_maskload_ps(inv + j0, valid);
          }
          __m256 t = _mm256_mul_ps(_mm256_sub_ps(xv, lov), invv);
          t = _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
          // t * 2^24 <= 2^24: the signed conversion is exact
          const __m256i v = _mm256_cvttps_epi32(_mm256_mul_ps(t, _mm256_set1_ps(static_cast<float>(kPosOne))));
          // uniform_interval ((v+1) s as a shift and a subtraction) and uniform_level (k <= s - 1: k q)
          const __m256i v1 = _mm256_add_epi32(v, one);
          __m256i k = _mm256_srli_epi32(_mm256_sub_epi32(_mm256_sub_epi32(_mm256_slli_epi32(v1, Bits), v1), one),
                                        kPosFrac);
          k = _mm256_min_epu32(k, top);
          const __m256i off = _mm256_sub_epi32(v, _mm256_mullo_epi32(k, q));
          // level k+1 - level k: q, plus 1 for the top interval
          const __m256i width = _mm256_sub_epi32(q, _mm256_cmpeq_epi32(k, top));
          __m256i code = k;
          if (E == Sampling::Nearest) {  // 2 off >= width; both < 2^26
            code = _mm256_sub_epi32(k, _mm256_cmpgt_epi32(_mm256_add_epi32(off, off), _mm256_sub_epi32(width, one)));
          } else {
            const __m256i width_odd = _mm256_srli_epi64(width, 32);
            const __m256i index = _mm256_add_epi32(
                _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(j0) * kIndexMul)), lane_index);
            const __m256i rnd = mix32x8(_mm256_xor_si256(key0, index));
            if (E == Sampling::Naive) {
              __m256i off_even, off_odd;
              wide_offsets(off, off_even, off_odd);
              code = _mm256_sub_epi32(k, stochastic_up8(rnd, width, width_odd, off_even, off_odd));
            } else {  // Double: fine_code, its index in `code` and its fraction bits in their planes
              const __m256i xo = _mm256_slli_epi32(off, kFractionBits);  // < 2^27, as are u w + w
              __m256i u = _mm256_setzero_si256(), uw = _mm256_setzero_si256();
              for (int p = 1; p < (1 << kFractionBits); ++p) {
                const __m256i at = _mm256_cmpgt_epi32(xo, _mm256_sub_epi32(_mm256_add_epi32(uw, width), one));
                u = _mm256_sub_epi32(u, at);
                uw = _mm256_add_epi32(uw, _mm256_and_si256(at, width));
              }
              __m256i rem_even, rem_odd;
              wide_offsets(_mm256_sub_epi32(xo, uw), rem_even, rem_odd);
              const __m256i up = stochastic_up8(rnd, width, width_odd, rem_even, rem_odd);
              const __m256i fine = _mm256_sub_epi32(_mm256_add_epi32(_mm256_slli_epi32(k, kFractionBits), u), up);
              code = _mm256_srli_epi32(fine, kFractionBits);
              line[B + k0 / 8] = low_bits8(fine);
              line[B + K / 8 + k0 / 8] = low_bits8(_mm256_srli_epi32(fine, 1));
            }
          }
          if (W == 1) {  // 1-bit codes or indices: the plane is the bit of each code
            line[k0 / 8] = low_bits8(code);
          } else if (W == 8) {
            const uint64_t b8 = low_bytes8(code);
            std::memcpy(line + k0, &b8, sizeof b8);
          } else if (kNatural) {  // W bytes per 8 values; a partial group at the line's end only its own
            const uint64_t fields = natural_fields8<kNatural ? W : 3>(code);
            if (K % 8 == 0 || k0 + 8 <= K)
              std::memcpy(line + W * k0 / 8, &fields, W);
            else
              std::memcpy(line + W * k0 / 8, &fields, ((K - k0) * W + 7) / 8);
          } else {
            const uint64_t b8 = low_bytes8(code);
            std::memcpy(codes.get() + j0, &b8, sizeof b8);
          }
        }
      }
      for (int l = 0; strided_width(W) && l < n_lines; ++l) {
        // byte t holds fields t + m*B at bit m*W (layout.hpp: field_pos); fields < 2^W,
        // so the shifts stay inside their bytes
        uint8_t* line = row + l * (kLineBits / 8);
        const uint8_t* cl = codes.get() + l * K;
        int t = 0;
        for (; t + 32 <= B; t += 32) {
          __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cl + t));
          for (int m = 1; m < 8 / (W > 0 ? W : 1); ++m)
            bytes = _mm256_or_si256(
                bytes, _mm256_slli_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(cl + t + m * B)), m * W));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(line + t), bytes);
        }
        for (; t < B; t += 8) {
          uint64_t word, field;
          std::memcpy(&word, cl + t, sizeof word);
          for (int m = 1; m < 8 / (W > 0 ? W : 1); ++m) {
            std::memcpy(&field, cl + t + m * B, sizeof field);
            word |= field << (m * W);
          }
          std::memcpy(line + t, &word, sizeof word);
        }
      }
    }
  }
}

#endif  // ZIPML_HAVE_AVX2_QUANTIZE

/**
 * @brief Runs the AVX2 quantizer where this build has it and it covers the call
 * (supports_quantize, uniform levels); otherwise does nothing.
 * @return true when it ran; parameters as zipml::quantize_matrix.
 */
template <int Bits, Sampling E, int M>
bool fast_quantize_matrix([[maybe_unused]] const float* X, [[maybe_unused]] int n, [[maybe_unused]] int d,
                          [[maybe_unused]] const float* lo, [[maybe_unused]] const float* inv,
                          [[maybe_unused]] const uint32_t* levels, [[maybe_unused]] uint32_t seed,
                          [[maybe_unused]] int n_copies, [[maybe_unused]] uint64_t* out,
                          [[maybe_unused]] const int64_t* rows = nullptr, [[maybe_unused]] int row_begin = 0,
                          [[maybe_unused]] int row_end = -1) {
#ifdef ZIPML_HAVE_AVX2_QUANTIZE
  if constexpr (supports_quantize<Bits, E>()) {
    if (levels == nullptr) {
      quantize_matrix<Bits, E>(X, n, d, lo, inv, seed, n_copies, out, rows, row_begin, row_end);
      return true;
    }
  }
#endif
  return false;
}

}  // namespace avx2
}  // namespace zipml
