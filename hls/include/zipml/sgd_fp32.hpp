// The 32-bit baseline: the same SGD and step schedule on float32 scaled data.
#pragma once
#include <cstdint>

#include "losses.hpp"
#include "model_store.hpp"
#include "schedule.hpp"
#include "tripcount.hpp"

namespace zipml {

/**
 * @brief The 32-bit baseline: SGD with float32 data, model and arithmetic.
 *
 * For each sample i in order: pred = x_i^T w + c, r = Loss::residual_f32(pred, y_i),
 * w -= eta_e r x_i, c -= eta_e r, with eta_e = 2^-epoch_shift(e) as the quantized kernels.
 *
 * @tparam Loss        loss policy, one of Losses (losses.hpp): its float32 residual
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param X            n rows of scaled float32 data, `row_stride` floats apart
 * @param row_stride   floats between rows (d, or d rounded up to 16 for 512-bit lines)
 * @param y            n labels (scaled units; +-1 for classification losses)
 * @param n            samples
 * @param d            features (d <= MaxFeatures)
 * @param epochs       number of passes
 * @param step_shift   eta_0 = 2^-step_shift, 1 <= step_shift <= 40
 * @param decay_epochs eta halves every decay_epochs epochs; 0 keeps it constant
 * @param model_in     initial model, d weights then the intercept
 * @param history      output, epochs x (d + 1): the model after each epoch
 * @param rows         the row of X that sample i reads (an epoch's row order, so the host
 *                     shuffles without a reordered copy of X; y[i] is its label), or
 *                     nullptr for row i
 * @param predictions  optional output (nullptr: none): the n predictions of the last
 *                     epoch's pass, each before its sample's update (the host's loss)
 * @param step_scale   optional d per-feature step multipliers (w_j -= (eta r s_j) x_j;
 *                     the quantized kernels' 2^p_j), or nullptr for 1
 * @param centers      optional d per-feature centers mu_j: the model sees x_j - mu_j in the
 *                     prediction and the update (centred features), or nullptr for 0
 * @param weights      optional n sample weights u_i (pass order, as y): the step is
 *                     eta_e r u_i; nullptr for 1
 * @param decay        optional d L2 decay coefficients a_j: every sample w_j -= eta_e a_j w_j
 *                     before its step; nullptr for none
 * @param l1           optional d L1 coefficients t_j: after the step, w_j is soft-thresholded
 *                     by eta_e t_j; nullptr for none
 * @param fit_intercept false: the intercept keeps model_in's value (no offset with the
 *                     centers at the position of x = 0)
 */
/// Lanes of the fp32 dot product: partial sums of j mod 16 (one 512-bit line of floats),
/// so that the sum vectorizes on the CPU (a single float accumulator kept GCC's loop
/// scalar) and pipelines in hardware; the lanes are added pairwise at the end.
constexpr int kLanes = 16;

/// Sum of the kLanes partial sums, pairwise.
inline float lane_sum(const float* lanes) {
  float half[kLanes / 2];
lane_sum_loop:
  for (int k = 0; k < kLanes / 2; ++k) half[k] = lanes[k] + lanes[k + kLanes / 2];
  return ((half[0] + half[4]) + (half[2] + half[6])) + ((half[1] + half[5]) + (half[3] + half[7]));
}

template <class Loss, int MaxFeatures>
void sgd_fp32(const float* X, int64_t row_stride, const float* y, int n, int d, int epochs, int step_shift,
              int decay_epochs, const float* model_in, float* history, const int64_t* rows = nullptr,
              float* predictions = nullptr, const float* step_scale = nullptr, const float* centers = nullptr,
              const float* weights = nullptr, const float* decay = nullptr, const float* l1 = nullptr,
              bool fit_intercept = true) {
  static_assert(Contains<Losses, Loss>::value, "sgd_fp32 takes a loss of Losses (losses.hpp)");
  ZIPML_MODEL_ARRAY(float, w, MaxFeatures);
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = 16
init_loop:
  for (int j = 0; j < d; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures
    w[j] = model_in[j];
  }
  float intercept = model_in[d];
epoch_loop:
  for (int e = 0; e < epochs; ++e) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxEpochs
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    float eta = 1.0f;
  eta_loop:
    for (int s = 0; s < shift; ++s) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxShift
      eta *= 0.5f;
    }
    float lanes[kLanes] = {};
#pragma HLS ARRAY_PARTITION variable = lanes complete
    const float* first = X + (rows == nullptr ? 0 : rows[0]) * row_stride;
  first_dot_loop:
    for (int j0 = 0; j0 < d; j0 += kLanes) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures / kLanes
    first_dot_lane_loop:
      for (int k = 0; k < kLanes; ++k)
        if (j0 + k < d) lanes[k] += (first[j0 + k] - (centers == nullptr ? 0.0f : centers[j0 + k])) * w[j0 + k];
    }
    float acc = lane_sum(lanes);
  row_loop:
    for (int i = 0; i < n; ++i) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxRows
      const float* x = X + (rows == nullptr ? static_cast<int64_t>(i) : rows[i]) * row_stride;
      const float pred = acc + intercept;
      if (predictions != nullptr) predictions[i] = pred;
      const float residual = Loss::residual_f32(pred, y[i]);
      const float step = eta * (weights == nullptr ? residual : residual * weights[i]);
      if (fit_intercept) intercept -= step;
      // One pass over the model: update with row i and dot row i+1 against the updated
      // weights (the same arithmetic as two passes; it keeps memory streaming).
      const int next_i = i + 1 < n ? i + 1 : i;
      const float* next = X + (rows == nullptr ? static_cast<int64_t>(next_i) : rows[next_i]) * row_stride;
    lanes_reset_loop:
      for (int k = 0; k < kLanes; ++k) lanes[k] = 0.0f;
      if (decay == nullptr && l1 == nullptr) {
      update_loop:
        for (int j0 = 0; j0 < d; j0 += kLanes) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures / kLanes
#pragma HLS PIPELINE II = 1
        update_lane_loop:
          for (int k = 0; k < kLanes; ++k) {
            const int j = j0 + k;
            if (j < d) {
              const float mu = centers == nullptr ? 0.0f : centers[j];
              w[j] -= (step_scale == nullptr ? step : step * step_scale[j]) * (x[j] - mu);
              lanes[k] += (next[j] - mu) * w[j];
            }
          }
        }
      } else {  // a loop of its own, so that the plain one stays vectorized
      penalized_update_loop:
        for (int j0 = 0; j0 < d; j0 += kLanes) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures / kLanes
#pragma HLS PIPELINE II = 1
        penalized_update_lane_loop:
          for (int k = 0; k < kLanes; ++k) {
            const int j = j0 + k;
            if (j < d) {
              const float mu = centers == nullptr ? 0.0f : centers[j];
              float v = w[j];
              if (decay != nullptr) v -= eta * decay[j] * v;
              v -= (step_scale == nullptr ? step : step * step_scale[j]) * (x[j] - mu);
              if (l1 != nullptr) {
                const float t = eta * l1[j];
                v = v > t ? v - t : (v < -t ? v + t : 0.0f);
              }
              w[j] = v;
              lanes[k] += (next[j] - mu) * v;
            }
          }
        }
      }
      acc = lane_sum(lanes);
    }
    float* out = history + static_cast<int64_t>(e) * (d + 1);
  history_loop:
    for (int j = 0; j < d; ++j) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxFeatures
      out[j] = w[j];
    }
    out[d] = intercept;
  }
}

}  // namespace zipml
