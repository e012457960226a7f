// The SIMD fast paths of sgd_linear (sgd_avx512.hpp, sgd_avx2.hpp): which one this build
// compiles (the widest its instruction set has; sgd_fast.hpp runs it), and the kernels
// they cover.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include "zipml/format.hpp"
#include "zipml/losses.hpp"
#include "zipml/sgd.hpp"

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

/// The run-time options both SIMD paths take (the rest run the portable kernel): uniform
/// levels (values = nullptr), an exact model and update (no model_bits, grad_bits), sample
/// weights without penalties, and a trained intercept (opt.fit_intercept).
inline bool covers_options(const int32_t* values, const SgdOptions& opt) {
  return values == nullptr && opt.model_bits == 0 && opt.grad_bits == 0 && !opt.reg.penalized() && opt.fit_intercept;
}

}  // namespace simd
}  // namespace zipml
