// The CPU fast path of quantize_matrix: AVX-512 where the build has it, else AVX2, else
// none (the caller then runs the portable quantizer). Each covers its supports_quantize
// with uniform levels (AVX2 also 3 and 6 bits), and gives the portable quantizer's bits.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include "zipml/quantize.hpp"
#include "zipml_cpu/quantize_avx2.hpp"
#include "zipml_cpu/quantize_avx512.hpp"

namespace zipml {

/// The instruction set of this build's quantizer fast path: "avx512", "avx2" or "none".
#if defined(ZIPML_HAVE_AVX512_QUANTIZE)
constexpr const char* kFastQuantize = "avx512";
#elif defined(ZIPML_HAVE_AVX2_QUANTIZE)
constexpr const char* kFastQuantize = "avx2";
#else
constexpr const char* kFastQuantize = "none";
#endif

/// The formats this build's quantizer fast path covers with uniform levels (its
/// supports_quantize; none without one). AVX2's covers AVX-512's and 3 and 6 bits, and an
/// AVX-512 build has AVX2 too: fast_quantize_matrix runs those widths on AVX2 there.
template <int Bits, Sampling E>
constexpr bool fast_quantize_supports() {
#if defined(ZIPML_HAVE_AVX2_QUANTIZE)
  return avx2::supports_quantize<Bits, E>();
#elif defined(ZIPML_HAVE_AVX512_QUANTIZE)
  return avx512::supports_quantize<Bits, E>();
#else
  return false;
#endif
}

/**
 * @brief Runs the widest quantizer fast path of this build where it covers the call;
 * otherwise does nothing. Parameters as zipml::quantize_matrix.
 * @return true when it ran (out written), false: run the portable quantizer.
 */
template <int Bits, Sampling E, int M>
bool fast_quantize_matrix(const float* X, int n, int d, const float* lo, const float* inv, const uint32_t* levels,
                          uint32_t seed, int n_copies, uint64_t* out, const int64_t* rows = nullptr,
                          int row_begin = 0, int row_end = -1) {
  return avx512::fast_quantize_matrix<Bits, E, M>(X, n, d, lo, inv, levels, seed, n_copies, out, rows, row_begin,
                                                  row_end) ||
         avx2::fast_quantize_matrix<Bits, E, M>(X, n, d, lo, inv, levels, seed, n_copies, out, rows, row_begin,
                                                row_end);
}

}  // namespace zipml
