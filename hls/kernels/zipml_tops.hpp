// The synthesis tops of zipml_tops.cpp: their one list, declarations and a table of
// them for host code (the C++ testbench, the Python module's C-simulation bindings).
#pragma once
#include <cstdint>

#include "zipml/engine.hpp"
#include "zipml/format.hpp"

/// X(NAME, BITS, SAMPLING) for every quantized top: plain least squares on uniform
/// levels (dot_mult = round(2^24 / (2^b - 1)) built in), one top per bit width and
/// sampling. The one list: zipml_tops.cpp defines them from it, this header declares
/// them and tabulates them.
#define ZIPML_QUANTIZED_TOPS(X)            \
  X(zipml_sgd_b1_double, 1, Double)        \
  X(zipml_sgd_b1_naive, 1, Naive)          \
  X(zipml_sgd_b2_double, 2, Double)        \
  X(zipml_sgd_b2_naive, 2, Naive)          \
  X(zipml_sgd_b4_double, 4, Double)        \
  X(zipml_sgd_b4_naive, 4, Naive)          \
  X(zipml_sgd_b8_double, 8, Double)        \
  X(zipml_sgd_b8_naive, 8, Naive)

namespace zipml_tops {
/// On-chip model size of the synthesized design (BRAM/URAM words of the model): a call
/// with d above it is out of the design's range, which host code must reject.
constexpr int kMaxFeatures = 8192;
}  // namespace zipml_tops

#define ZIPML_DECLARE_QUANTIZED_TOP(NAME, BITS, SAMPLING)                                                       \
  extern "C" void NAME(const zipml::Line* data, const int32_t* labels, const int32_t* model_in, int32_t* history, \
                       int n, int d, int n_copies, int epochs, int step_shift, int decay_epochs, unsigned seed);
ZIPML_QUANTIZED_TOPS(ZIPML_DECLARE_QUANTIZED_TOP)
#undef ZIPML_DECLARE_QUANTIZED_TOP

/// The 32-bit fixed-point baseline: sixteen Q0.24 positions per line (zipml::engine_fixed32).
extern "C" void zipml_sgd_fixed32(const zipml::Line* data, const int32_t* labels, const int32_t* model_in,
                                  int32_t* history, int n, int d, int epochs, int step_shift, int decay_epochs);

#ifndef __SYNTHESIS__  // host code only: no function pointers where Vitis reads this file
namespace zipml_tops {

using QuantizedTop = void (*)(const zipml::Line*, const int32_t*, const int32_t*, int32_t*, int, int, int, int, int,
                              int, unsigned);

/// A quantized top and the configuration it is specialised for.
struct QuantizedTopEntry {
  const char* name;
  int bits;
  zipml::Sampling sampling;
  QuantizedTop fn;
};

#define ZIPML_TOP_ENTRY(NAME, BITS, SAMPLING) {#NAME, BITS, zipml::Sampling::SAMPLING, NAME},
static const QuantizedTopEntry kQuantizedTops[] = {ZIPML_QUANTIZED_TOPS(ZIPML_TOP_ENTRY)};
#undef ZIPML_TOP_ENTRY

}  // namespace zipml_tops
#endif
