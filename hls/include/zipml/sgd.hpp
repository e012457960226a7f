// Least-squares SGD over packed low-precision data (and the fp32 baseline).
// Fixed-point formats and the step schedule are in docs/FORMATS.md.
#pragma once
#include <cmath>
#include <cstdint>

#include "format.hpp"
#include "quantize.hpp"

namespace zipml {

/// Step shift of epoch e: eta_e = 2^-(step_shift + floor(e / decay_epochs)), at most 2^-40.
inline int epoch_shift(int step_shift, int decay_epochs, int epoch) {
  const int s = step_shift + (decay_epochs > 0 ? epoch / decay_epochs : 0);
  return s > kMaxShift ? kMaxShift : s;
}

/// x / 2^s rounded to nearest, ties up (s >= 1; arithmetic shift).
inline int64_t round_shift(int64_t x, int s) { return (x + (int64_t{1} << (s - 1))) >> s; }

inline int32_t saturate32(int64_t x) {
  return static_cast<int32_t>(x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : x));
}

/// Two's-complement wrapping add and subtract, without signed-overflow UB.
inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t wrap_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
inline int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

/// What one sample contributes: g, the model step per unit of level code (Q32, so
/// w_j -= round(g * code_j / 2^8)), and dc, the intercept step (Q24).
struct SampleStep {
  int32_t g;
  int32_t dc;
};

/// Steps from a residual r (Q16): g per code unit and the intercept step. Shared by
/// every kernel (see sgd_linear).
inline SampleStep residual_step(int64_t r, int32_t dot_mult, int shift) {
  return {saturate32(round_shift(r * dot_mult, kUpdateFrac + shift)),
          saturate32(round_shift(r * (1 << kDotDrop), shift))};
}

/// The least-squares per-sample arithmetic: from the dot product `acc` (codes times
/// w >> 8) to the steps. See sgd_linear.
inline SampleStep sample_step(int32_t acc, int32_t label, int32_t intercept, int32_t dot_mult, int shift) {
  const int64_t pred = ((static_cast<int64_t>(acc) * dot_mult) >> kDotMultFrac) + (intercept >> kDotDrop);
  return residual_step(saturate32(pred - label), dot_mult, shift);
}

/// Model step for a level of value c (a code, or a table value): round(g * c / 2^8).
inline int32_t code_step(int32_t g, int32_t c) {
  return static_cast<int32_t>(round_shift(static_cast<int64_t>(g) * c, kUpdateFrac));
}

/// Loss of the linear model (labels of the hinge loss are +1/-1 in Q16).
enum class Loss : int {
  LeastSquares = 0,  ///< r = pred - y
  Hinge = 1,         ///< r = -y where y * pred < 1, else 0
  Logistic = 2,      ///< r = -y sigma(-y pred) (fp32 kernel; the quantized kernel: polynomial, sgd_logistic)
};

/// Options beyond plain least squares on low-precision data (docs/FORMATS.md sec. 7-9).
struct SgdOptions {
  Loss loss = Loss::LeastSquares;
  int model_bits = 0;              ///< 2..24: the dot product uses the model rounded to this many bits; 0: exact
  int grad_bits = 0;               ///< 2..24: each update is rounded to this many bits; 0: exact
  uint32_t seed = 0;               ///< seed of the model and gradient rounding streams
  const uint32_t* full = nullptr;  ///< hinge: n x d full-precision Q0.24 positions to refetch; nullptr: never
  int32_t* refetches = nullptr;    ///< hinge: samples refetched in each epoch (epochs entries), or nullptr
};

constexpr uint32_t kStreamModel = 2u << 16;  ///< model rounding: stream (kStreamModel, epoch, row), index j
constexpr uint32_t kStreamGrad = 3u << 16;   ///< gradient rounding: stream (kStreamGrad, epoch, row), index j

