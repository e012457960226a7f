// SGD for linear models over packed low-precision data: the epoch skeleton shared by
// the quantized kernels, and sgd_linear, whose loss is a policy type (losses.hpp).
// Fixed-point formats and the step schedule are in docs/FORMATS.md.
#pragma once
#include <cstdint>

#include "fixed_point.hpp"
#include "format.hpp"
#include "layout.hpp"
#include "losses.hpp"
#include "model_store.hpp"
#include "rng.hpp"
#include "schedule.hpp"
#include "tripcount.hpp"

namespace zipml {

/// The samplings sgd_linear reads (the Python side's TRAINING_SAMPLINGS): one level code
/// (Naive, Nearest) or two samples (Double) per value. Multi data is for sgd_logistic.
constexpr Sampling kLinearSamplings[] = {Sampling::Double, Sampling::Naive, Sampling::Nearest};

/// The prediction (Q16) from the dot product `acc` (int32: codes times w >> 8, or level
/// table values times w >> 10 with `frac` = kTableDotFrac, the 2^2 of the coarser model
/// taken from the shift) and the intercept; |acc dot_mult| < 2^62.
inline int64_t linear_prediction(int64_t acc, int32_t intercept, int32_t dot_mult, int frac = kDotMultFrac) {
  return ((acc * dot_mult) >> frac) + (intercept >> kDotDrop);
}

/// Refetching: whether the margin y * pred of a low-precision prediction (Q16) lies within
/// `band` of 1, where the margin test could go either way. band: the prediction's largest
/// error, l1 = sum_j |w_j| times one level step ((l1 >> 8) dot_mult >> 24 for uniform
/// levels; l1 >> 8 for level tables, whose values are exact).
inline bool in_refetch_band(int32_t label, int64_t pred, int64_t band) {
  const int64_t margin = (label > 0 ? 1 : -1) * pred;
  const int64_t one = int64_t{1} << kLabelFrac;
  return margin - one <= band && one - margin <= band;
}

/// What one sample contributes: g, the model step per unit of level value (Q32, so
/// w_j -= code_step(g, v_j) = sat32(round(g * v_j / 2^8))), and dc, the intercept step
/// (Q24, saturated). `saturated`: the step of the largest level value or the intercept
/// step does not fit int32, i.e. it is larger than the model's whole range, so the
/// model overflows whatever is done; it is saturated there and counted (never below).
struct SampleStep {
  int64_t g;
  int32_t dc;
  bool saturated;
};

/// Steps from a residual r (Q16, |r| < 2^31) at step 2^-shift (shift >= 1), for level
/// values up to `vmax` (the largest code, or 2^10 for level tables) and per-feature step
/// multipliers up to 2^pmax: |g| < 2^47. `saturated` when the largest possible weight step,
/// 2^pmax round(g vmax / 2^8), or the intercept step leaves int32. Shared by every
/// quantized kernel (see sgd_linear).
inline SampleStep residual_step(int64_t r, int32_t dot_mult, int shift, int32_t vmax, int pmax = 0) {
  const int64_t g = round_shift(r * dot_mult, kUpdateFrac + shift);
  const int64_t dc = round_shift(r * (1 << kDotDrop), shift);
  const int64_t top = round_shift(g * vmax, kUpdateFrac);
  const int64_t limit = int64_t{INT32_MAX} >> pmax;
  return {g, saturate32(dc), top > limit || top < -limit - 1 || dc != saturate32(dc)};
}

/**
 * Sample weights and penalties of the quantized kernels (docs/API.md, "Sample weights and
 * penalties"); each pointer nullptr: none, and then every step is the unweighted,
 * unpenalised one, bit for bit.
 *  - sample_weights: per sample of the pass (the labels' order), u_i in Q16 (kWeightFrac),
 *    0 <= u_i < 2^31: the residual becomes sat32(round(r u_i / 2^16)) before the steps are
 *    formed (a weight of 1, 2^16, leaves r as it is); a residual that leaves int32 is
 *    saturated and counted with the saturated steps.
 *  - decay: per feature, a_j in Q32 (kPenaltyFrac), 0 <= a_j < 2^31: L2 weight decay, every
 *    sample w_j -= round(w_j a_j / 2^(32 + shift)) before its step (the step's gradient is
 *    that of the model before the decay, as scikit-learn's SGD); nothing where 32 + shift
 *    passes 62 (|w_j a_j| < 2^62 rounds to 0 there).
 *  - l1: per feature, t_j in Q32, 0 <= t_j < 2^31: after the step, the proximal step of the
 *    L1 penalty (soft thresholding) by T_j = round(t_j / 2^(8 + shift)) (Q24): w_j -> w_j - T_j
 *    if w_j > T_j, w_j + T_j if w_j < -T_j, else 0.
 * The host folds the penalty's strength, the feature scaling and the step multipliers 2^q_j
 * into a_j and t_j; the intercept is neither decayed nor thresholded.
 */
struct Regularization {
  const int32_t* sample_weights = nullptr;
  const int32_t* decay = nullptr;
  const int32_t* l1 = nullptr;

