// Synthesis tops: one extern "C" function per bit width and sampling, and the 32-bit
// fixed-point baseline. Each is the engine of hls/include/zipml/engine.hpp specialised at
// compile time (no option structs, pointers or lambdas in its pipelined loops).
//
// Interfaces (docs/HLS.md): packed lines, labels and the model (initial model in, model
// history out) on three AXI4 master bundles, with depths for co-simulation; sizes, schedule
// and the return on the AXI4-Lite control port. `data` is an array of zipml::Line (eight
// 64-bit words) aggregated into one 512-bit beat per line.
#include <cstdint>

#include "zipml/engine.hpp"
#include "zipml_tops.hpp"

using zipml_tops::kMaxFeatures;

// Co-simulation depths (elements), the testbench's largest case: lines, labels, model words.
#define ZIPML_TOP_INTERFACES                                                                                   \
  _Pragma("HLS INTERFACE m_axi port = data bundle = gmem0 offset = slave depth = 4096 max_read_burst_length = 64") \
  _Pragma("HLS AGGREGATE variable = data")                                                                     \
  _Pragma("HLS INTERFACE m_axi port = labels bundle = gmem1 offset = slave depth = 1024")                       \
  _Pragma("HLS INTERFACE m_axi port = model_in bundle = gmem2 offset = slave depth = 1024")                     \
  _Pragma("HLS INTERFACE m_axi port = history bundle = gmem2 offset = slave depth = 8192")                      \
  _Pragma("HLS INTERFACE s_axilite port = n")                                                                   \
  _Pragma("HLS INTERFACE s_axilite port = d")                                                                   \
  _Pragma("HLS INTERFACE s_axilite port = epochs")                                                              \
  _Pragma("HLS INTERFACE s_axilite port = step_shift")                                                          \
  _Pragma("HLS INTERFACE s_axilite port = decay_epochs")                                                        \
  _Pragma("HLS INTERFACE s_axilite port = return")

#define ZIPML_QUANTIZED_TOP(NAME, BITS, SAMPLING)                                                               \
  extern "C" void NAME(const zipml::Line* data, const int32_t* labels, const int32_t* model_in, int32_t* history, \
                       int n, int d, int n_copies, int epochs, int step_shift, int decay_epochs, unsigned seed) {   \
    ZIPML_TOP_INTERFACES                                                                                        \
    _Pragma("HLS INTERFACE s_axilite port = n_copies")                                                          \
    _Pragma("HLS INTERFACE s_axilite port = seed")                                                              \
    zipml::engine_least_squares<BITS, zipml::Sampling::SAMPLING, kMaxFeatures>(                                 \
        data, labels, model_in, history, n, d, n_copies, epochs, step_shift, decay_epochs, seed);               \
  }

ZIPML_QUANTIZED_TOPS(ZIPML_QUANTIZED_TOP)

extern "C" void zipml_sgd_fixed32(const zipml::Line* data, const int32_t* labels, const int32_t* model_in,
                                  int32_t* history, int n, int d, int epochs, int step_shift, int decay_epochs) {
  ZIPML_TOP_INTERFACES
  zipml::engine_fixed32<kMaxFeatures>(data, labels, model_in, history, n, d, epochs, step_shift, decay_epochs);
}