/// Smallest k >= 0 with maxabs <= limit * 2^k: the power-of-two scale of a b-bit signed
/// grid (limit = 2^(b-1) - 1 steps each side) that holds every value.
inline int grid_shift(int64_t maxabs, int64_t limit) {
  int k = 0;
  while ((limit << k) < maxabs && k < 31) ++k;
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

/**
 * @brief SGD for a linear model over packed quantized rows: all epochs in one call.
 *
 * For each sample i (in order) of copy (epoch mod n_copies), with `first` and `second`
 * the values of the decoded level codes of its two samples (the same sample for Naive
 * and Nearest): the code itself for uniform levels (`values` = nullptr; code k means
 * k/s), or values[j][code] for per-feature level tables (Q0.10: 1024 means 1.0):
 *   v_j  = w_j, or with model_bits: 2^km * round_stoch(w_j / 2^km), km the grid shift of max|w|
 *   acc  = sum_j first_j * (v_j >> 8)                      (int32, wrapping)
 *   pred = (acc * dot_mult >> 24) + (c >> 8)                (Q16)
 *   r    = sat32(pred - y_i)                 least squares
 *        = -y_i if y_i * pred < 1 else 0      hinge (y_i = +-1), with refetching (below)
 *   g    = sat32(round(r * dot_mult / 2^(8 + shift_e)))      (Q32 per code unit)
 *   D_j  = round(g * second_j / 2^8), or with grad_bits: 2^kg * round_stoch(D_j / 2^kg),
 *          kg the grid shift of the largest possible |D_j|
 *   w_j -= D_j,  c -= round(r * 2^8 / 2^shift_e)           (Q24, wrapping)
 * Hinge refetching: the low-precision margin y*pred is within eps = (sum_j |v_j| u_j)
 * of the exact one (u_j = 1/s for uniform levels, 1 for tables: the widest interval), so
 * when |y*pred - 1| <= eps the sign of the margin test could be wrong: the sample is
 * refetched at full precision (positions p_j, Q0.24), its exact margin decides, and the
 * update is w_j -= round(r * p_j / 2^(16 + shift_e)). The model after every epoch is
 * written to `history`.
 *
 * @tparam Bits        bits per level code (1, 2, 3, 4, 6, 8)
 * @tparam E           encoding of `data`
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param data         packed rows, [copy][row][line][8 words]
 * @param labels       n labels, int32 Q16 (+-65536 for the hinge loss)
 * @param n            samples per copy
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
 * @param opt          loss, model and gradient precision, refetching
 */
template <int Bits, Encoding E, int MaxFeatures>
void sgd_linear(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* values, const int32_t* model_in,
                int32_t* history, const SgdOptions& opt) {
  constexpr int K = values_per_line(Bits, E);
  constexpr int S = max_code(Bits);
  constexpr int kPadded = (MaxFeatures + K - 1) / K * K;
  int32_t w[kPadded];  // on chip; padding lanes see zero codes and stay 0
  int32_t first[K], second[K], step[S + 1];
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = K
#pragma HLS ARRAY_PARTITION variable = first complete
#pragma HLS ARRAY_PARTITION variable = second complete
#pragma HLS ARRAY_PARTITION variable = step complete

  const int n_lines = lines_per_row(d, Bits, E);
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  const int32_t vmax = values == nullptr ? S : (1 << kLevelValueFrac);  // largest code value
  for (int j = 0; j < n_lines * K; ++j) w[j] = j < d ? model_in[j] : 0;
  int32_t intercept = model_in[d];

  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
    int32_t refetched = 0;
    for (int i = 0; i < n; ++i) {
      const uint64_t* row = copy + static_cast<int64_t>(i) * row_words;
      // The model as the dot product sees it: exact, or on a model_bits grid.
      int km = 0;
      if (opt.model_bits > 0) {
        int64_t maxabs = 0;
        for (int j = 0; j < d; ++j) maxabs = w[j] < 0 ? (-int64_t{w[j]} > maxabs ? -int64_t{w[j]} : maxabs)
                                                      : (w[j] > maxabs ? w[j] : maxabs);
        km = grid_shift(maxabs, (int64_t{1} << (opt.model_bits - 1)) - 1);
      }
      const uint32_t model_key = stream_key(opt.seed, kStreamModel, static_cast<uint32_t>(e), static_cast<uint32_t>(i));
      auto seen = [&](int j) {
        return opt.model_bits > 0 && j < d
                   ? static_cast<int32_t>(stochastic_shift(w[j], km, draw(model_key, static_cast<uint32_t>(j))) *
                                          (int64_t{1} << km))
                   : w[j];
      };
      int32_t acc = 0;
      int64_t l1 = 0;  // sum_j |v_j| u_j, for the hinge refetch band (Q24, in units of 1/s or 1)
      for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
        decode_line<Bits, E>(row + l * kLineWords, first, second);
        for (int k = 0; k < K; ++k) {
          const int j = l * K + k;
          const int32_t a = values == nullptr ? first[k] : values[(j < d ? j : 0) * (S + 1) + first[k]];
          const int32_t v = seen(j);
          acc = wrap_add(acc, wrap_mul(a, v >> kDotDrop));
          l1 += v < 0 ? -int64_t{v} : int64_t{v};
        }
      }
      const int32_t label = labels[i];
      const int64_t pred = ((static_cast<int64_t>(acc) * dot_mult) >> kDotMultFrac) + (intercept >> kDotDrop);
      int64_t r = saturate32(pred - label);
      bool refetch = false;
      if (opt.loss == Loss::Hinge) {
        const int64_t y = label > 0 ? 1 : -1;
        const int64_t one = int64_t{1} << kLabelFrac;
        const int64_t band = values == nullptr ? ((l1 >> kDotDrop) * dot_mult) >> kDotMultFrac : (l1 >> kDotDrop);
        int64_t margin = y * pred;
        if (opt.full != nullptr && (margin - one <= band && one - margin <= band)) {
          refetch = true;
          ++refetched;
          const uint32_t* p = opt.full + static_cast<int64_t>(i) * d;
          int64_t exact = 0;
          for (int j = 0; j < d; ++j) exact += static_cast<int64_t>(p[j]) * (w[j] >> kDotDrop);
          margin = y * ((exact >> kPosFrac) + (intercept >> kDotDrop));
        }
        r = margin < one ? -y * one : 0;
      }
      const SampleStep st = residual_step(r, dot_mult, shift);
      if (refetch) {
        const uint32_t* p = opt.full + static_cast<int64_t>(i) * d;
        for (int j = 0; j < d; ++j)
          w[j] = wrap_sub(w[j], static_cast<int32_t>(round_shift(r * static_cast<int64_t>(p[j]),
                                                                 kLabelFrac + shift)));
      } else if (r != 0) {
        for (int c = 0; c <= S; ++c) step[c] = code_step(st.g, c);
        int kg = 0;
        if (opt.grad_bits > 0) {
          const int64_t biggest = code_step(st.g, vmax);
          kg = grid_shift(biggest < 0 ? -biggest : biggest, (int64_t{1} << (opt.grad_bits - 1)) - 1);
        }
        const uint32_t grad_key =
            stream_key(opt.seed, kStreamGrad, static_cast<uint32_t>(e), static_cast<uint32_t>(i));
        for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
          decode_line<Bits, E>(row + l * kLineWords, first, second);
          for (int k = 0; k < K; ++k) {
            const int j = l * K + k;
            int32_t delta = values == nullptr ? step[second[k]]
                                              : code_step(st.g, values[(j < d ? j : 0) * (S + 1) + second[k]]);
            if (opt.grad_bits > 0 && j < d)
              delta = static_cast<int32_t>(stochastic_shift(delta, kg, draw(grad_key, static_cast<uint32_t>(j))) *
                                           (int64_t{1} << kg));
            w[j] = wrap_sub(w[j], delta);
          }
        }
      }
      intercept = wrap_sub(intercept, st.dc);
    }
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
    for (int j = 0; j < d; ++j) out[j] = w[j];
    out[d] = intercept;
    if (opt.refetches != nullptr) opt.refetches[e] = refetched;
  }
}

