// Trip counts that the HLS latency report assumes for loops whose count is a runtime
// value (#pragma HLS LOOP_TRIPCOUNT). They are for analysis only: they bound nothing and
// change no result. Loops over features or lines use the kernel's compile-time
// MaxFeatures where it has one; rows, epochs and copies have no compile-time bound, so
// the report assumes the sizes below (docs/HLS.md). Every such loop runs at least once
// (n, d, epochs, n_copies >= 1): min = 1.
#pragma once

namespace zipml {

constexpr int kTripMaxRows = 100000;    ///< samples n per epoch
constexpr int kTripMaxEpochs = 64;      ///< epochs per call
constexpr int kTripMaxCopies = 16;      ///< quantized copies n_copies written by quantize_matrix
constexpr int kTripMaxFeatures = 8192;  ///< features d of the quantizer (no MaxFeatures); the tops' model size

}  // namespace zipml
