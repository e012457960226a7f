// Counter-based random numbers: a draw is a pure function of (seed, stream, index),
// so any value of any copy can be regenerated in any order, in C++, in NumPy, or in
// hardware (two 32-bit multiplies and three xor-shifts per draw).
#pragma once
#include <cstdint>

namespace zipml {

constexpr uint32_t kMixMul1 = 0x7FEB352Du;     ///< mix32's first odd multiplier
constexpr uint32_t kMixMul2 = 0x846CA68Bu;     ///< mix32's second odd multiplier
constexpr uint32_t kIndexMul = 0x85EBCA77u;    ///< spreads the draw index before mixing
constexpr uint32_t kKeySeedXor = 0x9E3779B9u;  ///< xored into the seed before the first mix

/// Bijective 32-bit mixer: xor-shift / odd-multiply rounds (constants from the
/// public "lowbias32" search). A bijection, so distinct inputs give distinct draws.
constexpr uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= kMixMul1;
  x ^= x >> 15;
  x *= kMixMul2;
  x ^= x >> 16;
  return x;
}

/// Stream purposes (the first stream word), so that data, model and gradient
/// rounding never share draws.
constexpr uint32_t kStreamData = 1u << 16;   ///< | sample number (0, 1, ...)
constexpr uint32_t kStreamModel = 2u << 16;  ///< model rounding: stream (kStreamModel, epoch, row), index j
constexpr uint32_t kStreamGrad = 3u << 16;   ///< gradient rounding: stream (kStreamGrad, epoch, row), index j
/// Double data's two samples, drawn in the kernel: stream (kStreamSample, epoch, row), resample.hpp
constexpr uint32_t kStreamSample = 6u << 16;
/// Host side, no kernel draws it: the row order of each epoch, stream (kStreamOrder, epoch,
/// 0), index = row (the bindings' epoch_order).
constexpr uint32_t kStreamOrder = 5u << 16;

/// Key of the stream (a, b, c) under a seed: mix32 chained over the words.
constexpr uint32_t stream_key(uint32_t seed, uint32_t a, uint32_t b, uint32_t c) {
  uint32_t k = mix32(seed ^ kKeySeedXor);
  k = mix32(k ^ a);
  k = mix32(k ^ b);
  return mix32(k ^ c);
}

/// The draw at position `index` of the stream with key `key`.
constexpr uint32_t draw(uint32_t key, uint32_t index) {
  return mix32(key ^ (index * kIndexMul));
}

}  // namespace zipml
