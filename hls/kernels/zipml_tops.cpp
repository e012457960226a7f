// Synthesis tops: one extern "C" function per kernel and precision. Each calls the same
// template the CPU module and the C++ testbenches run (hls/include/zipml/sgd.hpp,
// sgd_fp32.hpp), specialised at compile time.
//
// Interfaces (docs/HLS.md): packed data, labels and the model (initial model in, model
// history out) on three separate AXI4 master bundles; sizes, schedule and the return
// on the AXI4-Lite control port (with `seed`: the draws of Double data's samples). `data` is declared as 64-bit words; Vitis HLS widens
// the port to 512 bits (max_widen_bitwidth), so each line is one beat of a burst.
#include <cstdint>

#include "zipml/losses.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_fp32.hpp"
#include "zipml_tops.hpp"

using zipml_tops::kMaxFeatures;

#define ZIPML_QUANTIZED_TOP(NAME, BITS, SAMPLING)                                                             \
  extern "C" void NAME(const uint64_t* data, const int32_t* labels, const int32_t* model_in, int32_t* history, \
                       int n, int d, int n_copies, int epochs, int step_shift, int decay_epochs, int dot_mult,    \
                       unsigned seed) {                                                                           \
    _Pragma("HLS INTERFACE m_axi port = data bundle = gmem0 offset = slave max_widen_bitwidth = 512")         \
    _Pragma("HLS INTERFACE m_axi port = labels bundle = gmem1 offset = slave")                                   \
    _Pragma("HLS INTERFACE m_axi port = model_in bundle = gmem2 offset = slave")                                 \
    _Pragma("HLS INTERFACE m_axi port = history bundle = gmem2 offset = slave")                                  \
    _Pragma("HLS INTERFACE s_axilite port = n")                                                                   \
    _Pragma("HLS INTERFACE s_axilite port = d")                                                                   \
    _Pragma("HLS INTERFACE s_axilite port = n_copies")                                                            \
    _Pragma("HLS INTERFACE s_axilite port = epochs")                                                              \
    _Pragma("HLS INTERFACE s_axilite port = step_shift")                                                          \
    _Pragma("HLS INTERFACE s_axilite port = decay_epochs")                                                        \
    _Pragma("HLS INTERFACE s_axilite port = dot_mult")                                                            \
    _Pragma("HLS INTERFACE s_axilite port = seed")                                                                \
    _Pragma("HLS INTERFACE s_axilite port = return")                                                              \
    zipml::sgd_least_squares<BITS, zipml::Sampling::SAMPLING, kMaxFeatures>(                                   \
        data, labels, n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult, nullptr, model_in, history,   \
        seed);                                                                                                    \
  }

ZIPML_QUANTIZED_TOPS(ZIPML_QUANTIZED_TOP)

/// The fp32 baseline: rows of d float32 values padded to a multiple of 16 (one line),
/// labels in scaled units, the model history as float32.
extern "C" void zipml_sgd_fp32(const float* data, const float* labels, const float* model_in, float* history,
                               int n, int d, int row_stride, int epochs, int step_shift, int decay_epochs) {
#pragma HLS INTERFACE m_axi port = data bundle = gmem0 offset = slave max_widen_bitwidth = 512
#pragma HLS INTERFACE m_axi port = labels bundle = gmem1 offset = slave
#pragma HLS INTERFACE m_axi port = model_in bundle = gmem2 offset = slave
#pragma HLS INTERFACE m_axi port = history bundle = gmem2 offset = slave
#pragma HLS INTERFACE s_axilite port = n
#pragma HLS INTERFACE s_axilite port = d
#pragma HLS INTERFACE s_axilite port = row_stride
#pragma HLS INTERFACE s_axilite port = epochs
#pragma HLS INTERFACE s_axilite port = step_shift
#pragma HLS INTERFACE s_axilite port = decay_epochs
#pragma HLS INTERFACE s_axilite port = return
  zipml::sgd_fp32<zipml::SquaredError, kMaxFeatures>(data, row_stride, labels, n, d, epochs, step_shift, decay_epochs,
                                                     model_in, history);
}