/// Least-squares SGD with a full-precision model and gradient: sgd_linear with default
/// options (the kernel of the synthesis tops).
template <int Bits, Encoding E, int MaxFeatures>
void sgd_least_squares(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                       int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* values,
                       const int32_t* model_in, int32_t* history) {
  sgd_linear<Bits, E, MaxFeatures>(data, labels, n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult, values,
                                   model_in, history, SgdOptions{});
}

constexpr int kPolyFrac = 30;

/// Codes of M samples of a line: the stored samples of Multi data, or the one stored
/// sample repeated (Naive, Nearest). `scratch` holds K codes.
template <int Bits, Encoding E, int M>
inline void decode_all(const uint64_t* line, int32_t* codes, int32_t* scratch) {
  constexpr int K = values_per_line(Bits, E, M);
  if (planar(E)) {
    decode_samples<Bits, E, M>(line, codes);
  } else {
    decode_line<Bits, E>(line, scratch, scratch);
    for (int m = 0; m < M; ++m)
      for (int k = 0; k < K; ++k) codes[m * K + k] = scratch[k];
  }
}  ///< polynomial coefficients and Horner accumulator: Q30 (int64)

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
 * With Multi data the M samples are independent; with Naive or Nearest data every z_m
 * and the step use the one stored sample (the biased baselines).
 * Fixed point: z_m Q16, c_k and the Horner accumulator Q30 (int64, saturated to
 * +-2^40), P^ rounded to Q16.
 *
 * @tparam Bits        bits per level code
 * @tparam E           Multi (M samples per value), Naive or Nearest
 * @tparam M           degree + 1: 4, 6 or 8
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param labels       n labels, +-65536 (+-1 in Q16)
 * @param coef         M polynomial coefficients c_0..c_{M-1}, Q30
 * @param range_q16    R in Q16
 * Other parameters as sgd_linear (uniform levels: dot_mult = round(2^24 / s)).
 */
