// Fresh samples every epoch from one stored copy (Double data, docs/FORMATS.md sec. 5).
//
// Each value is stored once, stochastically rounded to a grid 2^kFractionBits times finer
// than its levels: an index i in [0, s] and a fraction f in [0, 3] (two bit planes,
// f = f0 + 2 f1), the position i + f/4 in level units. Every epoch the kernel draws both
// samples afresh: sample m is i + [t_m < f], t_m a uniform 2-bit threshold, so given the
// stored position each sample is unbiased and the two are independent, as double
// sampling needs, while an epoch reads b + 2 bits per value. The stored copy's one-time
// rounding is like naive sampling on a grid 4x finer (16x less variance).
//
// The thresholds come as bit planes, two per sample (t0 and t1 of sample 0, then of
// sample 1, ...), from the draws of the row's stream (kStreamSample, epoch, row): for M
// samples line l takes the 2MK-bit string of draws l D .. l D + D - 1, D = MK/16
// (little-endian: bit b is bit b % 32 of draw l D + b / 32), and plane q is its bits
// q K .. q K + K - 1 (K a multiple of 16). Double sampling draws M = 2 (D = K/8); the
// polynomial estimator of logistic regression M = degree + 1.
// t < f is then bit logic on whole words: up = (f1 & ~t1) | (~(f1 ^ t1) & f0 & ~t0).
#pragma once
#include <cstdint>

#include "format.hpp"
#include "rng.hpp"

namespace zipml {

/// Draws (32 threshold bits each) of a line of K values for M samples: 2 M K threshold
/// bits (two planes per sample; 4K for the two samples of double sampling).
constexpr int threshold_words(int K, int M = 2) { return 2 * M * K / 32; }

/// Key of row `row`'s thresholds in epoch `epoch` under `seed`.
inline uint32_t sample_stream_key(uint32_t seed, int epoch, int row) {
  return stream_key(seed, kStreamSample, static_cast<uint32_t>(epoch), static_cast<uint32_t>(row));
}

/// Rounding bits of the values whose fraction bits are f0, f1 (one value per bit) under
/// thresholds t0, t1: 1 where t1 t0 < f1 f0 as 2-bit numbers.
template <class Word>
constexpr Word resampled_up(Word f0, Word f1, Word t0, Word t1) {
  return static_cast<Word>((f1 & ~t1) | (~(f1 ^ t1) & f0 & ~t0));
}

/// The threshold draws of line l of a row (key: sample_stream_key) for M samples,
/// threshold_words(K, M) of them.
template <int K, int M = 2>
inline void line_thresholds(uint32_t key, int l, uint32_t* t) {
  static_assert(K % 16 == 0, "planes of whole 16-bit words");
  constexpr int D = threshold_words(K, M);
threshold_loop:
  for (int q = 0; q < D; ++q) {
#pragma HLS UNROLL
    t[q] = draw(key, static_cast<uint32_t>(l * D + q));
  }
}

/// Bit k of threshold plane q (t0 of sample 0, t1 of sample 0, t0 of sample 1, ...: plane
/// 2m + p is bit p of sample m's threshold) of a line's draws t (line_thresholds): bit
/// q K + k of their string.
template <int K>
constexpr uint32_t threshold_bit(const uint32_t* t, int q, int k) {
  return (t[(q * K + k) / 32] >> ((q * K + k) % 32)) & 1u;
}

}  // namespace zipml
