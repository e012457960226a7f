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

/// draw(key, j + l) (rng.hpp) of the 8 lanes l, from the key in every lane.
__attribute__((always_inline)) inline __m256i draw8(__m256i keys, uint32_t j) {
  constexpr uint32_t m = kIndexMul;  // index * kIndexMul wraps: (j + l) m = j m + l m
  const __m256i lanes = _mm256_setr_epi32(0, static_cast<int>(m), static_cast<int>(2 * m), static_cast<int>(3 * m),
                                          static_cast<int>(4 * m), static_cast<int>(5 * m), static_cast<int>(6 * m),
                                          static_cast<int>(7 * m));
  return mix32x8(_mm256_xor_si256(keys, _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(j * m)), lanes)));
}

/// draw(key, q) (rng.hpp) for q = 0 .. count - 1 into out, 8 at a time (count a multiple of 8).
inline void fill_draws(uint32_t key, uint32_t* out, size_t count) {
  const __m256i keys = _mm256_set1_epi32(static_cast<int>(key));
  for (size_t q = 0; q < count; q += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + q), draw8(keys, static_cast<uint32_t>(q)));
}

}  // namespace avx2
}  // namespace zipml
#endif
