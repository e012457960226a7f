// The SIMD fast paths of sgd_linear (sgd_avx512.hpp, sgd_avx2.hpp): which one this build
// compiles (the widest its instruction set has; sgd_fast.hpp runs it), and the kernels
// they cover.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include "zipml/format.hpp"
#include "zipml/losses.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
#define ZIPML_HAVE_AVX512 1
#elif defined(__AVX2__)
#define ZIPML_HAVE_AVX2 1
#endif

namespace zipml {
namespace simd {

/// The kernels the SIMD SGD paths cover (with uniform levels, full-precision model and
/// gradient): the linear losses on 1, 2, 4 or 8 bits (whole fields per byte) with one
/// code or an index and two rounding bits per value (Double, Naive, Nearest).
template <int Bits, Sampling E, class Loss>
constexpr bool supports_sgd() {
  return (Bits == 1 || Bits == 2 || Bits == 4 || Bits == 8) &&
         (E == Sampling::Double || E == Sampling::Naive || E == Sampling::Nearest) &&
         Contains<LinearLosses, Loss>::value;
}

}  // namespace simd
}  // namespace zipml