  /// True when a penalty touches the weights every sample (decay or l1).
  bool penalized() const { return decay != nullptr || l1 != nullptr; }

  /// Residual r (Q16) of sample i weighted by its weight; `saturated` is set when the
  /// weighted residual leaves int32 (it is saturated there).
  int64_t weighted(int64_t r, int i, bool& saturated) const {
    if (sample_weights == nullptr) return r;
    const int64_t x = round_shift(r * sample_weights[i], kWeightFrac);
    if (x != saturate32(x)) saturated = true;
    return saturate32(x);
  }

  /// The L2 decay's shift at step 2^-shift (w_j a_j is divided by 2^this), or 0 where
  /// nothing decays (no decay, or 32 + shift past 62).
  int decay_shift(int shift) const {
    const int s = kPenaltyFrac + shift;
    return decay == nullptr || s > 62 ? 0 : s;
  }

  /// Weight j (< d) after the L2 decay of one sample at step 2^-shift.
  int32_t decayed(int32_t w, int j, int shift) const {
    const int s = decay_shift(shift);
    if (s == 0) return w;
    return wrap_sub(w, static_cast<int32_t>(round_shift(int64_t{w} * decay[j], s)));
  }

  /// Feature j's L1 threshold T_j (Q24) at step 2^-shift (l1 non-null).
  int32_t threshold(int j, int shift) const {
    const int s = kPenaltyFrac - kModelFrac + shift;
    return s > 62 ? 0 : static_cast<int32_t>(round_shift(l1[j], s));
  }

  /// Weight j (< d) after the L1 proximal step of one sample at step 2^-shift.
  int32_t thresholded(int32_t w, int j, int shift) const {
    if (l1 == nullptr) return w;
    const int32_t t = threshold(j, shift);
    return w > t ? w - t : (w < -t ? w + t : 0);
  }

  /// Weight j (< d) after one sample's step `delta` between the penalties: decayed (the
  /// step's gradient is that of the model before the decay), stepped, then thresholded.
  int32_t stepped(int32_t w, int32_t delta, int j, int shift) const {
    return thresholded(wrap_sub(decayed(w, j, shift), delta), j, shift);
  }

