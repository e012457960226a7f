// CPU fast path of quantize_matrix for uniform levels (Double, Naive, Nearest; 1, 2,
// 4, 8 bits) on AVX-512 (F, BW, DQ) and BMI2: the same draws, roundings and line
// layout, bit for bit, 16 values per instruction. Never synthesized; the module and
// tb_quantize run it through fast_quantize_matrix, which says whether it covered the
// call, and tb_quantize checks it against the golden vectors. How it is fast:
//  - positions, intervals, draws and the rounding decisions of 16 values at a time;
//  - the exact 48-bit test (rnd >> 8) * width < off * 2^24 on even and odd lanes
//    with 32x32->64-bit multiplies, the two 8-bit results interleaved by pdep;
//  - Double's fine code (index and 2 fraction bits) by three compares and one
//    stochastic rounding of the remainder;
//  - fraction bits go straight from the lane mask into their plane; codes are
//    narrowed to bytes and merged into strided fields with a few whole-line ops.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>

#include "zipml/format.hpp"
#include "zipml/quantize.hpp"
#include "zipml/rng.hpp"
#include "zipml_cpu/rng_avx512.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__BMI2__)
#define ZIPML_HAVE_AVX512_QUANTIZE 1
#include <immintrin.h>

#include <cstring>
#include <memory>
#endif

namespace zipml {
namespace avx512 {

/// The formats the AVX-512 quantizer covers (with uniform levels): 1, 2, 4 or 8 bits
/// (whole fields per byte) and at most two samples per value (Double, Naive, Nearest).
template <int Bits, Sampling E>
constexpr bool supports_quantize() {
  return (Bits == 1 || Bits == 2 || Bits == 4 || Bits == 8) &&
         (E == Sampling::Double || E == Sampling::Naive || E == Sampling::Nearest);
}

#ifdef ZIPML_HAVE_AVX512_QUANTIZE

/// stochastic_up of 16 lanes as a mask: (rnd >> 8) * width < off * 2^24, exact in
/// 64-bit lanes (both sides < 2^49). Shared by all samples of a group: `width_odd` =
/// the odd lanes' widths (width >> 32 per 64-bit lane), `off_even` / `off_odd` = the
/// even / odd lanes' off * 2^24 as 64-bit lanes.
inline __mmask16 stochastic_up16(__m512i rnd, __m512i width, __m512i width_odd, __m512i off_even,
                                 __m512i off_odd) {
  const __m512i a = _mm512_srli_epi32(rnd, 8);
  const __m512i even = _mm512_mul_epu32(a, width);  // low 32 bits of each 64-bit lane
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), width_odd);
  const uint32_t e = _mm512_cmplt_epu64_mask(even, off_even), o = _mm512_cmplt_epu64_mask(odd, off_odd);
  return static_cast<__mmask16>(_pdep_u32(e, 0x5555u) | _pdep_u32(o, 0xAAAAu));
}

/// Lanes of a group of 16 values that hold features (j0 = first feature).
inline __mmask16 feature_lanes(int j0, int d) {
  return j0 + 16 <= d ? __mmask16(0xFFFF) : (j0 >= d ? __mmask16(0) : __mmask16((1u << (d - j0)) - 1));
}

/**
 * @brief AVX-512 twin of zipml::quantize_matrix for uniform levels (levels = nullptr).
 * @tparam Bits 1, 2, 4 or 8 (supports_quantize)
 * @tparam E    Double, Naive or Nearest
 * Parameters as zipml::quantize_matrix (without `levels`).
 */
