// CPU fast path of sgd_logistic on AVX2 (integer AVX2 only): the same arithmetic, bit for
// bit, on 8 values per instruction. Never synthesized; the module runs it through
// fast_sgd_logistic and tb_sgd checks it against the golden vectors. How it is fast:
//  - each row is first decoded into one byte per value in feature order (lanes_avx2.hpp:
//    unpack_plane, any width): the index (or, for Naive and Nearest, the code), and for
//    the planar samplings one byte mask per sample, 0xFF where that sample is the index
//    + 1. Double data's M samples are drawn by bit logic on up to 128 values at a time
//    (resample.hpp), Multi data's are its stored planes;
//  - a sample's codes are index + [mask], so its dot product is the index's, shared by the
//    M - 1 samples of the polynomial, plus the sum of the weights its mask selects (an AND
//    and an add per 8 values and sample, no multiply); Naive and Nearest repeat their one
//    sample, so one dot product serves every z_m;
//  - one pass over the model per row: the update with row i's sample 0, then row i+1's
//    dot products against the updated weights (decoded beforehand), as sgd_avx2.hpp does;
//    the passes, and the decode of samples 1..M-1, stop at d (in whole vectors) while the
//    last line's tail is zero, as sgd_avx2.hpp's;
//  - the arrays of a pass and of a decode are plain pointers in locals (their vectors'
//    data pointers would be reloaded after every store, which may alias them);
//  - the step round(g c / 2^8): for 1-, 2- and 3-bit codes without conditioning one
//    permute of the row's table of code_step, else one multiply while |g| 2^q_max <
//    2^lane_step_bits(S) (2^27 at 4 bits), and larger steps (a diverging run) a per-value
//    pass with conditioned_step itself;
//  - conditioning (LogisticOptions): the centers are subtracted from the index in the dot
//    products (so from every sample, whose codes are index + mask) and from sample 0's
//    codes in the step, which shifts g by each feature's exponent;
//  - the penalties (PenaltyLanes, lanes_avx2.hpp) around the step in the same pass; with
//    them a row whose residual is 0 takes that pass too, with a step of 0.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "zipml/format.hpp"
#include "zipml/resample.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_logistic.hpp"
#include "zipml_cpu/lanes_avx2.hpp"
#include "zipml_cpu/rng_avx2.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace zipml {
namespace avx2 {

/// The instruction set of this build's sgd_logistic fast path: "avx2" or "none".
#if defined(__AVX2__)
constexpr const char* kFastLogistic = "avx2";
#else
constexpr const char* kFastLogistic = "none";
#endif

/// The kernels the fast path of sgd_logistic covers (with any sample count of
/// kMultiSamples): every width (1, 2, 4, 8 bits whole fields per byte, 3 and 6 in natural
/// order), every sampling it reads.
template <int Bits, Sampling E>
constexpr bool supports_logistic() {
  return supported_bits(Bits) && in_list(kLogisticSamplings, E);
}

#if defined(__AVX2__)

#define ZIPML_INLINE __attribute__((always_inline))

/**
 * @brief One row decoded for the M samples of sgd_logistic, in feature order (value k of
 * line l at l K + k), each array covering whole 32-value blocks (zero past the row).
 *
 * Planar samplings (Double, Multi): `index` the index bytes, `first` sample 0's codes, and
 * `masks` for samples 1..M-1 (M - 1 arrays) 0xFF where the sample is index + 1 (it rounds
 * up and the index is below the top code, as decode_resampled and decode_samples).
 * Naive, Nearest: `index` the one stored code of every sample.
 */
template <int Bits, Sampling E, int M>
struct SampleCodes {
  static constexpr int K = values_per_line(Bits, E, M);
  static constexpr bool kPlanar = planar(E);
  static constexpr bool kDouble = E == Sampling::Double;
  static constexpr int W = kPlanar ? index_bits(Bits, E) : Bits;  // 0: Multi's 1-bit data, no index plane
  static constexpr int B = K * W / 8;                              // bytes of the index (code) plane
  static constexpr int S = max_code(Bits);
  static_assert(K % 16 == 0 || !kPlanar, "planes of whole 16-bit words (Naive, Nearest: 170 or 85 at 3 or 6 bits)");
  int blocks;                   // 32-value blocks covering the row and what unpack_plane writes past it
  std::vector<uint8_t> index, first, masks;
  std::vector<uint8_t> up;      // planar: M arrays of rounding bits, one per value (blocks * 4 bytes each)
  std::vector<uint32_t> draws;  // Double: one row's threshold draws, whole vectors