  /// Weights 0..d-1 after one sample's penalties without a step from its row (residual 0).
  void penalize(int32_t* w, int d, int shift) const {
  penalty_loop:
    for (int j = 0; j < d; ++j) w[j] = thresholded(decayed(w[j], j, shift), j, shift);
  }
};

/// What the quantized kernels report besides the models; each output is optional
/// (nullptr: not written).
struct PassReport {
  /// n x 2, Q16 (saturated to int32): the predictions of the last epoch's pass, each
  /// made before its sample's update, from the first sample (or the exact row where it
  /// was refetched) and from the second (losses with kSecondSample on Double data,
  /// against the unrounded model; else, and where the residual is 0, the first again).
  /// The host's training loss is computed from these (spec/losses.py), never from X.
  int32_t* predictions = nullptr;
  int32_t* saturations = nullptr;  ///< per epoch: samples whose step saturated (SampleStep)
  int32_t* refetches = nullptr;    ///< per epoch: samples refetched (losses with kRefetch)
};

/// Writes sample i's two predictions (Q16) to the report, if it asks for them.
inline void report_predictions(const PassReport& report, int i, int64_t first, int64_t second) {
  if (report.predictions == nullptr) return;
  report.predictions[2 * static_cast<int64_t>(i)] = saturate32(first);
  report.predictions[2 * static_cast<int64_t>(i) + 1] = saturate32(second);
}

/// Per-epoch counters of a row policy, written to the report at the end of each epoch.
struct EpochCounts {
  int32_t saturated = 0, refetched = 0;
  void flush(const PassReport& report, int epoch) {
    if (report.saturations != nullptr) report.saturations[epoch] = saturated;
    if (report.refetches != nullptr) report.refetches[epoch] = refetched;
    saturated = refetched = 0;
  }
};

/**
 * @brief The epoch skeleton of the quantized SGD kernels, written once.
 *
 * Holds the model on chip (d weights, padding lanes 0, and the intercept), visits the
 * n rows of copy e % n_copies in order with the step shift of epoch e, and writes the
 * model after every epoch to `history`. What a sample does is the row policy's.
 *
 * @tparam K           values per line: the model's partition factor
 * @tparam MaxFeatures largest d the on-chip model holds
 * @tparam Row         the per-sample step: `void update(int32_t* w, int32_t& intercept,
 *                     const uint64_t* row, int32_t label, int i, int64_t source, int epoch,
 *                     int shift)` (sample i of the pass, row `source` of the data), and
 *                     `void end_epoch(int epoch)`, called after the epoch's history row
 * @param row          the row policy
 * @param data         packed rows, [copy][row][line][8 words]
 * @param labels       n labels, int32 Q16
 * @param n            samples per pass: the rows per copy, or with one copy and `rows`, len(rows)
 * @param d            features (d <= MaxFeatures)
 * @param n_lines      lines per row
 * @param n_copies     quantized copies in `data`
 * @param epochs       number of passes
 * @param step_shift   eta_0 = 2^-step_shift
 * @param decay_epochs eta halves every decay_epochs epochs; 0 keeps it constant
 * @param model_in     initial model, d weights then the intercept, Q24
 * @param history      output, epochs x (d + 1)
 * @param rows         the row of the copy that sample i reads (an epoch's order: the host
 *                     need not reorder the data; labels come in that order), or nullptr: row i
 */
template <int K, int MaxFeatures, class Row>
void sgd_epochs(Row& row, const uint64_t* data, const int32_t* labels, int n, int d, int n_lines, int n_copies,
                int epochs, int step_shift, int decay_epochs, const int32_t* model_in, int32_t* history,
                const int64_t* rows = nullptr) {
  constexpr int kPadded = (MaxFeatures + K - 1) / K * K;
  ZIPML_MODEL_ARRAY(int32_t, w, kPadded);  // on chip; padding lanes see zero codes and stay 0
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = K
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
init_loop:
  for (int j = 0; j < n_lines * K; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = K max = kPadded
    w[j] = j < d ? model_in[j] : 0;
  }
  int32_t intercept = model_in[d];
epoch_loop:
  for (int e = 0; e < epochs; ++e) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxEpochs
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
  row_loop:
    for (int i = 0; i < n; ++i) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxRows
      const int64_t source = rows == nullptr ? static_cast<int64_t>(i) : rows[i];
      row.update(w, intercept, copy + source * row_words, labels[i], i, source, e, shift);
    }
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
  history_loop:
    for (int j = 0; j < d; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures
      out[j] = w[j];
    }
    out[d] = intercept;
    row.end_epoch(e);
  }
}

/// How SgdOptions::model_bits and grad_bits round a vector (docs/FORMATS.md sec. 7b; the
/// ids of zipml_hls.spec.format.MODEL_QUANTIZATIONS): Grid, stochastically onto a signed
/// power-of-two grid that covers its largest entry; Qsgd, stochastically onto s = 2^(b-1) - 1
/// levels of its 2-norm (QSGD, the paper's form).
enum class Quantization : int { Grid = 0, Qsgd = 1 };

/// The rounding of one vector (the model before a dot product, or one sample's steps) to
/// `bits` bits (0: exact): Grid onto multiples of 2^k; Qsgd onto the levels of the norm
/// N = r 2^k (qsgd_round; r from the vector's qsgd_norm_term sum, set by the caller).
struct VectorRounding {
  int bits;
  bool qsgd;
  int k;
  uint32_t r;

  int32_t operator()(int32_t x, uint32_t rnd) const {
    if (bits == 0) return x;
    return qsgd ? qsgd_round(x, r, k, (int32_t{1} << (bits - 1)) - 1, rnd) : round_to_grid(x, k, rnd);
  }
};

