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

/// The kernels a SIMD SGD path covers (with uniform levels, full-precision model and
/// gradient): the linear losses on 1, 2, 4 or 8 bits (whole fields per byte) and, where
/// the path has kNaturalWidths (its own constant, as kLevelTables), on 3 and 6 bits
/// (natural-order fields that may straddle bytes and words), with one code or an index and
/// two rounding bits per value (Double, Naive, Nearest).
template <int Bits, Sampling E, class Loss, bool kNaturalWidths>
constexpr bool supports_sgd() {
  return (Bits == 1 || Bits == 2 || Bits == 4 || Bits == 8 || (kNaturalWidths && (Bits == 3 || Bits == 6))) &&
         (E == Sampling::Double || E == Sampling::Naive || E == Sampling::Nearest) &&
         Contains<LinearLosses, Loss>::value;
}

/// The run-time options both SIMD paths take (the rest run the portable kernel): an exact
/// model and update (no model_bits, grad_bits) and sample weights; with `avx2` (the AVX2
/// path) also the penalties, a frozen intercept (!opt.fit_intercept) and the model's and
/// steps' rounding onto a grid (Quantization::Grid; its fast_sgd_linear takes them for
/// double data at uniform levels), which the AVX-512 path does not take. Which levels each
/// path takes is its own kLevelTables, read by covers_levels.
inline bool covers_options(const SgdOptions& opt, bool avx2 = false) {
  if (!avx2) return opt.model_bits == 0 && opt.grad_bits == 0 && !opt.reg.penalized() && opt.fit_intercept;
  return (opt.model_bits == 0 && opt.grad_bits == 0) || opt.quantization == Quantization::Grid;
}

/// True when every value of d per-feature level tables of `levels` entries is a Q0.10
/// level in [0, 2^10] (FORMATS.md; what the quantizer writes): then a centred value and a
/// step fit the int32 lanes of a SIMD path. The module takes values in [-2^30, 2^30]; others run
/// the portable kernel.
inline bool unit_level_tables(const int32_t* values, int d, int levels) {
  for (int64_t i = 0; i < int64_t{d} * levels; ++i)
    if (values[i] < 0 || values[i] > (1 << kLevelValueFrac)) return false;
  return true;
}

/// True when every center of level tables (null: none) is a Q0.10 level in [0, 2^10], as
/// the module requires: then a centred value fits the int16 and int32 lanes.
inline bool unit_table_centers(const int32_t* centers, int d) {
  return centers == nullptr || unit_level_tables(centers, d, 1);
}

/// The levels of a call that a SIMD path takes: uniform levels (values = nullptr), and
/// where the path has kTables, per-feature level tables of unit_level_tables.
template <bool kTables>
inline bool covers_levels(const int32_t* values, int d, int levels) {
  return values == nullptr || (kTables && unit_level_tables(values, d, levels));
}

}  // namespace simd
}  // namespace zipml
