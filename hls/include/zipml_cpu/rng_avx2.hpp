// The counter-based RNG (zipml/rng.hpp) on 8 lanes, for the AVX2 fast paths.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstddef>
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

/// draw(key, q) (rng.hpp) for q = 0 .. count - 1 into out, 8 at a time (count a multiple of 8).
inline void fill_draws(uint32_t key, uint32_t* out, size_t count) {
  const __m256i keys = _mm256_set1_epi32(static_cast<int>(key));
  const __m256i lanes =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(kIndexMul)));
  for (size_t q = 0; q < count; q += 8) {
    const __m256i index = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(uint32_t(q) * kIndexMul)), lanes);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + q), mix32x8(_mm256_xor_si256(keys, index)));
  }
}

}  // namespace avx2
}  // namespace zipml
#endif
