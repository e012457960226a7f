// Logistic regression over packed low-precision data by polynomial approximation of
// the loss derivative, with independent samples per value (docs/FORMATS.md).
#pragma once
#include <cstdint>

#include "fixed_point.hpp"
#include "format.hpp"
#include "layout.hpp"
#include "sgd.hpp"

namespace zipml {

/// The samplings sgd_logistic reads: M independent samples per value drawn afresh every
/// epoch from the stored fine grid (Double) or stored (Multi), or one stored sample reused
/// for every z_m (Naive, Nearest: the biased baselines).
constexpr Sampling kLogisticSamplings[] = {Sampling::Double, Sampling::Naive, Sampling::Nearest, Sampling::Multi};

namespace detail {

/// Double: M samples drawn with the row's key (resample.hpp).
template <int Bits, int M>
inline void decode_all(SamplingTag<Sampling::Double>, const uint64_t* line, uint32_t key, int l, int32_t* codes,
                       int32_t*) {
  decode_resampled<Bits, M>(line, key, l, codes);
}

/// Multi: the M stored samples.
template <int Bits, int M>
inline void decode_all(SamplingTag<Sampling::Multi>, const uint64_t* line, uint32_t, int, int32_t* codes,
                       int32_t*) {
  decode_samples<Bits, M>(line, codes);
}

/// Naive, Nearest: the one stored sample, repeated M times (`scratch` holds K codes).
template <int Bits, Sampling E, int M>
inline void repeat_code(const uint64_t* line, int32_t* codes, int32_t* scratch) {
  constexpr int K = values_per_line(Bits, E, M);
  decode_line<Bits, E>(line, 0, 0, scratch, scratch);  // no key: one stored code
repeat_sample_loop:
  for (int m = 0; m < M; ++m)
  repeat_lane_loop:
    for (int k = 0; k < K; ++k) codes[m * K + k] = scratch[k];
}
template <int Bits, int M>
inline void decode_all(SamplingTag<Sampling::Naive>, const uint64_t* line, uint32_t, int, int32_t* codes,
                       int32_t* scratch) {
  repeat_code<Bits, Sampling::Naive, M>(line, codes, scratch);
}
template <int Bits, int M>
inline void decode_all(SamplingTag<Sampling::Nearest>, const uint64_t* line, uint32_t, int, int32_t* codes,
                       int32_t* scratch) {
  repeat_code<Bits, Sampling::Nearest, M>(line, codes, scratch);
}

/// The first sample only: Double draws just its thresholds, Naive and Nearest decode their
/// one code, Multi decodes its M stored samples (the first K codes are sample 0).
template <int Bits, int M>
inline void decode_first(SamplingTag<Sampling::Double>, const uint64_t* line, uint32_t key, int l, int32_t* codes,
                         int32_t*) {
  decode_resampled_first<Bits, M>(line, key, l, codes);
}
template <int Bits, int M>
inline void decode_first(SamplingTag<Sampling::Multi>, const uint64_t* line, uint32_t, int, int32_t* codes,
                         int32_t*) {
  decode_samples<Bits, M>(line, codes);
}
template <int Bits, int M>
inline void decode_first(SamplingTag<Sampling::Naive>, const uint64_t* line, uint32_t, int, int32_t* codes,
                         int32_t* scratch) {
  decode_line<Bits, Sampling::Naive>(line, 0, 0, codes, scratch);
}
template <int Bits, int M>
inline void decode_first(SamplingTag<Sampling::Nearest>, const uint64_t* line, uint32_t, int, int32_t* codes,
                         int32_t* scratch) {
  decode_line<Bits, Sampling::Nearest>(line, 0, 0, codes, scratch);
}

}  // namespace detail

/// Codes of M samples of line l of a row: drawn with the row's `key` from Double data,
/// the stored samples of Multi data, or the one stored sample repeated (Naive, Nearest).
/// `scratch` holds K codes. One overload per sampling (detail::decode_all), so a sampling
/// without one does not compile.
template <int Bits, Sampling E, int M>
inline void decode_all(const uint64_t* line, uint32_t key, int l, int32_t* codes, int32_t* scratch) {
  static_assert(in_list(kLogisticSamplings, E), "decode_all reads the samplings of kLogisticSamplings");
  detail::decode_all<Bits, M>(SamplingTag<E>{}, line, key, l, codes, scratch);
}

/// codes[0..K) = the codes of sample 0 of line l (decode_all's first K), decoding no more
/// than that where the sampling allows: the update reads only sample 0. `scratch` holds K codes.
template <int Bits, Sampling E, int M>
inline void decode_first(const uint64_t* line, uint32_t key, int l, int32_t* codes, int32_t* scratch) {
  static_assert(in_list(kLogisticSamplings, E), "decode_first reads the samplings of kLogisticSamplings");
  detail::decode_first<Bits, M>(SamplingTag<E>{}, line, key, l, codes, scratch);
}

/// The residual r = -y P^ (Q16, saturated to int32) of a sample labelled `label` (+-2^16)
/// from the dot products acc[1..M-1] of its samples 1..M-1 (codes times w >> 8): Horner's
/// rule over z_m = clamp(y (prediction of sample m), -R, R), the accumulator saturated to
/// +-2^40 (see sgd_logistic). acc[0] is not read.
template <int M>
inline int64_t polynomial_residual(const int32_t* acc, int32_t label, int32_t intercept, int32_t dot_mult,
                                   const int64_t* coef, int32_t range_q16) {
  const int64_t limit = int64_t{1} << 40;
  const int64_t y = label > 0 ? 1 : -1;
  int64_t h = coef[M - 1];
horner_loop:
  for (int m = M - 1; m >= 1; --m) {
    int64_t z = y * linear_prediction(acc[m], intercept, dot_mult);
    z = z > range_q16 ? range_q16 : (z < -range_q16 ? -range_q16 : z);
    h = coef[m - 1] + ((z * h) >> kLabelFrac);
    h = h > limit ? limit : (h < -limit ? -limit : h);
  }
  return saturate32(-y * round_shift(h, kPolyFrac - kLabelFrac));
}

/// Per-feature conditioning of sgd_logistic, as SgdOptions' of sgd_linear (docs/FORMATS.md
/// sec. 7): runtime values of the CPU build; the synthesis tops use the defaults.
struct LogisticOptions {
  /// d per-feature step multipliers: feature j steps 2^p_j times the shared step
  /// (0 <= p_j <= kMaxFeatureShift); nullptr: all 0
  const uint8_t* feature_shifts = nullptr;
  /// d per-feature centers m_j, codes in [0, S]: every sample sees c - m_j; nullptr: none
  const int32_t* centers = nullptr;
  /// false: the intercept keeps model_in's value (with the centers at the code of x = 0)
  bool fit_intercept = true;
};

/// The per-sample step of sgd_logistic (a row policy of sgd_epochs).
template <int Bits, Sampling E, int M, int MaxFeatures>
struct LogisticRow {
  static constexpr int K = values_per_line(Bits, E, M);
  static constexpr int S = max_code(Bits);
  static constexpr int kMaxLines = (MaxFeatures + K - 1) / K;
  int n_lines;
  int32_t dot_mult;
  const int64_t* coef;
  int32_t range_q16;
  uint32_t seed;  // Double: the seed of the row keys (sample_stream_key)
  int d;
  Regularization reg;
  bool penalized;  // reg.penalized()
  LogisticOptions opt;
  int pmax;          // max_feature_shift(opt.feature_shifts, d)
  bool conditioned;  // centers or feature shifts given
  PassReport report;
  EpochCounts counts;

