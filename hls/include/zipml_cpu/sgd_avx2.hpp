// CPU fast path of sgd_linear on AVX2 (integer AVX2 only, no FMA or BMI2), for machines
// without AVX-512: the same arithmetic, bit for bit, on 8 values per instruction.
// Never synthesized; the module and tb_sgd run it through fast_sgd_linear (sgd_fast.hpp),
// and tb_sgd checks it against the golden vectors. How it is fast:
//  - each row is first decoded into one byte per value and sample, in feature order
//    (2- and 4-bit fields are stored strided, layout.hpp: field_pos, so a shift and a mask
//    of consecutive bytes yield consecutive values; 3- and 6-bit fields, in natural order,
//    16 at a time from one broadcast load, a byte shuffle and a multiply-high that shifts
//    each 16-bit lane by its own amount, lanes_avx2.hpp; Double data's two
//    samples are drawn by bit logic on 64 values at a time, resample.hpp, and added to the
//    index bytes 32 at a time); the hot loop then widens 8 codes to int32 with one
//    instruction, whatever the format;
//  - the model stays in feature order (no lane permutation: 8 lanes are 8 features); the
//    passes stop at d (in whole vectors) while the last line's tail is zero, which matters
//    where a line holds 170 or 85 values (3 and 6 bits: up to a line of tail per row);
//  - one pass over the model per row: update with row i, then row i+1's dot product
//    against the updated weights (decoded beforehand), as the AVX-512 path does;
//  - the step round(g c 2^q / 2^8): for 1-, 2- and 3-bit codes without conditioning one
//    permute of the row's table of code_step; else one multiply while |g| 2^q_max stays
//    within lane_step_bits of the largest value (2^30 at 1 bit, 2^23 at 8 bits, 2^21 for
//    level tables, whose values reach 2^10), and larger steps (a diverging run)
//    take a per-value pass with conditioned_step itself;
//  - the hinge's refetching (uniform levels): the band's l1 = sum |w_j| summed in the fused
//    update (or by a pass after any other change of the model); a refetched row's
//    positions centred once, its exact dot product in int64 lanes and its update in int64
//    lanes (even and odd features; the arithmetic shift by sign flips around a logical one);
//  - per-feature level tables (LevelLookup): each decoded row is turned into its int16
//    values minus centers once (1- to 4-bit codes by byte blends of the tables' columns, 6
//    and 8 bits by a gather; one table shared by every feature up to 4 bits by two byte
//    shuffles), which the lanes widen as codes; the dot product against w >> 10 wraps in
//    int32 lanes as the codes' (sgd.hpp's dot_drop);
//  - the penalties in the same pass (PenaltyLanes, lanes_avx2.hpp): the L2 decay's product
//    in int64 lanes, its high halves shifted as round_shift, the L1 step a clamp; rows
//    without a step take a pass of their own, as the portable kernel's penalize, and a
//    refetched row's update decays and thresholds in its lanes;
//  - the model's and the steps' rounding onto a grid (GridLanes, lanes_avx2.hpp; draws by
//    draw8, rng_avx2.hpp) below d: the steps' in the fused pass; the model's in a dot pass of
//    its own after it, its grid from a pass for the updated model's largest weight.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "zipml/format.hpp"
#include "zipml/losses.hpp"
#include "zipml/resample.hpp"
#include "zipml/sgd.hpp"
#include "zipml_cpu/lanes_avx2.hpp"
#include "zipml_cpu/rng_avx2.hpp"
#include "zipml_cpu/sgd_simd.hpp"

#ifdef ZIPML_HAVE_AVX2
#include <immintrin.h>
#endif

namespace zipml {
namespace avx2 {

/// Per-feature level tables run here (simd::covers_levels).
constexpr bool kLevelTables = true;
/// 3- and 6-bit data run here too (simd::supports_sgd).
constexpr bool kNaturalWidths = true;

/// The kernels this path covers: simd::supports_sgd with kNaturalWidths.
template <int Bits, Sampling E, class Loss>
constexpr bool supports_sgd() {
  return simd::supports_sgd<Bits, E, Loss, kNaturalWidths>();
}

#ifdef ZIPML_HAVE_AVX2

#define ZIPML_INLINE __attribute__((always_inline))

/**
 * @brief Rows of packed lines decoded into one level code per byte, in feature order
 * (value k of line l at l K + k): `first` and `second` the codes of the two samples
 * (the same array for Naive and Nearest, whose one stored code serves both).
 *
 * Double: the samples are drawn as resample.hpp says (index + [t < f], never above the
 * top code, as decode_resampled), from the row's threshold draws: the rounding bits by
 * bit logic on 64 values at a time, then added to the index bytes 32 at a time.
 */
template <int Bits, Sampling E>
struct RowCodes {
  static constexpr int K = values_per_line(Bits, E);
  static constexpr int W = E == Sampling::Double ? index_bits(Bits, E) : Bits;  // index or code plane
  static constexpr int B = K * W / 8;                                            // its bytes
  static constexpr int S = max_code(Bits);
  static constexpr bool kDouble = E == Sampling::Double;
  static_assert((K % 16 == 0 || !kDouble) && (!strided_width(W) || B % 8 == 0),
                "Double: planes of whole 16-bit words; strided planes of whole 8-byte chunks");
  int n_lines, blocks;                 // blocks: 32-value blocks covering the row and what unpack_plane writes past it
  std::vector<uint8_t> first, second;  // 32 blocks of codes each (second: Double only)
  std::vector<uint8_t> up[2];          // Double: each sample's rounding bits, one per value
  std::vector<uint32_t> draws;         // Double: one row's threshold draws, whole vectors