  explicit SampleCodes(int lines)
      : blocks(((lines - 1) * K + unpacked_bytes(W, K) + 31) / 32),
        index(size_t(blocks) * 32),
        first(kPlanar ? size_t(blocks) * 32 : 0),
        masks(kPlanar ? size_t(M - 1) * blocks * 32 : 0),
        up(kPlanar ? size_t(M) * blocks * 4 : 0),
        draws(kDouble ? (size_t(lines) * threshold_words(K, M) + 7) / 8 * 8 : 0) {}

  const uint8_t* first_codes() const { return kPlanar ? first.data() : index.data(); }
  const uint8_t* mask(int m) const { return masks.data() + size_t(m - 1) * blocks * 32; }

  /// resampled_up of `Word`-wide chunks at value c of a line for samples 0 .. Samples - 1:
  /// fraction planes at `f`, the line's threshold planes at `t` (t0, t1 of sample 0, then
  /// of sample 1, ...), sample m's rounding bits written at `up` + m `plane`.
  template <class Word, int Samples>
  ZIPML_INLINE static void resample_chunk(const uint8_t* f, const uint8_t* t, int c, uint8_t* up, size_t plane) {
    Word f0, f1;
    std::memcpy(&f0, f + c / 8, sizeof(Word));
    std::memcpy(&f1, f + K / 8 + c / 8, sizeof(Word));
    for (int m = 0; m < Samples; ++m) {
      Word t0, t1;
      std::memcpy(&t0, t + 2 * m * K / 8 + c / 8, sizeof(Word));
      std::memcpy(&t1, t + (2 * m + 1) * K / 8 + c / 8, sizeof(Word));
      const Word u = resampled_up<Word>(f0, f1, t0, t1);
      std::memcpy(up + m * plane, &u, sizeof(Word));
    }
  }

  /// Decodes a row of n_lines lines (key: its sample_stream_key; unused but for Double):
  /// the index and sample 0 whole, samples 1..M-1 (their masks) at least below value
  /// `sampled`; past it their masks are left stale, for a pass that stops there (the
  /// zero tail of sgd_logistic_lanes: the last line's values past d).
  ZIPML_INLINE void decode(const uint64_t* row, int n_lines, uint32_t key, int sampled) {
    // the arrays as plain pointers in locals: every byte store may alias anything, these
    // members too, and would make the compiler reload them
    const int n_blocks = blocks;
    const size_t plane = size_t(n_blocks) * 4;  // bytes of one sample's up array
    uint8_t* const index_at = index.data();
    uint8_t* const first_at = first.data();
    uint8_t* const masks_at = masks.data();
    uint8_t* const up_at = up.data();
    if (kDouble) fill_draws(key, draws.data(), draws.size());  // line l's D draws are the row's l D ..
    const uint32_t* const draws_at = draws.data();
    for (int l = 0; l < n_lines; ++l) {
      const uint8_t* line = reinterpret_cast<const uint8_t*>(row + l * kLineWords);  // little-endian host
      if constexpr (W > 0) unpack_plane<W, K>(line, index_at + l * K);
      if constexpr (kDouble) {
        const uint8_t* t = reinterpret_cast<const uint8_t*>(draws_at + l * threshold_words(K, M));
        auto chunk = [&](auto word, int c) ZIPML_INLINE {
          using Word = decltype(word);
          uint8_t* const at = up_at + (l * K + c) / 8;
          if (l * K + c < sampled) resample_chunk<Word, M>(line + B, t, c, at, plane);
          else resample_chunk<Word, 1>(line + B, t, c, at, plane);
        };
        int c = 0;
        for (; c + 128 <= K; c += 128) chunk(__m128i{}, c);  // the widest chunks first: K = 160 = 128 + 32
        for (; c + 64 <= K; c += 64) chunk(uint64_t{}, c);
        for (; c + 32 <= K; c += 32) chunk(uint32_t{}, c);
        for (; c < K; c += 16) chunk(uint16_t{}, c);
      } else if constexpr (kPlanar) {  // Multi: sample m's rounding bits are plane m
        for (int m = 0; m < M; ++m)
          std::memcpy(up_at + m * plane + l * K / 8, line + B + m * K / 8, K / 8);
      }
    }
    if constexpr (kPlanar) {
      const __m256i top = _mm256_set1_epi8(static_cast<char>(S));
      // blocks below `sampled` for every sample, then sample 0 alone
      auto masks_of = [&](auto samples, int b) ZIPML_INLINE {
        const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index_at + 32 * b));
        const __m256i at_top = _mm256_cmpeq_epi8(idx, top);  // the top code never rounds up (FORMATS.md sec. 5)
        for (int m = 0; m < decltype(samples)::value; ++m) {
          const __m256i mk = _mm256_andnot_si256(at_top, bit_bytes32(up_at + m * plane + 4 * b));
          if (m == 0)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(first_at + 32 * b), _mm256_sub_epi8(idx, mk));
          else
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(masks_at + ((m - 1) * plane + 4 * b) * 8), mk);
        }
      };
      const int sampled_blocks = (sampled + 31) / 32 < n_blocks ? (sampled + 31) / 32 : n_blocks;
      int b = 0;
      for (; b < sampled_blocks; ++b) masks_of(std::integral_constant<int, M>{}, b);
      for (; b < n_blocks; ++b) masks_of(std::integral_constant<int, 1>{}, b);
    }
  }
};