  /// Center of feature j (0 without centering and for padding lanes).
  int32_t center(int j) const { return opt.centers != nullptr && j < d ? opt.centers[j] : 0; }
  /// Step multiplier exponent of feature j (0 without and for padding lanes).
  int feature_shift(int j) const { return opt.feature_shifts != nullptr && j < d ? opt.feature_shifts[j] : 0; }

  void update(int32_t* w, int32_t& intercept, const uint64_t* row, int32_t label, int i, int64_t, int epoch,
              int shift) {
    const uint32_t key = sample_stream_key(seed, epoch, i);
    int32_t codes[M * K], one[K], step[S + 1], acc[M];
#pragma HLS ARRAY_PARTITION variable = codes complete
#pragma HLS ARRAY_PARTITION variable = one complete
#pragma HLS ARRAY_PARTITION variable = step complete
#pragma HLS ARRAY_PARTITION variable = acc complete
  acc_init_loop:
    for (int m = 0; m < M; ++m) acc[m] = 0;
  dot_loop:
    for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
      decode_all<Bits, E, M>(row + l * kLineWords, key, l, codes, one);
    dot_sample_loop:
      for (int m = 1; m < M; ++m)
      dot_lane_loop:
        for (int k = 0; k < K; ++k)
          acc[m] = wrap_add(acc[m], wrap_mul(codes[m * K + k] - center(l * K + k), w[l * K + k] >> kDotDrop));
    }
    bool weight_saturated = false;
    const int64_t r =
        reg.weighted(polynomial_residual<M>(acc, label, intercept, dot_mult, coef, range_q16), i, weight_saturated);
    const SampleStep st = residual_step(r, dot_mult, shift, S, pmax);  // |c - m_j| <= S
    if (st.saturated || weight_saturated) ++counts.saturated;
    const int64_t pred = linear_prediction(acc[1], intercept, dot_mult);  // sample 1's (the loss estimate's)
    report_predictions(report, i, pred, pred);
  step_table_loop:
    for (int c = 0; !conditioned && c <= S; ++c) step[c] = code_step(st.g, c);
  update_loop:
    for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
      decode_first<Bits, E, M>(row + l * kLineWords, key, l, codes, one);
    update_lane_loop:
      for (int k = 0; k < K; ++k) {
        const int j = l * K + k;
        const int32_t delta =
            conditioned ? conditioned_step(st.g, codes[k] - center(j), feature_shift(j)) : step[codes[k]];
        if (penalized && j < d)  // decay of the model the gradient was taken at, then the L1 step
          w[j] = reg.stepped(w[j], delta, j, shift);
        else
          w[j] = wrap_sub(w[j], delta);
      }
    }
    if (opt.fit_intercept) intercept = wrap_sub(intercept, st.dc);
  }

  void end_epoch(int epoch) { counts.flush(report, epoch); }
};

