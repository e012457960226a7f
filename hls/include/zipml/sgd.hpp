// Least-squares SGD over packed low-precision data (and the fp32 baseline).
// Fixed-point formats and the step schedule are in docs/FORMATS.md.
#pragma once
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

/// The per-sample scalar arithmetic shared by every least-squares kernel: from the
/// dot product `acc` (codes times w >> 8) to the steps. See sgd_least_squares.
inline SampleStep sample_step(int32_t acc, int32_t label, int32_t intercept, int32_t dot_mult, int shift) {
  const int64_t pred = ((static_cast<int64_t>(acc) * dot_mult) >> kDotMultFrac) + (intercept >> kDotDrop);
  const int64_t r = saturate32(pred - label);
  return {saturate32(round_shift(r * dot_mult, kUpdateFrac + shift)),
          saturate32(round_shift(r * (1 << kDotDrop), shift))};
}

/// Model step for a level of value c (a code, or a table value): round(g * c / 2^8).
inline int32_t code_step(int32_t g, int32_t c) {
  return static_cast<int32_t>(round_shift(static_cast<int64_t>(g) * c, kUpdateFrac));
}

/**
 * @brief Least-squares SGD over packed quantized rows: all epochs in one call.
 *
 * For each sample i (in order) of copy (epoch mod n_copies):
 *   acc  = sum_j first_j * (w_j >> 8)                      (int32, wrapping)
 *   pred = (acc * dot_mult >> 24) + (c >> 8)                (Q16)
 *   r    = sat32(pred - y_i)
 *   g    = sat32(round(r * dot_mult / 2^(8 + shift_e)))      (Q32 per code unit)
 *   w_j -= round(g * second_j / 2^8),  c -= round(r * 2^8 / 2^shift_e)   (Q24, wrapping)
 * `first` and `second` are the values of the decoded level codes of the two samples
 * (the same sample for Naive and Nearest): the code itself for uniform levels
 * (`values` = nullptr; a code k means k/s), or values[j][code] for per-feature level
 * tables (Q0.10: 1024 means 1.0). The model after every epoch is written to `history`.
 *
 * @tparam Bits        bits per level code (1, 2, 4, 8)
 * @tparam E           encoding of `data`
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param data         packed rows, [copy][row][line][8 words]
 * @param labels       n labels, int32 Q16
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
 */
template <int Bits, Encoding E, int MaxFeatures>
void sgd_least_squares(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies,
                       int epochs, int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* values,
                       const int32_t* model_in, int32_t* history) {
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
  for (int j = 0; j < n_lines * K; ++j) w[j] = j < d ? model_in[j] : 0;
  int32_t intercept = model_in[d];

  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
    for (int i = 0; i < n; ++i) {
      const uint64_t* row = copy + static_cast<int64_t>(i) * row_words;
      int32_t acc = 0;
      for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
        decode_line<Bits, E>(row + l * kLineWords, first, second);
        for (int k = 0; k < K; ++k) {
          const int j = l * K + k;
          const int32_t a = values == nullptr ? first[k] : values[(j < d ? j : 0) * (S + 1) + first[k]];
          acc = wrap_add(acc, wrap_mul(a, w[j] >> kDotDrop));
        }
      }
      const SampleStep st = sample_step(acc, labels[i], intercept, dot_mult, shift);
      for (int c = 0; c <= S; ++c) step[c] = code_step(st.g, c);
      for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
        decode_line<Bits, E>(row + l * kLineWords, first, second);
        for (int k = 0; k < K; ++k) {
          const int j = l * K + k;
          const int32_t delta = values == nullptr ? step[second[k]]
                                                  : code_step(st.g, values[(j < d ? j : 0) * (S + 1) + second[k]]);
          w[j] = wrap_sub(w[j], delta);
        }
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
              int step_shift, int decay_epochs, const float* model_in, float* history) {
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
      const float step = eta * (acc + intercept - y[i]);
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
