// The CPU fast path of sgd_linear: AVX-512 where the build has it, else AVX2, else none
// (the caller then runs the portable kernel). What each covers: its supports_sgd (from
// simd::supports_sgd and its kNaturalWidths), its kLevelTables and the runtime conditions
// of each fast_sgd_linear.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include "zipml/sgd.hpp"
#include "zipml_cpu/sgd_avx2.hpp"
#include "zipml_cpu/sgd_avx512.hpp"

namespace zipml {

/// The instruction set of this build's SGD fast path: "avx512", "avx2" or "none".
/// kFastSgdTables: whether it also takes per-feature level tables (its kLevelTables).
#if defined(ZIPML_HAVE_AVX512)
constexpr const char* kFastSgd = "avx512";
constexpr bool kFastSgdTables = avx512::kLevelTables;
#elif defined(ZIPML_HAVE_AVX2)
constexpr const char* kFastSgd = "avx2";
constexpr bool kFastSgdTables = avx2::kLevelTables;
#else
constexpr const char* kFastSgd = "none";
constexpr bool kFastSgdTables = false;
#endif

/// The kernels this build's SGD fast path covers (its supports_sgd; none without one).
template <int Bits, Sampling E, class Loss>
constexpr bool fast_sgd_supports() {
#if defined(ZIPML_HAVE_AVX512)
  return avx512::supports_sgd<Bits, E, Loss>();
#elif defined(ZIPML_HAVE_AVX2)
  return avx2::supports_sgd<Bits, E, Loss>();
#else
  return false;
#endif
}

/**
 * @brief Runs the SGD fast path of this build where it covers the call; otherwise does
 * nothing. Parameters as zipml::sgd_linear.
 * @return true when it ran (history and report written), false: run the portable kernel.
 */
template <int Bits, Sampling E, class Loss, int MaxFeatures>
bool fast_sgd_linear(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                     int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* values,
                     const int32_t* model_in, int32_t* history, const SgdOptions& opt = SgdOptions{},
                     const PassReport& report = PassReport{}, const int64_t* rows = nullptr) {
  return avx512::fast_sgd_linear<Bits, E, Loss, MaxFeatures>(data, labels, n, d, n_copies, epochs, step_shift,
                                                              decay_epochs, dot_mult, values, model_in, history, opt,
                                                              report, rows) ||
         avx2::fast_sgd_linear<Bits, E, Loss, MaxFeatures>(data, labels, n, d, n_copies, epochs, step_shift,
                                                            decay_epochs, dot_mult, values, model_in, history, opt,
                                                            report, rows);
}

}  // namespace zipml