/// The rounding of a vector whose entries are at most `top` in magnitude: Grid's shift, or
/// Qsgd's norm shift (then r is still to be set from the vector's norm).
inline VectorRounding vector_rounding(int bits, Quantization how, int64_t top) {
  const bool qsgd = how == Quantization::Qsgd;
  const int k = bits == 0 ? 0 : (qsgd ? qsgd_norm_shift(top) : grid_shift(top, (int64_t{1} << (bits - 1)) - 1));
  return {bits, qsgd, k, 0};
}

/// Options of sgd_linear beyond its loss (docs/FORMATS.md sec. 7-9): runtime values of
/// the CPU build; the synthesis tops use the defaults.
struct SgdOptions {
  int model_bits = 0;              ///< 2..24: the dot product uses the model rounded to this many bits; 0: exact
  int grad_bits = 0;               ///< 2..24: each update is rounded to this many bits; 0: exact
  Quantization quantization = Quantization::Grid;  ///< how model_bits and grad_bits round
  uint32_t seed = 0;               ///< seed of the sample (Double data), model and gradient rounding streams
  const uint32_t* full = nullptr;  ///< losses with kRefetch: n x d full-precision Q0.24 positions; nullptr: never
  /// d per-feature step multipliers: feature j steps 2^p_j times the shared step
  /// (0 <= p_j <= kMaxFeatureShift; a diagonal preconditioner); nullptr: all 0
  const uint8_t* feature_shifts = nullptr;
  /// d per-feature centers m_j in level-value units (a code in [0, s] for uniform codes,
  /// Q0.10 in [0, 1024] for level tables): the model sees every value minus its center,
  /// v_j - m_j, so it trains on centred features; nullptr: no centering
  const int32_t* centers = nullptr;
  /// Double data: d per-feature variances V_j (Q32, in [0, 2^26]) of the stored copy's
  /// one-time rounding to the fine grid, in the model's units (scaled values squared). Both
  /// samples are drawn from the stored values, so E[q1 q2^T] carries diag(V) on top of the
  /// data's a a^T: a ridge-like pull. After every kCorrectionRows samples (and the pass's
  /// last), with c the samples since the last correction, w_j += sat32(round(w_j V_j c
  /// 2^q_j / 2^(32 + shift))): the expected c steps of eta 2^q_j V_j w_j that cancel it
  /// (docs/FORMATS.md sec. 5). nullptr: no correction
  const int32_t* stored_variance = nullptr;
  Regularization reg;  ///< sample weights and penalties; default: none
  /// false: the intercept keeps model_in's value (scikit-learn's fit_intercept=False: with
  /// the centers at the level value of x = 0 the model is w.x in the user's units, no offset)
  bool fit_intercept = true;
};

/// A weight after the stored-rounding correction of `count` samples (SgdOptions::
/// stored_variance): w + sat32(round(w v count 2^q / 2^(32 + shift))), wrapping; 0 added
/// where that shift passes 62 (|w v count| < 2^62 rounds to 0 there).
inline int32_t stored_rounding_corrected(int32_t w, int32_t v, int q, int count, int shift) {
  const int s = kVarianceFrac + shift - q;
  if (s > 62) return w;
  const int64_t pull = int64_t{w} * (int64_t{v} * count);  // |.| < 2^31 2^26 2^5
  return wrap_add(w, saturate32(round_shift(pull, s)));
}

/// The stored-rounding correction of `count` samples on the d weights of w, feature j's
/// step scaled by 2^shifts[j] (shifts nullptr: all 0).
inline void correct_stored_rounding(int32_t* w, int d, const int32_t* variance, const uint8_t* shifts, int count,
                                    int shift) {
correction_loop:
  for (int j = 0; j < d; ++j)
    w[j] = stored_rounding_corrected(w[j], variance[j], shifts != nullptr ? shifts[j] : 0, count, shift);
}

/// Largest of d per-feature step exponents (0 without: `shifts` nullptr).
inline int max_feature_shift(const uint8_t* shifts, int d) {
  int pmax = 0;
  for (int j = 0; shifts != nullptr && j < d; ++j) pmax = shifts[j] > pmax ? shifts[j] : pmax;
  return pmax;
}

