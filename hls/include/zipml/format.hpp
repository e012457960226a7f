// Number formats and line layouts shared by every kernel. docs/FORMATS.md is the
// prose version of this file; the module exports every constant (_kernels.constants())
// and a test checks that the Python mirror agrees.
#pragma once
#include <cstdint>
#include <type_traits>

namespace zipml {

/// How a quantized value is stored.
enum class Sampling : int {
  Double = 0,   ///< two samples drawn every epoch from a stored index + 2 fraction bits (resample.hpp)
  Naive = 1,    ///< one stochastic sample: the level code
  Nearest = 2,  ///< deterministic rounding to the nearest level: the level code
  Multi = 3,    ///< M independent samples: interval index + one rounding bit each (Double: M = 2)
};

/// Every sampling, by id: the one list that the module exports (_kernels.Sampling), the
/// quantizer dispatches over and diagnostics reports. A new Sampling value goes here,
/// and the switches below and every kernel's static_assert must then handle it.
constexpr Sampling kSamplings[] = {Sampling::Double, Sampling::Naive, Sampling::Nearest, Sampling::Multi};

/// A sampling as a type (one overload per sampling where C++14 has no if constexpr).
template <Sampling E>
using SamplingTag = std::integral_constant<Sampling, E>;

/// True when `list` holds `v`.
template <class T, int N>
constexpr bool in_list(const T (&list)[N], T v) {
  for (int i = 0; i < N; ++i)
    if (list[i] == v) return true;
  return false;
}

/// True when kSamplings lists the samplings by id: 0, 1, 2, ...
constexpr bool samplings_by_id() {
  int id = 0;
  for (Sampling e : kSamplings)
    if (static_cast<int>(e) != id++) return false;
  return true;
}
static_assert(samplings_by_id(), "kSamplings lists every Sampling in id order 0, 1, 2, ...");

// The switches below list every Sampling and have no default: one that misses a value is
// a compile error under -Wall -Werror (-Wswitch), as in the testbench and synthesis builds.
// The return after each switch is never reached for a valid Sampling.

/// The name of a sampling, as the Python side spells it.
constexpr const char* sampling_name(Sampling e) {
  switch (e) {
    case Sampling::Double:
      return "double";
    case Sampling::Naive:
      return "naive";
    case Sampling::Nearest:
      return "nearest";
    case Sampling::Multi:
      return "multi";
  }
  return "unknown";
}

/// The bit widths the kernels are compiled for: the divisors of 24 up to 8, so that
/// s = 2^bits - 1 divides 2^24 - 1 (uniform levels in closed form).
constexpr int kSupportedBits[] = {1, 2, 3, 4, 6, 8};
/// The sample counts compiled for Multi (polynomial degrees 3, 5, 7 of sgd_logistic).
constexpr int kMultiSamples[] = {4, 6, 8};

/// True for a bit width of kSupportedBits.
constexpr bool supported_bits(int bits) { return in_list(kSupportedBits, bits); }

/// True where the number of samples per value is a parameter (Multi: M); the others
/// store a fixed number (samples_of).
constexpr bool variable_samples(Sampling e) {
  switch (e) {
    case Sampling::Double:
    case Sampling::Naive:
    case Sampling::Nearest:
      return false;
    case Sampling::Multi:
      return true;
  }
  return false;
}

/// Independent samples stored per value: 2 for Double, M for Multi, 1 for Naive and Nearest.
constexpr int samples_of(Sampling e, int multi_samples) {
  switch (e) {
    case Sampling::Double:
      return 2;
    case Sampling::Multi:
      return multi_samples;
    case Sampling::Naive:
    case Sampling::Nearest:
      return 1;
  }
  return 1;
}

/// True for the planar samplings (Double, Multi): an index plane, then one bit plane per
/// fraction bit (Double) or per sample (Multi). Naive and Nearest store one level code per value.
constexpr bool planar(Sampling e) {
  switch (e) {
    case Sampling::Double:
    case Sampling::Multi:
      return true;
    case Sampling::Naive:
    case Sampling::Nearest:
      return false;
  }
  return false;
}

constexpr int kLineBits = 512;   ///< one memory line, the unit the kernel reads per cycle
constexpr int kLineWords = 8;    ///< 64-bit words per line; bit i lives in word i/64, bit i%64
constexpr int kLaneMultiple = 16;  ///< values per line are a multiple of this (SIMD / partition)

constexpr int kPosFrac = 24;                       ///< scaled value in [0,1] as Q0.24 position
constexpr uint32_t kPosOne = 1u << kPosFrac;       ///< the position of 1.0
constexpr int kLabelFrac = 16;                     ///< labels: int32 Q15.16
constexpr int kModelFrac = 24;                     ///< model and intercept: int32 Q7.24
constexpr int kDotDrop = kModelFrac - kLabelFrac;  ///< model bits dropped for the dot product
constexpr int kDotMultFrac = 24;                   ///< dot_mult is Q24 (1/s for uniform levels)
constexpr int kUpdateFrac = 8;                     ///< extra fraction bits of the per-sample step g
constexpr int kMaxShift = 40;                      ///< largest step shift (eta = 2^-40)
constexpr int kMaxFeatureShift = 15;               ///< largest per-feature step multiplier 2^p (sgd_linear)
constexpr int kLevelValueFrac = 10;                ///< level-table values: Q0.10 (1024 = 1.0)
/// Model bits dropped for a level-table dot product: values up to 2^10 times w >> 10
/// (|.| <= 2^21) keep the sum in int32, as the codes' sum against w >> 8; the prediction
/// then shifts acc * dot_mult by 2 bits less (kTableDotFrac), so that it reads it in units of w >> 8.
constexpr int kTableDotDrop = kDotDrop + kLevelValueFrac - 8;
constexpr int kTableDotFrac = kDotMultFrac - (kTableDotDrop - kDotDrop);
/// Largest |level-table value| sgd_linear takes (the module refuses others): a value minus
/// a center (at most 2^10) stays within int32.
constexpr int32_t kMaxTableValue = int32_t{1} << 30;
/// Double data's stored-rounding correction (sgd_linear, SgdOptions::stored_variance): its
/// variances are Q32, and it is applied after every this many samples of a pass (and after
/// the last): a pass over the model per block, not a multiply per value and sample.
constexpr int kVarianceFrac = 32;
constexpr int kCorrectionRows = 32;
constexpr int32_t kTableDotMult = 1 << (kDotMultFrac - kLevelValueFrac);  ///< dot_mult for tables
constexpr int kPolyFrac = 30;  ///< logistic polynomial coefficients and Horner accumulator: Q30 (int64)
/// Sample weights (Regularization::sample_weights): Q16, so a weight of 1 leaves every step exact.
constexpr int kWeightFrac = 16;
/// L2 decay and L1 coefficients per unit step (Regularization::decay, ::l1): Q32, below 2^31 (0.5).
constexpr int kPenaltyFrac = 32;

/// Highest level code: s = 2^bits - 1 (all 2^bits codes are used).
constexpr int max_code(int bits) { return (1 << bits) - 1; }

/// Fraction bits of Double data: each value is stored once on a grid 2^kFractionBits
/// times finer than its levels, as an index and this many fraction bits, from which the
/// kernel draws both samples afresh every epoch (resample.hpp).
constexpr int kFractionBits = 2;

/// Bits of the index field of a planar sampling: Double's index runs over 0..s (the top
/// level has fraction 0), so it takes `bits` bits even at 1 bit; Multi's interval index
/// runs over 0..s-1 and is empty for 1-bit data.
constexpr int index_bits(int bits, Sampling e) { return e == Sampling::Double || bits > 1 ? bits : 0; }

/// Bit planes after the index plane: one per fraction bit (Double) or per sample (Multi).
constexpr int bit_planes(Sampling e, int m = 2) { return e == Sampling::Double ? kFractionBits : samples_of(e, m); }

/// Stored bits per value, before line padding (M: samples of Multi).
constexpr int stored_bits(int bits, Sampling e, int m = 2) {
  return planar(e) ? index_bits(bits, e) + bit_planes(e, m) : bits;
}

/// Values per 512-bit line. Planar samplings pack K index fields, then their bit planes
/// of K bits each, with K rounded down to a multiple of 16.
constexpr int values_per_line(int bits, Sampling e, int m = 2) {
  return planar(e) ? (kLineBits / stored_bits(bits, e, m)) / kLaneMultiple * kLaneMultiple : kLineBits / bits;
}

/// Lines holding one row of d values; the tail of the last line is zero codes.
constexpr int lines_per_row(int d, int bits, Sampling e, int m = 2) {
  return (d + values_per_line(bits, e, m) - 1) / values_per_line(bits, e, m);
}

/// Fields 2 or 4 bits wide are stored strided (see layout.hpp: field_pos); all
/// others in natural order, where 3- and 6-bit fields may straddle two words.
constexpr bool strided_width(int width) { return width == 2 || width == 4; }

}  // namespace zipml
