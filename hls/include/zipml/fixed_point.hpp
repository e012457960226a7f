// Fixed-point arithmetic of the kernels: rounding shifts, saturation, wrapping int32
// arithmetic without signed-overflow UB, and unbiased rounding onto power-of-two grids.
#pragma once
#include <cstdint>

#include "format.hpp"

namespace zipml {

/// x / 2^s rounded to nearest, ties up (s >= 1; arithmetic shift).
inline int64_t round_shift(int64_t x, int s) { return (x + (int64_t{1} << (s - 1))) >> s; }

inline int32_t saturate32(int64_t x) {
  return static_cast<int32_t>(x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : x));
}

/// Two's-complement wrapping add, subtract and multiply, without signed-overflow UB.
inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t wrap_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
inline int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

/// Smallest k >= 0 with maxabs <= limit * 2^k: the power-of-two scale of a b-bit signed
/// grid (limit = 2^(b-1) - 1 steps each side) that holds every value.
inline int grid_shift(int64_t maxabs, int64_t limit) {
  int k = 0;
grid_loop:
  while ((limit << k) < maxabs && k < 31) {
#pragma HLS LOOP_TRIPCOUNT min = 0 max = 31
    ++k;
  }
  return k;
}

/// x / 2^k rounded stochastically (up with probability (x mod 2^k) / 2^k), using the
/// top k bits of a draw; unbiased. Returns the integer on the 2^k grid.
inline int32_t stochastic_shift(int32_t x, int k, uint32_t rnd) {
  if (k == 0) return x;
  const int64_t q = static_cast<int64_t>(x) >> k;
  const int64_t rem = static_cast<int64_t>(x) - q * (int64_t{1} << k);
  return static_cast<int32_t>(q + ((rnd >> (32 - k)) < static_cast<uint64_t>(rem) ? 1 : 0));
}

/// x rounded stochastically onto the grid of multiples of 2^k: 2^k stochastic_shift(x, k, rnd).
inline int32_t round_to_grid(int32_t x, int k, uint32_t rnd) {
  return static_cast<int32_t>(stochastic_shift(x, k, rnd) * (int64_t{1} << k));
}

/// The step of a centred level value v (v_j - m_j, |v| <= 2^10) of a feature whose step is
/// 2^q times the shared one (0 <= q <= 15): round(g v 2^q / 2^8), saturated to int32, with
/// one rounding (so the multiplier does not multiply a rounding error). g is a per-sample
/// step (|g| < 2^47, sgd.hpp: residual_step); |g v| < 2^57 is capped at 2^55 first, where
/// the result saturates anyway, so nothing overflows int64.
inline int32_t conditioned_step(int64_t g, int32_t v, int q) {
  const int64_t cap = int64_t{1} << 55;
  int64_t x = g * v;
  x = x > cap ? cap : (x < -cap ? -cap : x);
  return saturate32(q >= kUpdateFrac ? x * (int64_t{1} << (q - kUpdateFrac)) : round_shift(x, kUpdateFrac - q));
}

/// Model step for a level of value c (a code, or a table value): round(g * c / 2^8),
/// saturated to int32 (conditioned_step without center or multiplier).
inline int32_t code_step(int64_t g, int32_t c) { return conditioned_step(g, c, 0); }

}  // namespace zipml