template <int Bits, Sampling E>
void quantize_matrix(const float* X, int n, int d, const float* lo, const float* inv, uint32_t seed, int n_copies,
                     uint64_t* out, const int64_t* rows, int row_begin, int row_end) {
  static_assert(supports_quantize<Bits, E>(), "the AVX-512 quantizer covers 1, 2, 4, 8 bits and Double, Naive, Nearest");
  constexpr int K = values_per_line(Bits, E);
  constexpr int W = planar(E) ? index_bits(Bits, E) : Bits;  // width of the code / index field
  constexpr int B = K * W / 8;                             // bytes of the index plane
  constexpr uint32_t S = max_code(Bits), Q = (kPosOne - 1) / S;
  static_assert(K % 16 == 0, "groups of 16 values");
  const int n_lines = lines_per_row(d, Bits, E);
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i low32 = _mm512_set1_epi64(0xFFFFFFFFll);

  // Codes of one row, one per byte, merged into their planes after the whole row is
  // computed (reading them back right after the narrow stores would stall on store
  // forwarding).
  std::unique_ptr<uint8_t[]> codes(new uint8_t[static_cast<size_t>(n_lines) * K]);
  for (int c = 0; c < n_copies; ++c) {
    for (int i = row_begin; i < (row_end < 0 ? n : row_end); ++i) {
      const float* x = X + (rows == nullptr ? static_cast<int64_t>(i) : rows[i]) * d;
      const __m512i key0 = _mm512_set1_epi32(static_cast<int>(sample_key(seed, 0, c, i)));
      uint8_t* row = reinterpret_cast<uint8_t*>(out + (static_cast<int64_t>(c) * n + i) * row_words);  // little-endian
      std::memset(row, 0, static_cast<size_t>(row_words) * 8);
      for (int l = 0; l < n_lines; ++l) {
        uint8_t* line = row + l * (kLineBits / 8);
        for (int k0 = 0; k0 < K; k0 += 16) {
          const int j0 = l * K + k0;
          const __mmask16 valid = feature_lanes(j0, d);
          // scaled_position: the same float32 operations; padding lanes are position 0
          __m512 t = _mm512_mul_ps(
              _mm512_sub_ps(_mm512_maskz_loadu_ps(valid, x + j0), _mm512_maskz_loadu_ps(valid, lo + j0)),
              _mm512_maskz_loadu_ps(valid, inv + j0));
          t = _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
          const __m512i v =
              _mm512_maskz_cvttps_epu32(valid, _mm512_mul_ps(t, _mm512_set1_ps(static_cast<float>(kPosOne))));
          // uniform_interval and uniform_level (k <= s - 1, so level k = k q)
          __m512i k = _mm512_srli_epi32(
              _mm512_sub_epi32(_mm512_mullo_epi32(_mm512_add_epi32(v, one), _mm512_set1_epi32(S)), one), kPosFrac);
          k = _mm512_min_epu32(k, _mm512_set1_epi32(S - 1));
          const __m512i off = _mm512_sub_epi32(v, _mm512_mullo_epi32(k, _mm512_set1_epi32(Q)));
          const __m512i width =  // level k+1 - level k: q, plus 1 for the top interval
              _mm512_mask_add_epi32(_mm512_set1_epi32(Q), _mm512_cmpeq_epi32_mask(k, _mm512_set1_epi32(S - 1)),
                                    _mm512_set1_epi32(Q), one);
          __m512i code = k;
          if (E == Sampling::Nearest) {
            code = _mm512_mask_add_epi32(k, _mm512_cmpge_epu32_mask(_mm512_add_epi32(off, off), width), k, one);
          } else {
            const __m512i width_odd = _mm512_srli_epi64(width, 32);
            const __m512i off_even = _mm512_slli_epi64(_mm512_and_si512(off, low32), kPosFrac);
            const __m512i off_odd = _mm512_slli_epi64(_mm512_srli_epi64(off, 32), kPosFrac);
            const __m512i index = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32(j0), lane),
                                                     _mm512_set1_epi32(static_cast<int>(kIndexMul)));
            const __m512i rnd = mix32x16(_mm512_xor_si512(key0, index));
            if (E == Sampling::Naive) {
              code = _mm512_mask_add_epi32(k, stochastic_up16(rnd, width, width_odd, off_even, off_odd), k, one);
            } else {  // Double: fine_code, its index in `code` and its fraction bits in their planes
              const __m512i x = _mm512_slli_epi32(off, kFractionBits);
              __m512i u = _mm512_setzero_si512(), uw = _mm512_setzero_si512();
              for (int p = 1; p < (1 << kFractionBits); ++p) {
                const __mmask16 at = _mm512_cmpge_epu32_mask(x, _mm512_add_epi32(uw, width));
                u = _mm512_mask_add_epi32(u, at, u, one);
                uw = _mm512_mask_add_epi32(uw, at, uw, width);
              }
              const __m512i rem = _mm512_sub_epi32(x, uw);
              const __m512i rem_even = _mm512_slli_epi64(_mm512_and_si512(rem, low32), kPosFrac);
              const __m512i rem_odd = _mm512_slli_epi64(_mm512_srli_epi64(rem, 32), kPosFrac);
              const __mmask16 up = stochastic_up16(rnd, width, width_odd, rem_even, rem_odd);
              const __m512i fine = _mm512_mask_add_epi32(
                  _mm512_add_epi32(_mm512_slli_epi32(k, kFractionBits), u), up,
                  _mm512_add_epi32(_mm512_slli_epi32(k, kFractionBits), u), one);
              code = _mm512_srli_epi32(fine, kFractionBits);
              const uint16_t f0 = _mm512_test_epi32_mask(fine, one), f1 = _mm512_test_epi32_mask(fine, _mm512_set1_epi32(2));
              std::memcpy(line + B + k0 / 8, &f0, sizeof f0);
              std::memcpy(line + B + K / 8 + k0 / 8, &f1, sizeof f1);
            }
          }
          if (W == 1) {  // 1-bit codes or indices: the plane is the mask of 1
            const uint16_t bits = _mm512_test_epi32_mask(code, one);
            std::memcpy(line + k0 / 8, &bits, sizeof bits);
          } else if (W > 1) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(codes.get() + j0), _mm512_cvtepi32_epi8(code));
          }
        }
      }
      for (int l = 0; W > 1 && l < n_lines; ++l) {
        uint8_t* line = row + l * (kLineBits / 8);
        const uint8_t* cl = codes.get() + l * K;
        if (W == 8) {
          std::memcpy(line, cl, K);
        } else {  // byte t holds fields t + m*B at bit m*W (layout.hpp: field_pos)
          const __mmask64 plane = B == 64 ? ~__mmask64(0) : ((__mmask64(1) << (B % 64)) - 1);
          __m512i bytes = _mm512_maskz_loadu_epi8(plane, cl);
          for (int m = 1; m < 8 / (W > 0 ? W : 1); ++m)  // fields < 2^W: the 16-bit shift stays inside bytes
            bytes = _mm512_or_si512(bytes, _mm512_slli_epi16(_mm512_maskz_loadu_epi8(plane, cl + m * B), m * W));
          _mm512_mask_storeu_epi8(line, plane, bytes);
        }
      }
    }
  }
}

#endif  // ZIPML_HAVE_AVX512_QUANTIZE

/**
 * @brief Runs the AVX-512 quantizer where this build has it and it covers the call
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
#ifdef ZIPML_HAVE_AVX512_QUANTIZE
  if constexpr (supports_quantize<Bits, E>()) {
    if (levels == nullptr) {
      quantize_matrix<Bits, E>(X, n, d, lo, inv, seed, n_copies, out, rows, row_begin, row_end);
      return true;
    }
  }
#endif
  return false;
}

}  // namespace avx512
}  // namespace zipml
