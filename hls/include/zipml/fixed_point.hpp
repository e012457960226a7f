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

/// floor(sqrt(x)), digit by digit (two result bits per iteration, 32 iterations): the
/// synthesizable integer square root.
inline uint32_t isqrt64(uint64_t x) {
  uint64_t root = 0, bit = uint64_t{1} << 62;
isqrt_loop:
  for (int i = 0; i < 32; ++i) {
    if (x >= root + bit) {
      x -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return static_cast<uint32_t>(root);
}

/// The norm shift of a QSGD vector whose entries are at most `top` in magnitude: the
/// smallest t >= 0 with top <= 2^16 2^t, so that every u_j = ceil(|x_j| / 2^t) <= 2^16
/// and a sum of d < 2^31 squares u_j^2 stays below 2^63.
inline int qsgd_norm_shift(int64_t top) { return grid_shift(top, int64_t{1} << 16); }

/// u^2 with u = ceil(|x| / 2^t): entry x's term of the QSGD norm's sum of squares.
inline uint64_t qsgd_norm_term(int32_t x, int t) {
  const uint64_t a = x < 0 ? uint64_t(-int64_t{x}) : uint64_t(x);
  const uint64_t u = (a + (uint64_t{1} << t) - 1) >> t;
  return u * u;
}

/// R = ceil(sqrt(sum)): the QSGD norm is N = R 2^t >= ||x||_2 >= max |x_j| (R < 2^32).
inline uint32_t qsgd_norm_root(uint64_t sum) {
  const uint32_t r = isqrt64(sum);
  return uint64_t{r} * r < sum ? r + 1 : r;
}

/// x rounded by QSGD (norm-scaled, stochastic) with s levels per sign (s = 2^(b-1) - 1)
/// against the norm N = r 2^t of its vector (|x| <= N): the level xi = floor(|x| s / N),
/// raised by one when rnd r < rem 2^(32 - t) (rem = |x| s mod N: probability
/// ceil(2^32 rem / N) / 2^32, rem / N to within 2^-32, so unbiased to within 2^-32 of a
/// level); the value sign(x) sat32(round(xi N / s)), rounded to nearest (ties up) with
/// one division: xi r = a s + b gives a 2^t + round(b 2^t / s); saturated to +-(2^31 - 1). Every product stays
/// below 2^64 (|x| s < 2^54, rnd r and rem 2^(32 - t) < 2^64, xi r < 2^55).
inline int32_t qsgd_round(int32_t x, uint32_t r, int t, int32_t s, uint32_t rnd) {
  if (r == 0) return 0;
  const uint64_t norm = uint64_t{r} << t;
  const uint64_t a = (x < 0 ? uint64_t(-int64_t{x}) : uint64_t(x)) * uint64_t(s);
  uint64_t xi = a / norm;
  const uint64_t rem = a - xi * norm;
  if (uint64_t{rnd} * r < (rem << (32 - t))) ++xi;
  const uint64_t scaled = xi * r;
  const uint64_t whole = scaled / uint64_t(s), part = scaled - whole * uint64_t(s);
  // round(part 2^t / s) = floor((2 part 2^t + s) / (2 s)); part < s < 2^23
  const uint64_t mag = (whole << t) + ((part << (t + 1)) + uint64_t(s)) / (uint64_t(s) << 1);
  const int64_t m = mag > uint64_t{INT32_MAX} ? int64_t{INT32_MAX} : int64_t(mag);
  return static_cast<int32_t>(x < 0 ? -m : m);
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