/// The per-sample step of sgd_linear (a row policy of sgd_epochs).
template <int Bits, Sampling E, class Loss, int MaxFeatures>
struct LinearRow {
  static constexpr int K = values_per_line(Bits, E);
  static constexpr int S = max_code(Bits);
  static constexpr int kMaxLines = (MaxFeatures + K - 1) / K;
  int n, d, n_lines;
  int32_t dot_mult;
  const int32_t* values;
  SgdOptions opt;
  PassReport report;
  int pmax;  // max_feature_shift(opt.feature_shifts, d)
  bool conditioned;  // centers or feature shifts given
  bool penalized;  // opt.reg.penalized()
  EpochCounts counts;

  /// Per-feature step multiplier exponent of feature j (0 for padding lanes).
  int feature_shift(int j) const { return opt.feature_shifts != nullptr && j < d ? opt.feature_shifts[j] : 0; }

  /// Model bits a dot product drops: w >> 8 against codes, w >> 10 against Q0.10 level
  /// table values (up to 1024), so that either sum stays within int32 (summed wrapping).
  int dot_drop() const { return values == nullptr ? kDotDrop : kTableDotDrop; }

  /// The prediction's shift of acc * dot_mult (linear_prediction).
  int dot_frac() const { return values == nullptr ? kDotMultFrac : kTableDotFrac; }

  /// Center of feature j in level-value units (0 without centering and for padding lanes).
  int32_t center(int j) const { return opt.centers != nullptr && j < d ? opt.centers[j] : 0; }

  /// Value of the level of `code` of feature j: the code itself, or its table value.
  int32_t level_value(int j, int32_t code) const {
    return values == nullptr ? code : values[(j < d ? j : 0) * (S + 1) + code];
  }

  /// The step of feature j (< d, or a padding lane) for level code `code` of the row's second
  /// sample: from `step` (the codes' steps) where `tabled`, else conditioned_step.
  int32_t lane_step(int j, int32_t code, int64_t g, bool tabled, const int32_t* step) const {
    return tabled ? step[code] : conditioned_step(g, level_value(j, code) - center(j), feature_shift(j));
  }