  explicit RowCodes(int lines)
      : n_lines(lines),
        blocks(((lines - 1) * K + unpacked_bytes(W, K) + 31) / 32),
        first(size_t(blocks) * 32),
        second(kDouble ? size_t(blocks) * 32 : 0),
        up{std::vector<uint8_t>(kDouble ? size_t(blocks) * 4 : 0), std::vector<uint8_t>(kDouble ? size_t(blocks) * 4 : 0)},
        draws(kDouble ? (size_t(lines) * threshold_words(K) + 7) / 8 * 8 : 0) {}

  const uint8_t* second_codes() const { return kDouble ? second.data() : first.data(); }

  /// The K index (Double) or code bytes of one line, in value order.
  static void indices(const uint8_t* line, uint8_t* out) { unpack_plane<W, K>(line, out); }

  /// resampled_up of `Word`-wide chunks at value c of a line: fraction planes at `f`, the
  /// line's threshold planes at `t` (t0, t1 of sample 0, then of sample 1), the rounding
  /// bits of the two samples written at bit `at` of up[0] and up[1].
  template <class Word>
  ZIPML_INLINE void resample_chunk(const uint8_t* f, const uint8_t* t, int c, int at) {
    Word f0, f1, t00, t01, t10, t11;
    std::memcpy(&f0, f + c / 8, sizeof(Word));
    std::memcpy(&f1, f + K / 8 + c / 8, sizeof(Word));
    std::memcpy(&t00, t + c / 8, sizeof(Word));
    std::memcpy(&t01, t + K / 8 + c / 8, sizeof(Word));
    std::memcpy(&t10, t + 2 * K / 8 + c / 8, sizeof(Word));
    std::memcpy(&t11, t + 3 * K / 8 + c / 8, sizeof(Word));
    const Word u0 = resampled_up<Word>(f0, f1, t00, t01), u1 = resampled_up<Word>(f0, f1, t10, t11);
    std::memcpy(up[0].data() + at / 8, &u0, sizeof(Word));
    std::memcpy(up[1].data() + at / 8, &u1, sizeof(Word));
  }

  /// Decodes a row (key: its sample_stream_key; unused but for Double) into first and second.
  void decode(const uint64_t* row, uint32_t key) {
    decode(row, key, [this](int b, __m256i first_codes, __m256i second_codes) ZIPML_INLINE {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(first.data() + 32 * b), first_codes);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(second.data() + 32 * b), second_codes);
    });
  }

  /// Decodes a row; Double's two samples go to sink(b, first, second), 32 values of block b
  /// at a time (`first` holds the indices after), Naive and Nearest codes to `first`.
  template <class Sink>
  void decode(const uint64_t* row, uint32_t key, Sink&& sink) {
    // the row's threshold draws l D .. l D + D - 1 of each line are draws 0.. of the row
    if (kDouble) fill_draws(key, draws.data(), draws.size());
    for (int l = 0; l < n_lines; ++l) {
      const uint8_t* line = reinterpret_cast<const uint8_t*>(row + l * kLineWords);  // little-endian host
      indices(line, first.data() + l * K);
      if (kDouble) {
        const uint8_t* t = reinterpret_cast<const uint8_t*>(draws.data() + l * threshold_words(K));
        int c = 0;
        for (; c + 64 <= K; c += 64) resample_chunk<uint64_t>(line + B, t, c, l * K + c);
        for (; c < K; c += 16) resample_chunk<uint16_t>(line + B, t, c, l * K + c);
      }
    }
    if (kDouble) {  // index + 1 where a sample rounds up, but never above the top code (FORMATS.md sec. 5)
      const __m256i top = _mm256_set1_epi8(static_cast<char>(S));
      for (int b = 0; b < blocks; ++b) {
        const __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first.data() + 32 * b));
        const __m256i at_top = _mm256_cmpeq_epi8(index, top);  // where the index is the top: no step up
        sink(b, _mm256_sub_epi8(index, _mm256_andnot_si256(at_top, bit_bytes32(up[0].data() + 4 * b))),
             _mm256_sub_epi8(index, _mm256_andnot_si256(at_top, bit_bytes32(up[1].data() + 4 * b))));
      }
    }
  }
};

/**
 * @brief Per-feature level tables as the lanes read them: the value of each code of each
 * feature minus the feature's center (LinearRow::level_value - center: lanes past d read
 * feature 0's table, uncentred), and the lookup of a decoded row's codes into int16
 * values (|centred value| <= 2^10), which the lanes widen as they widen codes.
 * kColumns: the centred values in int16 columns (code k of feature j at k stride + j; the
 * stride a cache line more than the row, so that the S + 1 loads of 16 features do not
 * share an L1 set), 16 features' values chosen among the S + 1 column vectors by a tree of
 * S byte blends on the code bits;
 * else by feature (j (S + 1) + k), gathered. The default: columns for 1 to 4 bits (4-11x
 * faster than gathers on Zen 3, 2.1x at 4 bits), gathers for 6 and 8 bits (at 6 the
 * blends are 1.7x slower; docs/BENCH.md, scripts/level_lookup_speed.cpp).
 * Where every feature has the same table (quantize's levels_method='shared'), the lookup
 * needs no per-feature table: up to 16 levels are two byte shuffles of 32 codes (the
 * values' low and high bytes), 64 and 256 gathered from the one table; the centers are
 * subtracted in int16 lanes.
 */
template <int S, bool kColumns = (S <= 15)>
class LevelLookup {
  static_assert(!kColumns || S <= 15, "a tree of blends for at most 16 levels");

 public:
  /// The values' buffer length for `padded` features: whole vectors of 32 (the shuffles').
  static int buffer_size(int padded) { return (padded + 31) / 32 * 32; }