/**
 * @brief Logistic regression by polynomial approximation (M = degree + 1 samples).
 *
 * The logistic loss log(1 + exp(-y z)) has derivative -y h(y z), h(t) = 1/(1 + e^t).
 * With P(t) = sum_k c_k t^k ~ h(t) on [-R, R] (degree M - 1), and independent samples
 * Q_0..Q_{M-1} of the row a, the estimate
 *   P^ = c_0 + z_1 (c_1 + z_2 (c_2 + ... + z_{M-1} c_{M-1})),  z_m = clamp(y Q_m(a)^T w + y c, -R, R)
 * is unbiased for P(y a^T w + y c) when no z_m is clamped (each z_m appears once, and the
 * samples are independent), and the step uses sample 0:
 *   r = -y P^ (Q16),  w_j -= round(g Q_0(a)_j / 2^8) with g from r as in sgd_linear.
 * With `reg` (Regularization, sgd.hpp): r weighted by the sample's weight, each w_j decayed
 * before its step and soft-thresholded after it, as in sgd_linear.
 * With `opt` (LogisticOptions): every sample's codes c_j read as c_j - m_j (in the dot
 * products and the step) and feature j's step times 2^p_j, as sgd_linear's conditioning:
 *   w_j -= conditioned_step(g, Q_0(a)_j - m_j, p_j);
 * without fit_intercept the intercept keeps its value.
 * With Double data the M samples are drawn afresh every epoch from the stored fine grid
 * (independent given the stored values; stream (kStreamSample, epoch, i) of `seed`), with
 * Multi data they are stored; with Naive or Nearest data every z_m and the step use the
 * one stored sample (the biased baselines).
 * Fixed point: z_m Q16, c_k and the Horner accumulator Q30 (kPolyFrac; int64, saturated
 * to +-2^40), P^ rounded to Q16.
 *
 * @tparam Bits        bits per level code (1, 2, 3, 4, 6, 8)
 * @tparam E           one of kLogisticSamplings: Double or Multi (M samples per value), Naive or Nearest
 * @tparam M           degree + 1: one of kMultiSamples (4, 6, 8)
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param data         packed rows, [copy][row][line][8 words]
 * @param labels       n labels, +-65536 (+-1 in Q16)
 * @param n            samples per pass: the rows per copy, or with one copy and `rows`, len(rows)
 * @param d            features (d <= MaxFeatures)
 * @param n_copies     quantized copies in `data`; epoch e reads copy e % n_copies
 * @param epochs       number of passes
 * @param step_shift   eta_0 = 2^-step_shift, 1 <= step_shift <= 40
 * @param decay_epochs eta halves every decay_epochs epochs; 0 keeps it constant
 * @param dot_mult     Q24 scale from codes to scaled values: round(2^24 / (2^Bits - 1))
 * @param coef         M polynomial coefficients c_0..c_{M-1}, Q30
 * @param range_q16    R in Q16
 * @param model_in     initial model, d weights then the intercept, Q24
 * @param history      output, epochs x (d + 1): the model after each epoch
 * @param seed         Double: the seed of the samples' draws
 * @param report       optional outputs (sgd.hpp): predictions (both columns from sample 1,
 *                     the first of the polynomial's), saturations
 * @param rows         the row of the copy that sample i reads, or nullptr: row i (sgd_epochs)
 * @param reg          sample weights (pass order) and penalties (sgd.hpp); default: none
 * @param opt          centers, step multipliers, fit_intercept; default: none, none, true
 */