  /// Qsgd gradient rounding: the root r of the norm of the row's d steps (a pass over the
  /// row's second sample, which decodes as the update loop's; norm shift t).
  uint32_t step_norm_root(const uint64_t* row, uint32_t sample_key, int64_t g, bool tabled, const int32_t* step,
                          int t) const {
    int32_t first[K], second[K];
#pragma HLS ARRAY_PARTITION variable = first complete
#pragma HLS ARRAY_PARTITION variable = second complete
    uint64_t sum = 0;
  grad_norm_loop:
    for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
      decode_line<Bits, E>(row + l * kLineWords, sample_key, l, first, second);
    grad_norm_lane_loop:
      for (int k = 0; k < K; ++k) {
        const int j = l * K + k;
        if (j < d) sum += qsgd_norm_term(lane_step(j, second[k], g, tabled, step), t);
      }
    }
    return qsgd_norm_root(sum);
  }

  /// The step of every weight from the row's second sample (g per unit of level value;
  /// `step`: the steps of the codes where `tabled`; grad, grad_key: gradient rounding), with
  /// opt.reg's decay before and L1 step after it where kPenalized (an instance of its own,
  /// so that the plain loop is unchanged). Returns the second sample's dot product against
  /// the weights before the step (losses with kSecondSample on Double data; else 0).
  template <bool kPenalized>
  int32_t step_weights(int32_t* w, const uint64_t* row, uint32_t sample_key, int64_t g, bool tabled,
                       const int32_t* step, const VectorRounding& grad, uint32_t grad_key, int shift) const {
    constexpr bool kSecond = E == Sampling::Double && Loss::kSecondSample;
    int32_t first[K], second[K];
#pragma HLS ARRAY_PARTITION variable = first complete
#pragma HLS ARRAY_PARTITION variable = second complete
    int32_t acc2 = 0;
  update_loop:
    for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
      decode_line<Bits, E>(row + l * kLineWords, sample_key, l, first, second);
    update_lane_loop:
      for (int k = 0; k < K; ++k) {
        const int j = l * K + k;
        if (kSecond) acc2 = wrap_add(acc2, wrap_mul(level_value(j, second[k]) - center(j), w[j] >> dot_drop()));
        int32_t delta = lane_step(j, second[k], g, tabled, step);
        if (grad.bits > 0 && j < d) delta = grad(delta, draw(grad_key, static_cast<uint32_t>(j)));
        if (kPenalized && j < d)  // the decay of the model the step's gradient was taken at, then the L1 step
          w[j] = opt.reg.stepped(w[j], delta, j, shift);
        else
          w[j] = wrap_sub(w[j], delta);
      }
    }
    return acc2;
  }

  void update(int32_t* w, int32_t& intercept, const uint64_t* row, int32_t label, int i, int64_t source, int epoch,
              int shift) {
    int32_t first[K], second[K], step[S + 1];
#pragma HLS ARRAY_PARTITION variable = first complete
#pragma HLS ARRAY_PARTITION variable = second complete
#pragma HLS ARRAY_PARTITION variable = step complete
    // The model as the dot product sees it: exact, or rounded to model_bits.
    int64_t maxabs = 0;
  maxabs_loop:
    for (int j = 0; opt.model_bits > 0 && j < d; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures
      maxabs = w[j] < 0 ? (-int64_t{w[j]} > maxabs ? -int64_t{w[j]} : maxabs) : (w[j] > maxabs ? w[j] : maxabs);
    }
    VectorRounding model = vector_rounding(opt.model_bits, opt.quantization, maxabs);
    if (model.qsgd && model.bits > 0) {
      uint64_t sum = 0;
    model_norm_loop:
      for (int j = 0; j < d; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures
        sum += qsgd_norm_term(w[j], model.k);
      }
      model.r = qsgd_norm_root(sum);
    }
    const uint32_t model_key = stream_key(opt.seed, kStreamModel, static_cast<uint32_t>(epoch), static_cast<uint32_t>(i));
    const uint32_t sample_key = sample_stream_key(opt.seed, epoch, i);  // Double: this epoch's two samples
    int32_t acc = 0;
    int64_t l1 = 0;  // sum_j |v_j| u_j, for the refetch band (Q24, in units of 1/s or 1)
  dot_loop:
    for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
      decode_line<Bits, E>(row + l * kLineWords, sample_key, l, first, second);
    dot_lane_loop:
      for (int k = 0; k < K; ++k) {
        const int j = l * K + k;
        const int32_t v = model.bits > 0 && j < d ? model(w[j], draw(model_key, static_cast<uint32_t>(j))) : w[j];
        acc = wrap_add(acc, wrap_mul(level_value(j, first[k]) - center(j), v >> dot_drop()));
        if (Loss::kRefetch) l1 += v < 0 ? -int64_t{v} : int64_t{v};
      }
    }
    int64_t pred = linear_prediction(acc, intercept, dot_mult, dot_frac());
    // Refetching: the low-precision margin y*pred is within the band of the exact one,
    // so where |y*pred - 1| <= band the margin test could go either way: the sample is
    // refetched at full precision and its exact prediction decides.
    bool refetch = false;
    if (Loss::kRefetch && opt.full != nullptr) {
      const int64_t band = values == nullptr ? ((l1 >> kDotDrop) * dot_mult) >> kDotMultFrac : (l1 >> kDotDrop);
      if (in_refetch_band(label, pred, band)) {
        refetch = true;
        ++counts.refetched;
        const uint32_t* p = opt.full + source * d;
        int64_t exact = 0;
      refetch_dot_loop:
        for (int j = 0; j < d; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures
          exact += (static_cast<int64_t>(p[j]) - int64_t{center(j)} * dot_mult) * (w[j] >> kDotDrop);
        }
        pred = (exact >> kPosFrac) + (intercept >> kDotDrop);
      }
    }
    bool weight_saturated = false;
    const int64_t r = opt.reg.weighted(Loss::residual_q16(pred, label), i, weight_saturated);
    const int32_t vmax = values == nullptr ? S : (1 << kLevelValueFrac);  // largest level value
    const SampleStep st = residual_step(r, dot_mult, shift, vmax, pmax);
    if (st.saturated || weight_saturated) ++counts.saturated;
    // The second sample's prediction (the loss estimate's second factor), against the
    // model before this update: accumulated in the update loop, which reads it anyway.
    constexpr bool kSecond = E == Sampling::Double && Loss::kSecondSample;
    int32_t acc2 = 0;
    if (refetch) {
      const uint32_t* p = opt.full + source * d;
    refetch_update_loop:
      for (int j = 0; j < d; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures
        const int64_t centred = static_cast<int64_t>(p[j]) - int64_t{center(j)} * dot_mult;  // Q0.24
        const int32_t delta = saturate32(round_shift(r * centred, kLabelFrac + shift - feature_shift(j)));
        w[j] = opt.reg.stepped(w[j], delta, j, shift);
      }
    } else if (r != 0) {
      // uniform codes without conditioning read their steps from a table of the codes
      const bool tabled = values == nullptr && !conditioned;
    step_table_loop:
      for (int c = 0; tabled && c <= S; ++c) step[c] = code_step(st.g, c);
      const int64_t biggest = opt.grad_bits > 0 ? conditioned_step(st.g, vmax, pmax) : 0;  // the largest |D_j|
      VectorRounding grad = vector_rounding(opt.grad_bits, opt.quantization, biggest < 0 ? -biggest : biggest);
      if (grad.qsgd && grad.bits > 0) grad.r = step_norm_root(row, sample_key, st.g, tabled, step, grad.k);
      const uint32_t grad_key = stream_key(opt.seed, kStreamGrad, static_cast<uint32_t>(epoch), static_cast<uint32_t>(i));
      acc2 = penalized ? step_weights<true>(w, row, sample_key, st.g, tabled, step, grad, grad_key, shift)
                       : step_weights<false>(w, row, sample_key, st.g, tabled, step, grad, grad_key, shift);
    } else if (penalized) {
      opt.reg.penalize(w, d, shift);
    }
    const bool second_pred = kSecond && !refetch && r != 0;
    report_predictions(report, i, pred, second_pred ? linear_prediction(acc2, intercept, dot_mult, dot_frac()) : pred);
    if (opt.fit_intercept) intercept = wrap_sub(intercept, st.dc);
    if (opt.stored_variance != nullptr && ((i + 1) % kCorrectionRows == 0 || i + 1 == n))
      correct_stored_rounding(w, d, opt.stored_variance, opt.feature_shifts, i % kCorrectionRows + 1, shift);
  }

  void end_epoch(int epoch) { counts.flush(report, epoch); }
};