  LevelLookup(const int32_t* values, const int32_t* centers, int d, int padded)
      : padded_(padded), stride_(buffer_size(padded) + 32), shared_(d > 0) {
    for (int64_t i = S + 1; shared_ && i < int64_t{d} * (S + 1); ++i) shared_ = values[i] == values[i % (S + 1)];
    if (shared_) {  // one table, and the centers (0 past d: those lanes read the table uncentred)
      table_.assign(values, values + S + 1);
      for (int k = 0; k <= S && S <= 15; ++k) {  // the shuffles' tables: each value's low and high byte
        low_bytes_[k] = static_cast<uint8_t>(values[k] & 0xFF);
        high_bytes_[k] = static_cast<uint8_t>(values[k] >> 8);
      }
      if (centers == nullptr) return;
      centers_.assign(buffer_size(padded), 0);
      for (int j = 0; j < d && centers != nullptr; ++j) centers_[j] = static_cast<int16_t>(centers[j]);
      return;
    }
    auto centred = [&](int j, int k) {
      return values[size_t(j < d ? j : 0) * (S + 1) + k] - (centers != nullptr && j < d ? centers[j] : 0);
    };
    if (kColumns) {
      columns_.assign(size_t(stride_) * (S + 1), 0);
      for (int j = 0; j < padded; ++j)
        for (int k = 0; k <= S; ++k) columns_[size_t(k) * stride_ + j] = static_cast<int16_t>(centred(j, k));
    } else {
      table_.resize(size_t(padded) * (S + 1));
      for (int j = 0; j < padded; ++j)
        for (int k = 0; k <= S; ++k) table_[size_t(j) * (S + 1) + k] = centred(j, k);
    }
  }

  /// Whether 32 codes at a time are looked up in registers (block): a shared table of at
  /// most 16 levels.
  bool in_registers() const { return shared_ && S <= 15; }

  /// in_registers: the centred values of the 32 codes of features j.. in `codes`, written
  /// to out + j (j < padded, a multiple of 32).
  ZIPML_INLINE void block(__m256i codes, int16_t* out, int j) const {
    const __m256i low = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(low_bytes_)));
    const __m256i high = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(high_bytes_)));
    // codes 0-7, 16-23 | 8-15, 24-31, so that unpacking each half's low and high bytes
    // pairs values 0-15 and 16-31
    const __m256i c = _mm256_permute4x64_epi64(codes, 0xD8);
    const __m256i lo = _mm256_shuffle_epi8(low, c), hi = _mm256_shuffle_epi8(high, c);
    store_centred(out, j, _mm256_unpacklo_epi8(lo, hi));
    store_centred(out, j + 16, _mm256_unpackhi_epi8(lo, hi));
  }

  /// The centred values of the `padded` codes at `codes` (each at most S), written to out
  /// (buffer_size(padded) values; codes readable that far).
  void operator()(const uint8_t* codes, int16_t* out) const {
    if (shared_) {
      shared_lookup(codes, out);
      return;
    }
    if constexpr (kColumns) {  // 16 features at a time (the buffers hold whole vectors of 32)
      for (int j = 0; j < padded_; j += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j),
                            pick<0, S + 1>(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + j))), j));
    } else {
      const __m256i lane = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(S + 1));
      for (int j = 0; j < padded_; j += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + j),
                         narrow(_mm256_i32gather_epi32(table_.data() + size_t(j) * (S + 1),
                                                       _mm256_add_epi32(lane, widen8(codes + j)), 4)));
    }
  }

 private:
  void shared_lookup(const uint8_t* codes, int16_t* out) const {
    if constexpr (S <= 15) {  // the values' low and high bytes by two byte shuffles, 32 codes at a time
      for (int j = 0; j < padded_; j += 32) block(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + j)), out, j);
    } else {
      for (int j = 0; j < padded_; j += 8) {
        __m128i v = narrow(_mm256_i32gather_epi32(table_.data(), widen8(codes + j), 4));
        if (!centers_.empty()) v = _mm_sub_epi16(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(centers_.data() + j)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + j), v);
      }
    }
  }

  /// 8 int32 lanes (each within int16) as 8 int16 values (the packing works per 128-bit half).
  ZIPML_INLINE static __m128i narrow(__m256i v) {
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packs_epi32(v, v), 0xD8));
  }

  /// 16 values minus the centers of features j.. (if any), written to out + j.
  ZIPML_INLINE void store_centred(int16_t* out, int j, __m256i v) const {
    if (!centers_.empty()) v = _mm256_sub_epi16(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(centers_.data() + j)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), v);
  }

  ZIPML_INLINE __m256i column(int k, int j) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns_.data() + size_t(k) * stride_ + j));
  }

  /// The value of 16 features' codes c (int16 lanes) among the Count columns from First
  /// (First a multiple of Count): the two halves' values, chosen by the code bit that
  /// splits them, moved onto both bytes' top bits by one multiply (c 2^(7-k) + c 2^(15-k):
  /// the two shifted copies of a code below 16 do not overlap, so nothing carries).
  template <int First, int Count>
  ZIPML_INLINE __m256i pick(__m256i c, int j) const {
    if constexpr (Count == 1) {
      return column(First, j);
    } else {
      constexpr int kBit = __builtin_ctz(Count) - 1;
      const __m256i on_top = _mm256_mullo_epi16(c, _mm256_set1_epi16(static_cast<int16_t>((1 << (7 - kBit)) | (1 << (15 - kBit)))));
      return _mm256_blendv_epi8(pick<First, Count / 2>(c, j), pick<First + Count / 2, Count / 2>(c, j), on_top);
    }
  }

  int padded_, stride_;
  bool shared_;                    // every feature's table is table_ (S + 1 values)
  std::vector<int32_t> table_;     // shared, or per feature by feature (j (S + 1) + k) for gathers
  std::vector<int16_t> columns_;   // kColumns: per-feature centred values by code (k stride + j)
  std::vector<int16_t> centers_;   // shared tables with centers only
  alignas(16) uint8_t low_bytes_[16] = {}, high_bytes_[16] = {};  // shared tables of up to 16 levels
};

