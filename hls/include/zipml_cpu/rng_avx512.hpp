// The counter-based RNG (zipml/rng.hpp) on 16 lanes, for the AVX-512 fast paths.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>

#include "zipml/rng.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace zipml {
namespace avx512 {

/// mix32 (rng.hpp) of 16 lanes.
__attribute__((always_inline)) inline __m512i mix32x16(__m512i x) {
  x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
  x = _mm512_mullo_epi32(x, _mm512_set1_epi32(static_cast<int>(kMixMul1)));
  x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 15));
  x = _mm512_mullo_epi32(x, _mm512_set1_epi32(static_cast<int>(kMixMul2)));
  return _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
}

}  // namespace avx512
}  // namespace zipml
#endif
