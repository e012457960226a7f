// CPU fast path of sgd_logistic on AVX2 (integer AVX2 only): the same arithmetic, bit for
// bit, on 8 values per instruction. Never synthesized; the module runs it through
// fast_sgd_logistic and tb_sgd checks it against the golden vectors. How it is fast:
//  - each row is first decoded into one byte per value in feature order (lanes_avx2.hpp:
//    unpack_plane, any width): the index (or, for Naive and Nearest, the code), and for
//    the planar samplings one byte mask per sample, 0xFF where that sample is the index + 1. Double data's M samples are drawn by
//    bit logic on 64 values at a time (resample.hpp), Multi data's are its stored planes;
//  - a sample's codes are index + [mask], so its dot product is the index's, shared by the
//    M - 1 samples of the polynomial, plus the sum of the weights its mask selects (an AND
//    and an add per 8 values and sample, no multiply); Naive and Nearest repeat their one
//    sample, so one dot product serves every z_m;
//  - one pass over the model per row: the update with row i's sample 0, then row i+1's
//    dot products against the updated weights (decoded beforehand), as sgd_avx2.hpp does;
//  - the step round(g c / 2^8): for 1-, 2- and 3-bit codes one permute of the row's table
//    of code_step, else one multiply while |g| < 2^lane_step_bits(S) (2^27 at 4 bits), and
//    larger steps (a diverging run) a per-value pass with code_step itself.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>
#include <cstring>
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

  /// resampled_up of `Word`-wide chunks at value c of a line for the M samples: fraction
  /// planes at `f`, the line's threshold planes at `t` (t0, t1 of sample 0, then of sample
  /// 1, ...), sample m's rounding bits written at bit `at` of its up array.
  template <class Word>
  ZIPML_INLINE void resample_chunk(const uint8_t* f, const uint8_t* t, int c, int at) {
    Word f0, f1;
    std::memcpy(&f0, f + c / 8, sizeof(Word));
    std::memcpy(&f1, f + K / 8 + c / 8, sizeof(Word));
    for (int m = 0; m < M; ++m) {
      Word t0, t1;
      std::memcpy(&t0, t + 2 * m * K / 8 + c / 8, sizeof(Word));
      std::memcpy(&t1, t + (2 * m + 1) * K / 8 + c / 8, sizeof(Word));
      const Word u = resampled_up<Word>(f0, f1, t0, t1);
      std::memcpy(up.data() + size_t(m) * blocks * 4 + at / 8, &u, sizeof(Word));
    }
  }

  /// Decodes a row of n_lines lines (key: its sample_stream_key; unused but for Double).
  void decode(const uint64_t* row, int n_lines, uint32_t key) {
    if (kDouble) fill_draws(key, draws.data(), draws.size());  // line l's D draws are the row's l D ..
    for (int l = 0; l < n_lines; ++l) {
      const uint8_t* line = reinterpret_cast<const uint8_t*>(row + l * kLineWords);  // little-endian host
      if constexpr (W > 0) unpack_plane<W, K>(line, index.data() + l * K);
      if constexpr (kDouble) {
        const uint8_t* t = reinterpret_cast<const uint8_t*>(draws.data() + l * threshold_words(K, M));
        int c = 0;
        for (; c + 64 <= K; c += 64) resample_chunk<uint64_t>(line + B, t, c, l * K + c);
        for (; c < K; c += 16) resample_chunk<uint16_t>(line + B, t, c, l * K + c);
      } else if constexpr (kPlanar) {  // Multi: sample m's rounding bits are plane m
        for (int m = 0; m < M; ++m)
          std::memcpy(up.data() + size_t(m) * blocks * 4 + l * K / 8, line + B + m * K / 8, K / 8);
      }
    }
    if constexpr (kPlanar) {
      const __m256i top = _mm256_set1_epi8(static_cast<char>(S));
      for (int b = 0; b < blocks; ++b) {
        const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index.data() + 32 * b));
        const __m256i at_top = _mm256_cmpeq_epi8(idx, top);  // the top code never rounds up (FORMATS.md sec. 5)
        for (int m = 0; m < M; ++m) {
          const __m256i mk = _mm256_andnot_si256(at_top, bit_bytes32(up.data() + size_t(m) * blocks * 4 + 4 * b));
          if (m == 0)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(first.data() + 32 * b), _mm256_sub_epi8(idx, mk));
          else
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(masks.data() + (size_t(m - 1) * blocks + b) * 32), mk);
        }
      }
    }
  }
};

/**
 * @brief AVX2 twin of zipml::sgd_logistic (same parameters, same results) for the
 * formats of supports_logistic; `reg`: sample weights only (penalties run the portable
 * kernel).
 */