/// A row's dot product sum_j v_j (w_j >> k) in 8 lanes: wrapping in int32 lanes (the
/// codes' and the level tables' sums), exact in int64 lanes (refetched rows' positions).
template <bool kWide>
struct DotLanes {
  __m256i acc = _mm256_setzero_si256();

  ZIPML_INLINE void add(__m256i v, __m256i w) {
    if constexpr (kWide) {  // |v| < 2^25 (refetched positions), |w| < 2^23: even and odd lanes' 64-bit products
      acc = _mm256_add_epi64(acc, _mm256_mul_epi32(v, w));
      acc = _mm256_add_epi64(acc, _mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(w, 32)));
    } else {
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(v, w));
    }
  }

  int64_t sum() const {
    if constexpr (kWide) {
      alignas(32) int64_t lanes[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
      return lanes[0] + lanes[1] + lanes[2] + lanes[3];
    } else {
      return reduce_add_wrapping(acc);
    }
  }
};

/**
 * @brief AVX2 twin of zipml::sgd_linear (same results): `values` nullptr (uniform levels)
 * or, with kTables, level tables of simd::unit_level_tables; `feature_shifts`, `centers`,
 * `seed`, `full` (the hinge's refetch positions: uniform levels only) and
 * `stored_variance` as SgdOptions's, `rows` as sgd_epochs's (kConditioned: feature_shifts
 * or centers is non-null; a null one counts as all 0); `reg`: sample weights and the
 * penalties (L2 decay before each step, the L1 step after it, as Regularization's);
 * `fit_intercept` false: the intercept keeps model_in's value, `model_bits` and `grad_bits`
 * the model's and the steps' rounding, Grid only and model_bits never with refetching, as
 * SgdOptions's (kRounds: model_bits or grad_bits > 0; the plain instance has no rounding code).
 */