template <int Bits, Sampling E, int M, int MaxFeatures>
void sgd_logistic(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                  int step_shift, int decay_epochs, int32_t dot_mult, const int64_t* coef, int32_t range_q16,
                  const int32_t* model_in, int32_t* history, uint32_t seed = 0,
                  const PassReport& report = PassReport{}, const int64_t* rows = nullptr,
                  const Regularization& reg = Regularization{}, const LogisticOptions& opt = LogisticOptions{}) {
  static_assert(supported_bits(Bits), "Bits must be one of kSupportedBits");
  static_assert(in_list(kLogisticSamplings, E),
                "sgd_logistic reads the samplings of kLogisticSamplings (Double, Multi, Naive, Nearest)");
  static_assert(in_list(kMultiSamples, M), "M must be one of kMultiSamples");
  const int n_lines = lines_per_row(d, Bits, E, M);
  LogisticRow<Bits, E, M, MaxFeatures> row{n_lines,
                                            dot_mult,
                                            coef,
                                            range_q16,
                                            seed,
                                            d,
                                            reg,
                                            reg.penalized(),
                                            opt,
                                            max_feature_shift(opt.feature_shifts, d),
                                            opt.centers != nullptr || opt.feature_shifts != nullptr,
                                            report,
                                            {}};
  sgd_epochs<values_per_line(Bits, E, M), MaxFeatures>(row, data, labels, n, d, n_lines, n_copies, epochs,
                                                        step_shift, decay_epochs, model_in, history, rows);
}

}  // namespace zipml