/**
 * @brief SGD for a linear model over packed quantized rows: all epochs in one call.
 *
 * For each sample i (in order) of copy (epoch mod n_copies), with `first` and `second`
 * the values of the level codes of its two samples (Double: drawn afresh in every epoch
 * from the stored index and fraction, stream (kStreamSample, epoch, i) of opt.seed,
 * resample.hpp; the one stored code for Naive and Nearest): the code itself for uniform levels (`values` = nullptr; code k means
 * k/s), or values[j][code] for per-feature level tables (Q0.10: 1024 means 1.0):
 *   v_j  = w_j, or with model_bits: 2^km * round_stoch(w_j / 2^km), km the grid shift of max|w|
 *          (Grid), or QSGD's sign(w_j) ||w|| xi_j / s, xi_j a stochastic level (Qsgd, qsgd_round)
 *   acc  = sum_j (first_j - m_j) * (v_j >> D)              (int32, wrapping; D = 8, 10 for level
 *                                                           tables; m_j the feature's center, 0
 *                                                           without centering)
 *   pred = (acc * dot_mult >> (32 - D)) + (c >> 8)          (Q16)
 *   r    = Loss::residual_q16(pred, y_i)                    (Q16; losses.hpp)
 *   g    = round(r * dot_mult / 2^(8 + shift_e))            (Q32 per code unit, int64)
 *   D_j  = sat32(round(g * (second_j - m_j) * 2^q_j / 2^8)), q_j the feature's step
 *          exponent (opt.feature_shifts; 0 without; conditioned_step), or with grad_bits:
 *          2^kg * round_stoch(D_j / 2^kg), kg the grid shift of the largest possible |D_j|
 *          (Grid), or qsgd_round of D_j against the norm of the row's steps (Qsgd)
 *   w_j -= D_j,  c -= sat32(round(r * 2^8 / 2^shift_e))    (Q24, wrapping; c stays as
 *                                                           model_in's without opt.fit_intercept)
 * With opt.reg (Regularization): r weighted by the sample's weight, each w_j decayed before
 * its step D_j and soft-thresholded after it.
 * A step saturates only where it exceeds the model's range; such samples are counted
 * (PassReport::saturations), as are refetched ones; PassReport::predictions holds each
 * sample's predictions of the last epoch, from which the host computes the loss.
 * Refetching (losses with kRefetch, the hinge): the low-precision margin y*pred is
 * within eps = (sum_j |v_j| u_j) of the exact one (u_j = 1/s for uniform levels, 1 for
 * tables: the widest interval), so when |y*pred - 1| <= eps the sign of the margin test
 * could be wrong: the sample is refetched at full precision (positions p_j, Q0.24), its
 * exact prediction gives r, and the update is w_j -= round(r * (p_j - mu_j) * 2^q_j / 2^(16 + shift_e)),
 * mu_j = m_j * dot_mult the center in Q0.24 (the exact prediction uses p_j - mu_j too).
 * The model after every epoch is written to `history`.
 *
 * @tparam Bits        bits per level code (1, 2, 3, 4, 6, 8)
 * @tparam E           sampling of `data`: one of kLinearSamplings (Double, Naive, Nearest)
 * @tparam Loss        loss policy, one of LinearLosses (losses.hpp)
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param data         packed rows, [copy][row][line][8 words]
 * @param labels       n labels, int32 Q16 (+-65536 for classification losses)
 * @param n            samples per pass: the rows per copy, or with one copy and `rows`, len(rows)
 * @param d            features (d <= MaxFeatures)
 * @param n_copies     quantized copies in `data`; epoch e reads copy e % n_copies
 * @param epochs       number of passes
 * @param step_shift   eta_0 = 2^-step_shift, 1 <= step_shift <= 40
 * @param decay_epochs eta halves every decay_epochs epochs; 0 keeps it constant
 * @param dot_mult     Q24 scale from code values to scaled values: round(2^24 / (2^Bits - 1))
 *                     for uniform codes, 2^14 for Q0.10 level tables
 * @param values       per-feature level values, d x 2^Bits, or nullptr for uniform codes
 * @param model_in     initial model, d weights then the intercept, Q24
 * @param history      output, epochs x (d + 1): the model after each epoch
 * @param opt          model and gradient precision, refetching (opt.full: rows of the data)
 * @param report       optional outputs: predictions, saturations, refetches (in pass order)
 * @param rows         the row of the copy that sample i reads, or nullptr: row i (sgd_epochs)
 */