template <int Bits, Sampling E, class Loss, bool kConditioned, bool kTables, bool kRounds>
void sgd_linear_lanes(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                      int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* values,
                      const int32_t* model_in, int32_t* history, const uint8_t* feature_shifts,
                      const int32_t* centers, uint32_t seed, const uint32_t* full, const PassReport& report,
                      const int64_t* rows, const int32_t* stored_variance, const Regularization& reg,
                      bool fit_intercept, int model_bits, int grad_bits) {
  static_assert(supports_sgd<Bits, E, Loss>(), "the AVX2 SGD covers the linear losses on 1, 2, 3, 4, 6, 8 bits");
  constexpr int K = values_per_line(Bits, E);
  constexpr int S = max_code(Bits);
  constexpr bool kDouble = E == Sampling::Double;
  constexpr bool kSecond = kDouble && Loss::kSecondSample;
  constexpr bool kTabled = !kTables && !kConditioned && S <= 7;  // the steps of all codes fit one 8-entry permute
  constexpr bool kCentred = kConditioned && !kTables;            // centers subtracted in the lanes (tables: in LevelLookup)
  constexpr int32_t kValueMax = kTables ? (1 << kLevelValueFrac) : S;  // the largest |centred value|
  constexpr int kLaneStepBits = lane_step_bits(kValueMax);  // |g| 2^q below 2^this: the lanes' steps are exact
  const int n_lines = lines_per_row(d, Bits, E);
  // features and the zero codes of the last line's tail, in whole vectors of 8 (Naive and
  // Nearest lines of 3 and 6 bits hold 170 and 85 values: the decoded codes past the last
  // line are 0 up to the decode buffers' end)
  const int padded = (n_lines * K + 7) / 8 * 8;
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  // The model, and the conditioning's centers and step exponents, in feature order; 0
  // past d, where the codes are 0 too, so with uniform levels those weights stay 0.
  std::vector<int32_t> w(padded, 0), center(kCentred ? padded : 0, 0), exponent(kConditioned ? padded : 0, 0);
  int pmax = 0;
  for (int j = 0; j < d; ++j) {
    w[j] = model_in[j];
    if (kCentred) center[j] = centers != nullptr ? centers[j] : 0;
    if (kConditioned) {
      exponent[j] = feature_shifts != nullptr ? feature_shifts[j] : 0;
      pmax = exponent[j] > pmax ? exponent[j] : pmax;
    }
  }
  int32_t intercept = model_in[d];
  const bool penalized = reg.penalized();
  PenaltyLanes penalties(reg, d, padded);
  // Model and gradient rounding (Grid): only weights and steps below d are rounded, as in
  // sgd.hpp; `whole` features fill whole vectors, the vector from it holds d's lanes.
  const bool rounds_model = kRounds && model_bits > 0, rounds_grad = kRounds && grad_bits > 0;
  const int whole = d / 8 * 8;
  const __m256i below_d = _mm256_cmpgt_epi32(_mm256_set1_epi32(d - whole), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  // 8 lanes from j rounded onto `grid` with the draws (key, j..j+7) where below d
  auto rounded_below_d = [&](__m256i x, int j, const GridLanes& grid, __m256i keys) ZIPML_INLINE {
    if (j < whole) return grid(x, draw8(keys, static_cast<uint32_t>(j)));
    if (j >= d) return x;
    return _mm256_blendv_epi8(x, grid(x, draw8(keys, static_cast<uint32_t>(j))), below_d);
  };
  // max_j<d |w_j| (sgd.hpp's maxabs_loop), |INT32_MIN| = 2^31 read unsigned
  auto model_maxabs = [&]() {
    __m256i top = _mm256_setzero_si256();
    for (int j = 0; j < whole; j += 8)
      top = _mm256_max_epu32(top, _mm256_abs_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&w[j]))));
    if (whole < d)
      top = _mm256_max_epu32(
          top, _mm256_and_si256(_mm256_abs_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&w[whole]))), below_d));
    alignas(32) uint32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), top);
    uint32_t most = 0;
    for (uint32_t v : lanes) most = v > most ? v : most;
    return int64_t{most};
  };
  RowCodes<Bits, E> codes[2] = {RowCodes<Bits, E>(n_lines), RowCodes<Bits, E>(n_lines)};
  // Level tables: the centred values of each row's samples (second: Double only), and their lookup.
  const LevelLookup<S> lookup = kTables ? LevelLookup<S>(values, centers, d, padded) : LevelLookup<S>(nullptr, nullptr, 0, 0);
  std::vector<int16_t> table_values[2][2];
  for (auto& row_values : table_values)
    for (int s = 0; s < (kTables ? (kDouble ? 2 : 1) : 0); ++s) row_values[s].resize(LevelLookup<S>::buffer_size(padded));
  // The lanes' inputs of row buffer b: its first and second sample, codes or table values.
  auto first_of = [&](int b) {
    if constexpr (kTables) return static_cast<const int16_t*>(table_values[b][0].data());
    else return static_cast<const uint8_t*>(codes[b].first.data());
  };
  auto second_of = [&](int b) {
    if constexpr (kTables) return static_cast<const int16_t*>(table_values[b][kDouble ? 1 : 0].data());
    else return codes[b].second_codes();
  };
  // Lanes from span (d in whole vectors) to padded hold the last line's tail only (170 and
  // 85 values per line at 3 and 6 bits leave up to a line of them). While their weights
  // are 0 (tail_clean) and a row's updating sample is 0 there (tail_zero: the quantizer's
  // zero codes, with uniform levels or tables whose level 0 is 0), that row's step leaves
  // them 0 and every dot product gets 0 from them, so its pass stops at span. Other data
  // (codes past d in a hand-made file) makes every later pass take them, as the portable
  // kernel does.
  const int span = (d + 7) / 8 * 8;
  bool tail_clean = true, tail_zero[2] = {true, true};
  constexpr int kValueBytes = kTables ? 2 : 1;  // int16 table values or code bytes
  const ZeroBytes tail_is_zero(span * kValueBytes, padded * kValueBytes);
  auto decode = [&](int b, const uint64_t* row, uint32_t key) {
    if (kTables && kDouble && lookup.in_registers()) {  // both samples looked up as they are drawn
      int16_t* first_values = table_values[b][0].data();
      int16_t* second_values = table_values[b][1].data();
      codes[b].decode(row, key, [&](int k, __m256i first_codes, __m256i second_codes) ZIPML_INLINE {
        if (32 * k >= padded) return;
        lookup.block(first_codes, first_values, 32 * k);
        lookup.block(second_codes, second_values, 32 * k);
      });
    } else {
      codes[b].decode(row, key);
      if constexpr (kTables) {
        lookup(codes[b].first.data(), table_values[b][0].data());
        if (kDouble) lookup(codes[b].second.data(), table_values[b][1].data());
      }
    }
    tail_zero[b] = tail_is_zero(second_of(b));
  };

  // The centred values of 8 features: codes minus centers, or the looked-up table values.
  auto lane_values = [&](const auto* c, int j) ZIPML_INLINE {
    if constexpr (kTables) {
      return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + j)));
    } else {
      const __m256i v = widen8(c + j);
      return kCentred ? _mm256_sub_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&center[j]))) : v;
    }
  };
  constexpr int kDrop = kTables ? kTableDotDrop : kDotDrop;      // sgd.hpp's dot_drop
  constexpr int kFrac = kTables ? kTableDotFrac : kDotMultFrac;  // and dot_frac
  auto dropped = [&](__m256i wv) ZIPML_INLINE { return _mm256_srai_epi32(wv, kDrop); };
  // sum_j (v_j - m_j) (w_j >> kDrop) of sample i of epoch e, wrapping in int32 lanes; with
  // model rounding w rounded first (sgd.hpp's dot_loop): the grid from its largest weight,
  // the draws of stream (kStreamModel, e, i)
  auto rounded_dot = [&](const auto* c, int e, int i) {
    DotLanes<false> acc;
    const int end = tail_clean ? span : padded;
    const GridLanes grid(vector_rounding(model_bits, Quantization::Grid, model_maxabs()).k);
    const __m256i keys = _mm256_set1_epi32(
        static_cast<int>(stream_key(seed, kStreamModel, static_cast<uint32_t>(e), static_cast<uint32_t>(i))));
    for (int j = 0; j < end; j += 8)
      acc.add(lane_values(c, j),
              dropped(rounded_below_d(_mm256_loadu_si256(reinterpret_cast<__m256i*>(&w[j])), j, grid, keys)));
    return acc;
  };
  auto dot = [&](const auto* c, int e, int i) {
    if constexpr (kRounds) {
      if (rounds_model) return rounded_dot(c, e, i);
    }
    DotLanes<false> acc;
    for (int j = 0, end = tail_clean ? span : padded; j < end; j += 8)
      acc.add(lane_values(c, j), dropped(_mm256_loadu_si256(reinterpret_cast<__m256i*>(&w[j]))));
    return acc;
  };
  // the prediction (Q16) from a dot product's sum, wrapped to int32 as sgd.hpp's
  auto prediction = [&](int64_t sum) {
    return linear_prediction(int64_t{static_cast<int32_t>(static_cast<uint32_t>(sum))}, intercept, dot_mult, kFrac);
  };

  // Refetching (the hinge with `full`, sgd.hpp): a row whose margin test could go either
  // way is read at full precision, its positions centred once into centred_row (p_j - m_j
  // dot_mult, Q0.24, |.| < 2^25; 0 from d on), for its exact dot product and its update;
  // l1 = sum_j |w_j| (the band's width) follows the model: summed in the fused update, or
  // by a pass over the model after any other change.
  const bool refetching = Loss::kRefetch && full != nullptr;  // never with level tables (fast_sgd_linear)
  std::vector<int32_t> centred_row(refetching ? padded : 0, 0);
  auto load_row = [&](const uint32_t* p) {
    const __m256i dm = _mm256_set1_epi32(dot_mult);
    int j = 0;
    for (; j + 8 <= d; j += 8) {
      __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + j));
      if (kCentred) c = _mm256_sub_epi32(c, _mm256_mullo_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&center[j])), dm));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(&centred_row[j]), c);
    }
    for (; j < d; ++j) centred_row[j] = wrap_sub(static_cast<int32_t>(p[j]), kCentred ? wrap_mul(center[j], dot_mult) : 0);
  };
  // sum_j (p_j - m_j dot_mult) (w_j >> 8), exact in int64 (sgd.hpp's refetch_dot_loop)
  auto refetch_dot = [&]() {
    DotLanes<true> sum;
    for (int j = 0; j < d; j += 8)
      sum.add(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&centred_row[j])),
              dropped(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&w[j]))));
    return sum.sum();
  };
  // w_j -= sat32(round(r (p_j - m_j dot_mult) 2^q_j / 2^(16 + shift))) between the
  // penalties `pen` (sgd.hpp's refetch_update_loop), in int64 lanes: even features, then
  // odd ones; AVX2 has no 64-bit arithmetic shift, so x >> s = ~(~x >>> s) for negative x.
  auto refetch_update = [&](int64_t r, int shift, const PenaltyLanes::Step& pen) {
    if (r < INT32_MIN || r > INT32_MAX) {  // the hinge's weighted residual is int32: never, but exact if so
      for (int j = 0; j < d; ++j) {
        const int32_t step =
            saturate32(round_shift(r * centred_row[j], kLabelFrac + shift - (kConditioned ? exponent[j] : 0)));
        w[j] = reg.stepped(w[j], step, j, shift);
      }
      return;
    }
    const __m256i r64 = _mm256_set1_epi64x(r), base = _mm256_set1_epi64x(kLabelFrac + shift);
    const __m256i one = _mm256_set1_epi64x(1), zero = _mm256_setzero_si256();
    const __m256i top = _mm256_set1_epi64x(INT32_MAX), bottom = _mm256_set1_epi64x(INT32_MIN);
    auto steps = [&](__m256i c, __m256i q) ZIPML_INLINE {  // c, q: int32 in the low half of int64 lanes
      const __m256i s = _mm256_sub_epi64(base, q);
      const __m256i x = _mm256_add_epi64(_mm256_mul_epi32(c, r64), _mm256_sllv_epi64(one, _mm256_sub_epi64(s, one)));
      const __m256i sign = _mm256_cmpgt_epi64(zero, x);
      __m256i y = _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), s), sign);
      y = _mm256_blendv_epi8(y, top, _mm256_cmpgt_epi64(y, top));
      return _mm256_blendv_epi8(y, bottom, _mm256_cmpgt_epi64(bottom, y));
    };
    const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFF);
    for (int j = 0; j < d; j += 8) {
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&centred_row[j]));
      const __m256i q = kConditioned ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&exponent[j]))
                                     : _mm256_setzero_si256();
      const __m256i even = steps(c, _mm256_and_si256(q, low32));
      const __m256i odd = steps(_mm256_srli_epi64(c, 32), _mm256_srli_epi64(q, 32));
      __m256i* wp = reinterpret_cast<__m256i*>(&w[j]);
      const __m256i wv = _mm256_sub_epi32(pen.decayed(_mm256_loadu_si256(wp), j),
                                          _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA));
      _mm256_storeu_si256(wp, pen.thresholded(wv, j));
    }
  };
  // sum of |w| of 8 int32 lanes into 4 int64 lanes (|INT32_MIN| = 2^31: read unsigned)
  auto add_abs = [](__m256i sum, __m256i v) ZIPML_INLINE {
    const __m256i a = _mm256_abs_epi32(v);
    sum = _mm256_add_epi64(sum, _mm256_and_si256(a, _mm256_set1_epi64x(0xFFFFFFFF)));
    return _mm256_add_epi64(sum, _mm256_srli_epi64(a, 32));
  };
  auto sum64 = [](__m256i v) {
    alignas(32) int64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
  };
  auto model_l1 = [&]() {
    __m256i sum = _mm256_setzero_si256();
    for (int j = 0; j < padded; j += 8) sum = add_abs(sum, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&w[j])));
    return sum64(sum);
  };

  EpochCounts counts;
  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const PenaltyLanes::Step pen = penalties.at_step(shift);  // this epoch's, in a local
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
    auto row_of = [&](int i) { return copy + (rows == nullptr ? int64_t{i} : rows[i]) * row_words; };
    decode(0, row_of(0), sample_stream_key(seed, e, 0));
    DotLanes<false> acc = dot(first_of(0), e, 0);
    int64_t l1 = refetching ? model_l1() : 0;
    for (int i = 0; i < n; ++i) {
      const int cur = i & 1, nxt = cur ^ 1;
      const bool has_next = i + 1 < n;
      if (has_next) {
        if (i + 2 < n) {  // the row after next, a pass ahead (random orders defeat the hardware prefetcher)
          const uint64_t* ahead = row_of(i + 2);
          for (int l = 0; l < n_lines; ++l) __builtin_prefetch(ahead + l * kLineWords, 0, 3);
        }
        decode(nxt, row_of(i + 1), sample_stream_key(seed, e, i + 1));
        if (refetching) {  // the next row's full-precision positions, in case it is refetched
          const char* ahead = reinterpret_cast<const char*>(full + (rows == nullptr ? int64_t{i} + 1 : rows[i + 1]) * d);
          for (int64_t b = 0; b < int64_t{d} * 4; b += 64) __builtin_prefetch(ahead + b, 0, 0);
        }
      }
      int64_t pred = prediction(acc.sum());
      // Refetching (sgd.hpp): where the margin test could go either way, the exact
      // prediction from the row's full-precision positions decides, and steps the model.
      bool refetch = false;
      if (refetching) {
        if (in_refetch_band(labels[i], pred, ((l1 >> kDotDrop) * dot_mult) >> kDotMultFrac)) {
          refetch = true;
          ++counts.refetched;
          load_row(full + (rows == nullptr ? int64_t{i} : rows[i]) * d);
          pred = (refetch_dot() >> kPosFrac) + (intercept >> kDotDrop);
        }
      }
      bool weight_saturated = false;
      const int64_t r = reg.weighted(Loss::residual_q16(pred, labels[i]), i, weight_saturated);
      const SampleStep st = residual_step(r, dot_mult, shift, kValueMax, pmax);
      if (st.saturated || weight_saturated) ++counts.saturated;
      const auto* second = second_of(cur);
      const auto* next_first = first_of(nxt);
      if (r != 0 && !tail_zero[cur]) tail_clean = false;  // this step may move tail weights: every pass takes them
      // the rounding of this row's steps (sgd.hpp's step_weights): the grid from the largest
      // step's size, the draws of stream (kStreamGrad, e, i)
      auto step_rounding = [&] {
        const int64_t biggest = conditioned_step(st.g, kValueMax, pmax);
        return vector_rounding(grad_bits, Quantization::Grid, biggest < 0 ? -biggest : biggest);
      };
      auto step_key = [&] { return stream_key(seed, kStreamGrad, static_cast<uint32_t>(e), static_cast<uint32_t>(i)); };
      if (refetch || r == 0) {  // no step from the row's codes: only row i+1's dot product
        if (refetch && r != 0) {  // the step from the exact row, between the penalties
          refetch_update(r, shift, pen);
          l1 = model_l1();
        } else if (penalized) {  // no step: the penalties alone (Regularization::penalize)
          __m256i l1_sum = _mm256_setzero_si256();
          for (int j = 0, end = tail_clean ? span : padded; j < end; j += 8) {
            __m256i* wp = reinterpret_cast<__m256i*>(&w[j]);
            const __m256i wv = pen.penalized(_mm256_loadu_si256(wp), j);
            _mm256_storeu_si256(wp, wv);
            if constexpr (Loss::kRefetch) l1_sum = add_abs(l1_sum, wv);
          }
          if (refetching) l1 = sum64(l1_sum);  // lanes past the pass hold 0 (tail_clean)
        }
        acc = has_next ? dot(next_first, e, i + 1) : DotLanes<false>{};
        report_predictions(report, i, pred, pred);
      } else if (kTabled ||
                 (st.g > -(int64_t{1} << (kLaneStepBits - pmax)) && st.g < (int64_t{1} << (kLaneStepBits - pmax)))) {
        // |g 2^q v| + 2^7 < 2^31 for |v| <= kValueMax: round(g v 2^q / 2^8) = (g 2^q v + 2^7) >> 8
        // in int32 lanes (for q >= 8 the sum is exact, as conditioned_step's left shift).
        // kTabled: code_step of each code, looked up by one permute whatever g.
        const __m256i table = [&] {
          if constexpr (kTabled) return step_table<S>(st.g);
          else return _mm256_setzero_si256();
        }();
        const __m256i g = _mm256_set1_epi32(static_cast<int32_t>(st.g));
        const __m256i half = _mm256_set1_epi32(1 << (kUpdateFrac - 1));
        DotLanes<false> acc2;
        acc = DotLanes<false>{};
        __m256i l1_sum = _mm256_setzero_si256();  // refetching: sum |w| of the updated model
        // the fused pass, with the penalties (the decay of the model the step's gradient was
        // taken at, then the L1 step) and the steps' rounding in a loop of its own, so that
        // the plain one is unchanged; row i+1's dot product in it unless the model is rounded
        // for it (then a pass of its own after it, from the updated model's largest weight)
        const bool next_dot = has_next && !rounds_model;
        auto fused = [&](auto with_extras) ZIPML_INLINE {
          constexpr bool kExtras = decltype(with_extras)::value;
          GridLanes grad_grid(0);
          __m256i grad_keys = _mm256_setzero_si256();
          if constexpr (kExtras && kRounds) {
            if (rounds_grad) {
              grad_grid = GridLanes(step_rounding().k);
              grad_keys = _mm256_set1_epi32(static_cast<int>(step_key()));
            }
          }
          for (int j = 0, end = tail_clean ? span : padded; j < end; j += 8) {
            __m256i* wp = reinterpret_cast<__m256i*>(&w[j]);
            __m256i wv = _mm256_loadu_si256(wp);
            const __m256i v = lane_values(second, j);
            if (kSecond) acc2.add(v, dropped(wv));
            const __m256i gq =
                kConditioned ? _mm256_sllv_epi32(g, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&exponent[j])))
                             : g;
            __m256i step = kTabled ? _mm256_permutevar8x32_epi32(table, v)
                                   : _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(gq, v), half), kUpdateFrac);
            if constexpr (kExtras) {
              if constexpr (kRounds) {
                if (rounds_grad) step = rounded_below_d(step, j, grad_grid, grad_keys);
              }
              wv = pen.decayed(wv, j);
            }
            wv = _mm256_sub_epi32(wv, step);
            if constexpr (kExtras) wv = pen.thresholded(wv, j);
            _mm256_storeu_si256(wp, wv);
            if (next_dot) acc.add(lane_values(next_first, j), dropped(wv));
            if constexpr (Loss::kRefetch) l1_sum = add_abs(l1_sum, wv);
          }
        };
        penalized || rounds_grad ? fused(std::true_type{}) : fused(std::false_type{});
        if constexpr (kRounds) {
          if (rounds_model && has_next) acc = dot(next_first, e, i + 1);
        }
        if (refetching) l1 = sum64(l1_sum);  // lanes past the pass hold 0 (tail_clean)
        report_predictions(report, i, pred, kSecond ? prediction(acc2.sum()) : pred);
      } else {  // a step too large for int32 lanes: conditioned_step per value, then the next dot product
        int64_t acc2 = 0;
        VectorRounding grad{0, false, 0, 0};
        uint32_t grad_key = 0;
        if constexpr (kRounds) {
          if (rounds_grad) grad = step_rounding(), grad_key = step_key();
        }
        for (int j = 0; j < padded; ++j) {
          const int32_t v = int32_t{second[j]} - (kCentred ? center[j] : 0);
          if (kSecond) acc2 += int64_t{v} * (w[j] >> kDrop);
          int32_t step = conditioned_step(st.g, v, kConditioned ? exponent[j] : 0);
          if (rounds_grad && j < d) step = grad(step, draw(grad_key, static_cast<uint32_t>(j)));
          w[j] = penalized && j < d ? reg.stepped(w[j], step, j, shift) : wrap_sub(w[j], step);
        }
        acc = has_next ? dot(next_first, e, i + 1) : DotLanes<false>{};
        if (refetching) l1 = model_l1();
        report_predictions(report, i, pred, kSecond ? prediction(acc2) : pred);
      }
      if (fit_intercept) intercept = wrap_sub(intercept, st.dc);
      if (stored_variance != nullptr && ((i + 1) % kCorrectionRows == 0 || i + 1 == n)) {
        correct_stored_rounding(w.data(), d, stored_variance, feature_shifts, i % kCorrectionRows + 1, shift);
        if (has_next) acc = dot(next_first, e, i + 1);  // row i+1's dot product was taken before the correction
        if (refetching) l1 = model_l1();
      }
    }
    counts.flush(report, e);
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
    std::memcpy(out, w.data(), sizeof(int32_t) * d);
    out[d] = intercept;
  }
}