template <int Bits, Encoding E, int M, int MaxFeatures>
void sgd_logistic(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                  int step_shift, int decay_epochs, int32_t dot_mult, const int64_t* coef, int32_t range_q16,
                  const int32_t* model_in, int32_t* history) {
  constexpr int K = values_per_line(Bits, E, M);
  constexpr int S = max_code(Bits);
  constexpr int kPadded = (MaxFeatures + K - 1) / K * K;
  int32_t w[kPadded];
  int32_t codes[M * K], one[K], step[S + 1], acc[M];
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = K
#pragma HLS ARRAY_PARTITION variable = codes complete
#pragma HLS ARRAY_PARTITION variable = step complete
#pragma HLS ARRAY_PARTITION variable = acc complete

  const int n_lines = lines_per_row(d, Bits, E, M);
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  const int64_t limit = int64_t{1} << 40;
  for (int j = 0; j < n_lines * K; ++j) w[j] = j < d ? model_in[j] : 0;
  int32_t intercept = model_in[d];

  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
    for (int i = 0; i < n; ++i) {
      const uint64_t* row = copy + static_cast<int64_t>(i) * row_words;
      for (int m = 0; m < M; ++m) acc[m] = 0;
      for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
        decode_all<Bits, E, M>(row + l * kLineWords, codes, one);
        for (int m = 1; m < M; ++m)
          for (int k = 0; k < K; ++k) acc[m] = wrap_add(acc[m], wrap_mul(codes[m * K + k], w[l * K + k] >> kDotDrop));
      }
      const int64_t y = labels[i] > 0 ? 1 : -1;
      int64_t h = coef[M - 1];
      for (int m = M - 1; m >= 1; --m) {
        const int64_t pred = ((static_cast<int64_t>(acc[m]) * dot_mult) >> kDotMultFrac) + (intercept >> kDotDrop);
        int64_t z = y * pred;
        z = z > range_q16 ? range_q16 : (z < -range_q16 ? -range_q16 : z);
        h = coef[m - 1] + ((z * h) >> kLabelFrac);
        h = h > limit ? limit : (h < -limit ? -limit : h);
      }
      const int64_t r = saturate32(-y * round_shift(h, kPolyFrac - kLabelFrac));
      const SampleStep st = residual_step(r, dot_mult, shift);
      for (int c = 0; c <= S; ++c) step[c] = code_step(st.g, c);
      for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
        decode_all<Bits, E, M>(row + l * kLineWords, codes, one);
        for (int k = 0; k < K; ++k) w[l * K + k] = wrap_sub(w[l * K + k], step[codes[k]]);
      }
      intercept = wrap_sub(intercept, st.dc);
    }
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
    for (int j = 0; j < d; ++j) out[j] = w[j];
    out[d] = intercept;
  }
}

/**
 * @brief The 32-bit baseline: the same SGD and schedule on float32 scaled data.
 *
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param X            n rows of scaled float32 data, `row_stride` floats apart
 * @param row_stride   floats between rows (d, or d rounded up to 16 for 512-bit lines)
 * @param y            n labels (scaled units)
 * @param model_in     initial model, d weights then the intercept
 * @param history      output, epochs x (d + 1)
 * Other parameters as sgd_least_squares.
 */
template <int MaxFeatures>
void sgd_fp32(const float* X, int64_t row_stride, const float* y, int n, int d, int epochs,
              int step_shift, int decay_epochs, const float* model_in, float* history,
              Loss loss = Loss::LeastSquares) {
  alignas(64) float w[MaxFeatures];
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = 16
  for (int j = 0; j < d; ++j) w[j] = model_in[j];
  float intercept = model_in[d];
  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    float eta = 1.0f;
    for (int s = 0; s < shift; ++s) eta *= 0.5f;
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int j = 0; j < d; ++j) acc += X[j] * w[j];
    for (int i = 0; i < n; ++i) {
      const float* x = X + static_cast<int64_t>(i) * row_stride;
      const float pred = acc + intercept;
      float r = pred - y[i];  // least squares
      if (loss == Loss::Hinge) r = y[i] * pred < 1.0f ? -y[i] : 0.0f;
      if (loss == Loss::Logistic) r = -y[i] / (1.0f + std::exp(y[i] * pred));
      const float step = eta * r;
      intercept -= step;
      // One pass over the model: update with row i and dot row i+1 against the updated
      // weights (the same arithmetic as two passes; it keeps memory streaming).
      const float* next = X + static_cast<int64_t>(i + 1 < n ? i + 1 : i) * row_stride;
      acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (int j = 0; j < d; ++j) {
        w[j] -= step * x[j];
        acc += next[j] * w[j];
      }
    }
    float* out = history + static_cast<int64_t>(e) * (d + 1);
    for (int j = 0; j < d; ++j) out[j] = w[j];
    out[d] = intercept;
  }
}

}  // namespace zipml
