// The counter-based RNG (zipml/rng.hpp) on 8 lanes, for the AVX2 fast paths.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>

#include "zipml/rng.hpp"

#if defined(__AVX2__)
#include <immintrin.h>

namespace zipml {
namespace avx2 {

/// mix32 (rng.hpp) of 8 lanes.
__attribute__((always_inline)) inline __m256i mix32x8(__m256i x) {
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(static_cast<int>(kMixMul1)));
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(static_cast<int>(kMixMul2)));
  return _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
}

}  // namespace avx2
}  // namespace zipml
#endif