/**
 * @brief AVX2 twin of zipml::sgd_logistic (same parameters, same results) for the
 * formats of supports_logistic, with sample weights and penalties (`reg`);
 * kConditioned: `opt` has centers or feature shifts.
 */
template <int Bits, Sampling E, int M, bool kConditioned>
void sgd_logistic_lanes(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                        int step_shift, int decay_epochs, int32_t dot_mult, const int64_t* coef, int32_t range_q16,
                        const int32_t* model_in, int32_t* history, uint32_t seed, const PassReport& report,
                        const int64_t* rows, const Regularization& reg, const LogisticOptions& opt) {
  using Codes = SampleCodes<Bits, E, M>;
  constexpr int K = Codes::K;
  constexpr int S = max_code(Bits);
  constexpr bool kPlanar = Codes::kPlanar;
  constexpr bool kTabled = !kConditioned && S <= 7;  // the steps of all codes fit one 8-entry permute
  constexpr int kLaneStepBits = lane_step_bits(S);
  const int n_lines = lines_per_row(d, Bits, E, M);
  // features and the zero codes of the last line's tail, in whole vectors of 8 (the decoded
  // codes past the last line are 0 up to the decode buffers' end)
  const int padded = (n_lines * K + 7) / 8 * 8;
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  // The model, and the conditioning's centers and step exponents; 0 past d, where the codes
  // are 0 too, so those weights stay 0.
  std::vector<int32_t> w(padded, 0), center(kConditioned ? padded : 0, 0), exponent(kConditioned ? padded : 0, 0);
  std::memcpy(w.data(), model_in, sizeof(int32_t) * d);
  for (int j = 0; kConditioned && j < d; ++j) {
    center[j] = opt.centers != nullptr ? opt.centers[j] : 0;
    exponent[j] = opt.feature_shifts != nullptr ? opt.feature_shifts[j] : 0;
  }
  const int pmax = max_feature_shift(opt.feature_shifts, d);
  int32_t intercept = model_in[d];
  const bool penalized = reg.penalized();
  PenaltyLanes penalties(reg, d, padded);
  Codes codes[2] = {Codes(n_lines), Codes(n_lines)};
  // Lanes from span (d in whole vectors) to padded hold the last line's tail only (at
  // d = 512, double data, degree 5: 128 of the last line's 160 values at 1 bit, 48 of 80
  // at 4, 16 of 48 at 8). While their weights are 0 (tail_clean) and a row's sample 0 is
  // 0 there (tail_zero: the quantizer's zero codes), that row's step leaves them 0 and
  // every dot product gets 0 from them, so its pass stops at span, and the next row
  // decodes samples 1..M-1 only up to it. Other data (codes past d in a hand-made file)
  // makes every later pass take them, as the portable kernel does.
  const int span = (d + 7) / 8 * 8;
  bool tail_clean = true, tail_zero[2] = {true, true};
  auto pass_end = [&] { return tail_clean ? span : padded; };
  const ZeroBytes tail_is_zero(span, padded);
  auto decode = [&](int b, const uint64_t* row, uint32_t key) {
    codes[b].decode(row, n_lines, key, pass_end());
    tail_zero[b] = tail_is_zero(codes[b].first_codes());
  };

  // The arrays a pass reads, as plain pointers in locals: the lanes' stores (__m256i, which
  // may alias anything) would otherwise make the compiler reload every vector's data
  // pointer for each 8 features (GCC 12, 2 bits: 37 instructions per 8 features with the
  // reloads and the has_next test inside the loop, 27 without).
  int32_t* const wp = w.data();
  const int32_t* const cp = center.data();
  const int32_t* const qp = exponent.data();
  // the index bytes of 8 features at j as int32, minus their centers
  auto centred = [cp](const uint8_t* at, int j) ZIPML_INLINE {
    const __m256i v = widen8(at + j);
    if constexpr (kConditioned) return _mm256_sub_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cp + j)));
    else return v;
  };
  struct Reads {
    const uint8_t* index;
    const uint8_t* mask[M];  // samples 1..M-1 (planar)
  };
  auto reads = [](const Codes& c) {
    Reads r{c.index.data(), {}};
    if constexpr (kPlanar)
      for (int m = 1; m < M; ++m) r.mask[m] = c.mask(m);
    return r;
  };
  // sums[0] += (index - center) . w' and, planar, sums[m] += the w' sample m's mask
  // selects, for 8 features at j (w' = w >> 8, wrapping in int32 lanes): sample m's
  // (codes - center) . w' is their sum.
  auto accumulate = [centred](const Reads& c, int j, __m256i wd, __m256i* sums) ZIPML_INLINE {
    sums[0] = _mm256_add_epi32(sums[0], _mm256_mullo_epi32(centred(c.index, j), wd));
    if constexpr (kPlanar)
      for (int m = 1; m < M; ++m)
        sums[m] = _mm256_add_epi32(
            sums[m],
            _mm256_and_si256(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c.mask[m] + j))),
                             wd));
  };
  // acc[m], m = 1..M-1: the dot products of samples 1..M-1 (sgd_logistic's dot_loop)
  auto finish = [&](const __m256i* sums, int32_t* acc) {
    const uint32_t base = static_cast<uint32_t>(reduce_add_wrapping(sums[0]));
    for (int m = 1; m < M; ++m)
      acc[m] = kPlanar ? static_cast<int32_t>(base + static_cast<uint32_t>(reduce_add_wrapping(sums[m])))
                       : static_cast<int32_t>(base);
  };
  auto dots = [&](const Codes& codes_of_row, int32_t* acc) {
    const Reads c = reads(codes_of_row);
    __m256i sums[M];
    for (int m = 0; m < M; ++m) sums[m] = _mm256_setzero_si256();
    for (int j = 0, end = pass_end(); j < end; j += 8)
      accumulate(c, j, _mm256_srai_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + j)), kDotDrop),
                 sums);
    finish(sums, acc);
  };

  EpochCounts counts;
  int32_t acc[M] = {};
  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const PenaltyLanes::Step pen = penalties.at_step(shift);  // this epoch's, in a local
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
    auto row_of = [&](int i) { return copy + (rows == nullptr ? int64_t{i} : rows[i]) * row_words; };
    decode(0, row_of(0), sample_stream_key(seed, e, 0));
    dots(codes[0], acc);
    for (int i = 0; i < n; ++i) {
      const int cur = i & 1;
      const Codes& nxt = codes[cur ^ 1];
      const bool has_next = i + 1 < n;
      // the step first: whether it may move the tail's weights decides where the pass,
      // and so row i+1's decode, stops
      bool weight_saturated = false;
      const int64_t r = reg.weighted(polynomial_residual<M>(acc, labels[i], intercept, dot_mult, coef, range_q16), i,
                                     weight_saturated);
      const SampleStep st = residual_step(r, dot_mult, shift, S, pmax);  // |c - m_j| <= S
      if (st.saturated || weight_saturated) ++counts.saturated;
      const int64_t pred = linear_prediction(acc[1], intercept, dot_mult);  // sample 1's (the loss estimate's)
      report_predictions(report, i, pred, pred);
      if (r != 0 && !tail_zero[cur]) tail_clean = false;  // this step may move tail weights: every pass takes them
      const int end = pass_end();
      if (has_next) {
        if (i + 2 < n) {  // the row after next, a pass ahead (random orders defeat the hardware prefetcher)
          const uint64_t* ahead = row_of(i + 2);
          for (int l = 0; l < n_lines; ++l) __builtin_prefetch(ahead + l * kLineWords, 0, 3);
        }
        decode(cur ^ 1, row_of(i + 1), sample_stream_key(seed, e, i + 1));
      }
      const uint8_t* first = codes[cur].first_codes();
      // with penalties every row takes a pass (r = 0: g = 0, the penalties alone)
      if ((r != 0 || penalized) && (kTabled || (st.g > -(int64_t{1} << (kLaneStepBits - pmax)) &&
                                                st.g < (int64_t{1} << (kLaneStepBits - pmax))))) {
        // |g 2^q v| + 2^7 < 2^31 for |v| <= S: round(g v 2^q / 2^8) = (g 2^q v + 2^7) >> 8 in
        // int32 lanes (for q >= 8 the sum is exact, as conditioned_step's left shift);
        // kTabled: code_step of each code, looked up by one permute whatever g.
        const __m256i table = [&] {
          if constexpr (kTabled) return step_table<S>(st.g);
          else return _mm256_setzero_si256();
        }();
        const __m256i g = _mm256_set1_epi32(static_cast<int32_t>(st.g));
        const __m256i half = _mm256_set1_epi32(1 << (kUpdateFrac - 1));
        // the update (between the penalties: the decay of the model the step's gradient was
        // taken at, then the L1 step), and with_next row i+1's dot products against the
        // updated weights
        auto pass = [&](auto with_next, auto with_penalties) ZIPML_INLINE {
          constexpr bool kPenalties = decltype(with_penalties)::value;
          const Reads c = reads(nxt);
          __m256i sums[M];
          for (int m = 0; m < M; ++m) sums[m] = _mm256_setzero_si256();
          for (int j = 0; j < end; j += 8) {
            __m256i* at = reinterpret_cast<__m256i*>(wp + j);
            const __m256i v = centred(first, j);
            const __m256i gq =
                kConditioned ? _mm256_sllv_epi32(g, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp + j))) : g;
            __m256i wv = _mm256_loadu_si256(at);
            if constexpr (kPenalties) wv = pen.decayed(wv, j);
            wv = _mm256_sub_epi32(
                wv, kTabled ? _mm256_permutevar8x32_epi32(table, v)
                            : _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(gq, v), half), kUpdateFrac));
            if constexpr (kPenalties) wv = pen.thresholded(wv, j);
            _mm256_storeu_si256(at, wv);
            if constexpr (decltype(with_next)::value) accumulate(c, j, _mm256_srai_epi32(wv, kDotDrop), sums);
          }
          if constexpr (decltype(with_next)::value) finish(sums, acc);
        };
        auto with_next = [&](auto with_penalties) ZIPML_INLINE {
          if (has_next) pass(std::true_type{}, with_penalties);
          else pass(std::false_type{}, with_penalties);
        };
        if (penalized) with_next(std::true_type{});
        else with_next(std::false_type{});
      } else {  // no step (r = 0, no penalty), or one too large for int32 lanes: conditioned_step per value
        for (int j = 0; r != 0 && j < end; ++j) {
          const int32_t delta =
              kConditioned ? conditioned_step(st.g, first[j] - cp[j], qp[j]) : code_step(st.g, first[j]);
          wp[j] = penalized && j < d ? reg.stepped(wp[j], delta, j, shift) : wrap_sub(wp[j], delta);
        }
        if (has_next) dots(nxt, acc);
      }
      if (opt.fit_intercept) intercept = wrap_sub(intercept, st.dc);
    }
    counts.flush(report, e);
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
    std::memcpy(out, w.data(), sizeof(int32_t) * d);
    out[d] = intercept;
  }
}