template <int Bits, Sampling E, int M>
void sgd_logistic_lanes(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                        int step_shift, int decay_epochs, int32_t dot_mult, const int64_t* coef, int32_t range_q16,
                        const int32_t* model_in, int32_t* history, uint32_t seed, const PassReport& report,
                        const int64_t* rows, const Regularization& reg) {
  using Codes = SampleCodes<Bits, E, M>;
  constexpr int K = Codes::K;
  constexpr int S = max_code(Bits);
  constexpr bool kPlanar = Codes::kPlanar;
  constexpr bool kTabled = S <= 7;  // the steps of all codes fit one 8-entry permute
  constexpr int kLaneStepBits = lane_step_bits(S);
  const int n_lines = lines_per_row(d, Bits, E, M);
  // features and the zero codes of the last line's tail, in whole vectors of 8 (the decoded
  // codes past the last line are 0 up to the decode buffers' end)
  const int padded = (n_lines * K + 7) / 8 * 8;
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  std::vector<int32_t> w(padded, 0);  // 0 past d, where the codes are 0 too, so those weights stay 0
  std::memcpy(w.data(), model_in, sizeof(int32_t) * d);
  int32_t intercept = model_in[d];
  Codes codes[2] = {Codes(n_lines), Codes(n_lines)};

  // sums[0] += index . w' and, planar, sums[m] += the w' sample m's mask selects, for 8
  // features at j (w' = w >> 8, wrapping in int32 lanes): sample m's codes . w' is their sum.
  auto accumulate = [&](const Codes& c, int j, __m256i wd, __m256i* sums) ZIPML_INLINE {
    sums[0] = _mm256_add_epi32(sums[0], _mm256_mullo_epi32(widen8(c.index.data() + j), wd));
    if constexpr (kPlanar)
      for (int m = 1; m < M; ++m)
        sums[m] = _mm256_add_epi32(
            sums[m],
            _mm256_and_si256(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c.mask(m) + j))),
                             wd));
  };
  // acc[m], m = 1..M-1: the dot products of samples 1..M-1 (sgd_logistic's dot_loop)
  auto finish = [&](const __m256i* sums, int32_t* acc) {
    const uint32_t base = static_cast<uint32_t>(reduce_add_wrapping(sums[0]));
    for (int m = 1; m < M; ++m)
      acc[m] = kPlanar ? static_cast<int32_t>(base + static_cast<uint32_t>(reduce_add_wrapping(sums[m])))
                       : static_cast<int32_t>(base);
  };
  auto dots = [&](const Codes& c, int32_t* acc) {
    __m256i sums[M];
    for (int m = 0; m < M; ++m) sums[m] = _mm256_setzero_si256();
    for (int j = 0; j < padded; j += 8)
      accumulate(c, j, _mm256_srai_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&w[j])), kDotDrop),
                 sums);
    finish(sums, acc);
  };

  EpochCounts counts;
  int32_t acc[M] = {};
  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
    auto row_of = [&](int i) { return copy + (rows == nullptr ? int64_t{i} : rows[i]) * row_words; };
    codes[0].decode(row_of(0), n_lines, sample_stream_key(seed, e, 0));
    dots(codes[0], acc);
    for (int i = 0; i < n; ++i) {
      const Codes& cur = codes[i & 1];
      Codes& nxt = codes[(i & 1) ^ 1];
      const bool has_next = i + 1 < n;
      if (has_next) {
        if (i + 2 < n) {  // the row after next, a pass ahead (random orders defeat the hardware prefetcher)
          const uint64_t* ahead = row_of(i + 2);
          for (int l = 0; l < n_lines; ++l) __builtin_prefetch(ahead + l * kLineWords, 0, 3);
        }
        nxt.decode(row_of(i + 1), n_lines, sample_stream_key(seed, e, i + 1));
      }
      bool weight_saturated = false;
      const int64_t r = reg.weighted(polynomial_residual<M>(acc, labels[i], intercept, dot_mult, coef, range_q16), i,
                                     weight_saturated);
      const SampleStep st = residual_step(r, dot_mult, shift, S);
      if (st.saturated || weight_saturated) ++counts.saturated;
      const int64_t pred = linear_prediction(acc[1], intercept, dot_mult);  // sample 1's (the loss estimate's)
      report_predictions(report, i, pred, pred);
      const uint8_t* first = cur.first_codes();
      if (r != 0 && (kTabled || (st.g > -(int64_t{1} << kLaneStepBits) && st.g < (int64_t{1} << kLaneStepBits)))) {
        // |g v| + 2^7 < 2^31 for v <= S: round(g v / 2^8) = (g v + 2^7) >> 8 in int32 lanes;
        // kTabled: code_step of each code, looked up by one permute whatever g.
        const __m256i table = [&] {
          if constexpr (kTabled) return step_table<S>(st.g);
          else return _mm256_setzero_si256();
        }();
        const __m256i g = _mm256_set1_epi32(static_cast<int32_t>(st.g));
        const __m256i half = _mm256_set1_epi32(1 << (kUpdateFrac - 1));
        __m256i sums[M];
        for (int m = 0; m < M; ++m) sums[m] = _mm256_setzero_si256();
        for (int j = 0; j < padded; j += 8) {
          __m256i* wp = reinterpret_cast<__m256i*>(&w[j]);
          const __m256i v = widen8(first + j);
          const __m256i wv = _mm256_sub_epi32(
              _mm256_loadu_si256(wp),
              kTabled ? _mm256_permutevar8x32_epi32(table, v)
                      : _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(g, v), half), kUpdateFrac));
          _mm256_storeu_si256(wp, wv);
          if (has_next) accumulate(nxt, j, _mm256_srai_epi32(wv, kDotDrop), sums);
        }
        if (has_next) finish(sums, acc);
      } else {  // no step (r = 0), or one too large for int32 lanes: code_step per value
        if (r != 0)
          for (int j = 0; j < padded; ++j) w[j] = wrap_sub(w[j], code_step(st.g, first[j]));
        if (has_next) dots(nxt, acc);
      }
      intercept = wrap_sub(intercept, st.dc);
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
 * (supports_logistic, and no penalties: reg.penalized() runs the portable kernel);
 * otherwise does nothing.
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
                       [[maybe_unused]] const Regularization& reg = Regularization{}) {
#if defined(__AVX2__)
  if constexpr (supports_logistic<Bits, E>()) {
    if (!reg.penalized()) {
      sgd_logistic_lanes<Bits, E, M>(data, labels, n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult, coef,
                                     range_q16, model_in, history, seed, report, rows, reg);
      return true;
    }
  }
#endif
  return false;
}

}  // namespace avx2
}  // namespace zipml