template <int Bits, Sampling E, class Loss, int MaxFeatures>
void sgd_linear(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* values, const int32_t* model_in,
                int32_t* history, const SgdOptions& opt = SgdOptions{}, const PassReport& report = PassReport{},
                const int64_t* rows = nullptr) {
  static_assert(supported_bits(Bits), "Bits must be one of kSupportedBits");
  static_assert(Contains<LinearLosses, Loss>::value,
                "sgd_linear takes a loss of LinearLosses; logistic regression is sgd_logistic (sgd_logistic.hpp)");
  static_assert(in_list(kLinearSamplings, E),
                "sgd_linear reads the samplings of kLinearSamplings (Double, Naive, Nearest); "
                "Multi is for sgd_logistic");
  const int n_lines = lines_per_row(d, Bits, E);
  LinearRow<Bits, E, Loss, MaxFeatures> row{n,      d,      n_lines,
                                             dot_mult,
                                             values,
                                             opt,
                                             report,
                                             max_feature_shift(opt.feature_shifts, d),
                                             opt.centers != nullptr || opt.feature_shifts != nullptr,
                                             opt.reg.penalized(),
                                             {}};
  sgd_epochs<values_per_line(Bits, E), MaxFeatures>(row, data, labels, n, d, n_lines, n_copies, epochs, step_shift,
                                                     decay_epochs, model_in, history, rows);
}

/// Least-squares SGD with a full-precision model and gradient: sgd_linear with the
/// squared error and default options but the seed (the kernel of the synthesis tops).
template <int Bits, Sampling E, int MaxFeatures>
void sgd_least_squares(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                       int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* values,
                       const int32_t* model_in, int32_t* history, uint32_t seed = 0) {
  SgdOptions opt;
  opt.seed = seed;
  sgd_linear<Bits, E, SquaredError, MaxFeatures>(data, labels, n, d, n_copies, epochs, step_shift, decay_epochs,
                                                 dot_mult, values, model_in, history, opt);
}

}  // namespace zipml