#undef ZIPML_INLINE
#endif  // __AVX2__

/**
 * @brief Runs the AVX2 sgd_logistic where this build has AVX2 and it covers the call
 * (supports_logistic); otherwise does nothing.
 * @return true when it ran (history and report written); parameters as zipml::sgd_logistic.
 */
template <int Bits, Sampling E, int M, int MaxFeatures>
bool fast_sgd_logistic([[maybe_unused]] const uint64_t* data, [[maybe_unused]] const int32_t* labels,
                       [[maybe_unused]] int n, [[maybe_unused]] int d, [[maybe_unused]] int n_copies,
                       [[maybe_unused]] int epochs, [[maybe_unused]] int step_shift,
                       [[maybe_unused]] int decay_epochs, [[maybe_unused]] int32_t dot_mult,
                       [[maybe_unused]] const int64_t* coef, [[maybe_unused]] int32_t range_q16,
                       [[maybe_unused]] const int32_t* model_in, [[maybe_unused]] int32_t* history,
                       [[maybe_unused]] uint32_t seed = 0, [[maybe_unused]] const PassReport& report = PassReport{},
                       [[maybe_unused]] const int64_t* rows = nullptr,
                       [[maybe_unused]] const Regularization& reg = Regularization{},
                       [[maybe_unused]] const LogisticOptions& opt = LogisticOptions{}) {
#if defined(__AVX2__)
  if constexpr (supports_logistic<Bits, E>()) {
    auto run = [&](auto conditioned) {
      sgd_logistic_lanes<Bits, E, M, decltype(conditioned)::value>(data, labels, n, d, n_copies, epochs, step_shift,
                                                                    decay_epochs, dot_mult, coef, range_q16, model_in,
                                                                    history, seed, report, rows, reg, opt);
    };
    if (opt.centers != nullptr || opt.feature_shifts != nullptr) run(std::true_type{});
    else run(std::false_type{});
    return true;
  }
#endif
  return false;
}

}  // namespace avx2
}  // namespace zipml