#undef ZIPML_INLINE
#endif  // ZIPML_HAVE_AVX2

/**
 * @brief Runs the AVX2 SGD where this build has it (AVX2 without AVX-512) and it covers
 * the call (supports_sgd, simd::covers_options with its AVX2 extras, covers_levels:
 * uniform levels and level tables; refetching, opt.full for the hinge, with uniform
 * levels and an exact model; the model's and steps' rounding with double data at uniform
 * levels); otherwise does nothing.
 * @return true when it ran; parameters as zipml::sgd_linear.
 */
template <int Bits, Sampling E, class Loss, int MaxFeatures>
bool fast_sgd_linear([[maybe_unused]] const uint64_t* data, [[maybe_unused]] const int32_t* labels,
                     [[maybe_unused]] int n, [[maybe_unused]] int d, [[maybe_unused]] int n_copies,
                     [[maybe_unused]] int epochs, [[maybe_unused]] int step_shift,
                     [[maybe_unused]] int decay_epochs, [[maybe_unused]] int32_t dot_mult,
                     [[maybe_unused]] const int32_t* values, [[maybe_unused]] const int32_t* model_in,
                     [[maybe_unused]] int32_t* history, [[maybe_unused]] const SgdOptions& opt = SgdOptions{},
                     [[maybe_unused]] const PassReport& report = PassReport{},
                     [[maybe_unused]] const int64_t* rows = nullptr) {
#ifdef ZIPML_HAVE_AVX2
  if constexpr (supports_sgd<Bits, E, Loss>()) {
    const bool refetching = Loss::kRefetch && opt.full != nullptr;
    if (simd::covers_options(opt, /*avx2=*/true) && simd::covers_levels<kLevelTables>(values, d, max_code(Bits) + 1) &&
        (values == nullptr || simd::unit_table_centers(opt.centers, d)) &&
        !(refetching && (values != nullptr || opt.model_bits > 0))) {
      // the roundings an instance of their own, so far for double data at uniform levels
      // only (each instance adds to the build): their code in the row loop, even untaken,
      // made the plain kernel's passes 5-13% slower (GCC 12)
      const bool rounds = opt.model_bits > 0 || opt.grad_bits > 0;
      if (rounds && (E != Sampling::Double || values != nullptr)) return false;
      auto run = [&](auto conditioned, auto tables, auto rounds_model) {
        sgd_linear_lanes<Bits, E, Loss, decltype(conditioned)::value, decltype(tables)::value,
                         decltype(rounds_model)::value>(
            data, labels, n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult, values, model_in, history,
            opt.feature_shifts, opt.centers, opt.seed, opt.full, report, rows, opt.stored_variance, opt.reg,
            opt.fit_intercept, opt.model_bits, opt.grad_bits);
      };
      const bool conditioned = opt.feature_shifts != nullptr || opt.centers != nullptr;
      if constexpr (E == Sampling::Double) {
        if (rounds) {
          conditioned ? run(std::true_type{}, std::false_type{}, std::true_type{})
                      : run(std::false_type{}, std::false_type{}, std::true_type{});
          return true;
        }
      }
      if (values == nullptr)
        conditioned ? run(std::true_type{}, std::false_type{}, std::false_type{})
                    : run(std::false_type{}, std::false_type{}, std::false_type{});
      else
        conditioned ? run(std::true_type{}, std::true_type{}, std::false_type{})
                    : run(std::false_type{}, std::true_type{}, std::false_type{});
      return true;
    }
  }
#endif
  return false;
}

}  // namespace avx2
}  // namespace zipml
