// The synthesized SGD engine: least squares over 512-bit lines, specialised at compile
// time, one fused pass per row. What the synthesis tops (hls/kernels/zipml_tops.cpp)
// build; the general runtime-option kernel (sgd.hpp) is what the CPU module runs. Both
// equal the golden model bit for bit on the configurations the engine covers.
//
// Structure (docs/HLS.md):
//   * one 512-bit port: `Line`, a struct of eight 64-bit words, aggregated onto the m_axi
//     port; each line is read once, into a local (fully partitioned) copy;
//   * the model is on chip as [line][lane] with the lanes partitioned, so a line's K
//     weights are one address (no modulo addressing, whatever K is);
//   * one pass per row: line l of row i+1 first applies row i's update to weights l
//     (from row i's second sample, kept on chip as codes, never read again from memory),
//     then multiplies them into row i+1's dot product. The dot product of row i+1 needs
//     every weight after row i's update, so a row costs its lines plus the latency from
//     its last line to its step (the row dependency; zipml_hls.fpga models it);
//   * the update: a table of the 2^b code steps for b <= 4, one multiply per lane for 8 bits;
//   * a 32-bit fixed-point baseline engine of the same shape (engine_fixed32).
#pragma once
#include <cstdint>

#include "fixed_point.hpp"
#include "format.hpp"
#include "layout.hpp"
#include "schedule.hpp"
#include "tripcount.hpp"

namespace zipml {

/// One 512-bit memory line: eight 64-bit words, bit i in word i / 64 (docs/FORMATS.md
/// section 6). On an m_axi port with `#pragma HLS aggregate` it is one 512-bit beat.
struct Line {
  uint64_t word[kLineWords];
};
static_assert(sizeof(Line) == kLineBits / 8, "a Line is exactly 64 bytes");

/// The step of a code c (0 <= c < 2^8) for a per-sample step g: code_step(g, c) (sgd.hpp:
/// sat32(round(g c / 2^8))) with g first clamped to +-2^40. The same value: at |g| >= 2^40
/// every c >= 1 saturates either way, and c = 0 steps 0. So one 41 x 9-bit multiply
/// per lane replaces the table of 2^8 steps.
inline int32_t lane_step(int64_t g, int32_t c) {
  constexpr int64_t kClamp = int64_t{1} << 40;
  const int64_t gc = g > kClamp ? kClamp : (g < -kClamp ? -kClamp : g);
  return saturate32(round_shift(gc * c, kUpdateFrac));
}

/// dot_mult of uniform b-bit codes: round(2^24 / (2^b - 1)), Q24 (code c means c / s).
constexpr int32_t uniform_dot_mult(int bits) {
  return static_cast<int32_t>(((int64_t{1} << kDotMultFrac) + max_code(bits) / 2) / max_code(bits));
}

/// Compile-time shape of the engine for a bit width and sampling.
template <int Bits, Sampling E, int MaxFeatures>
struct EngineShape {
  static constexpr int K = values_per_line(Bits, E);  ///< values (lanes) per line
  static constexpr int S = max_code(Bits);            ///< largest code
  static constexpr int kMaxLines = (MaxFeatures + K - 1) / K;
  static constexpr int32_t kDotMult = uniform_dot_mult(Bits);
  static constexpr bool kTable = Bits <= 4;  ///< steps from a table of the 2^b codes, else a multiply per lane
  static constexpr int kTableSize = kTable ? S + 1 : 1;
};

/// The model into the engines' on-chip layout, weight j at [j / K][j % K] (padding lanes
/// 0), and the pending update's lanes cleared: how both engines start.
template <int K, int MaxLines, class Pending>
void load_model(const int32_t* model_in, int d, int n_lines, int32_t (&w)[MaxLines][K],
                Pending (&pending)[MaxLines][K]) {
#pragma HLS INLINE
init_loop:
  for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = MaxLines
  init_lane_loop:
    for (int k = 0; k < K; ++k) {
      const int j = l * K + k;
      w[l][k] = j < d ? model_in[j] : 0;
      pending[l][k] = 0;
    }
  }
}

/**
 * @brief Least-squares SGD over packed uniform-level data, one fused pass per row.
 *
 * The same result as sgd_least_squares<Bits, E, MaxFeatures> (sgd.hpp) and the golden
 * model's sgd_linear with default options: for each row i of copy e % n_copies with the
 * step 2^-shift_e of epoch e, pred = (acc dot_mult >> 24) + (c >> 8) from acc = sum_j
 * first_j (w_j >> 8) (int32, wrapping), r = pred - y_i (saturated), g = round(r dot_mult /
 * 2^(8 + shift)), w_j -= sat32(round(g second_j / 2^8)), c -= sat32(round(r 2^8 / 2^shift)).
 * The model after every epoch goes to `history`.
 *
 * @tparam Bits        bits per level code (1, 2, 4, 8)
 * @tparam E           Sampling::Double (index + two fraction bits, both samples drawn here)
 *                     or Sampling::Naive (one code)
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param data         n_copies x n rows of lines_per_row(d, Bits, E) lines
 * @param labels       n labels, int32 Q15.16
 * @param model_in     d weights then the intercept, int32 Q7.24
 * @param history      epochs x (d + 1): the model after every epoch
 * @param n            rows per copy
 * @param d            features, 1 <= d <= MaxFeatures
 * @param n_copies     copies in `data`; epoch e reads copy e % n_copies
 * @param epochs       passes
 * @param step_shift   eta_0 = 2^-step_shift, 1 <= step_shift <= 40
 * @param decay_epochs eta halves every decay_epochs epochs; 0: constant
 * @param seed         Double: the draws of both samples, stream (kStreamSample, epoch, row)
 */
template <int Bits, Sampling E, int MaxFeatures>
void engine_least_squares(const Line* data, const int32_t* labels, const int32_t* model_in, int32_t* history, int n,
                          int d, int n_copies, int epochs, int step_shift, int decay_epochs, uint32_t seed) {
#pragma HLS INLINE
  static_assert(Bits == 1 || Bits == 2 || Bits == 4 || Bits == 8, "the engine is built for 1, 2, 4 and 8 bits");
  static_assert(E == Sampling::Double || E == Sampling::Naive, "the engine reads Double or Naive lines");
  using Shape = EngineShape<Bits, E, MaxFeatures>;
  constexpr int K = Shape::K;
  constexpr int kMaxLines = Shape::kMaxLines;
  constexpr int32_t kDotMult = Shape::kDotMult;

  int32_t w[kMaxLines][K];  // the model, weight j at [j / K][j % K]; padding lanes stay 0
#pragma HLS ARRAY_PARTITION variable = w dim = 2 complete
  uint8_t pending[kMaxLines][K];  // the codes of the previous row's second sample
#pragma HLS ARRAY_PARTITION variable = pending dim = 2 complete
  int32_t table[Shape::kTableSize];  // code steps of the pending update (Bits <= 4)
#pragma HLS ARRAY_PARTITION variable = table complete
  const int n_lines = lines_per_row(d, Bits, E);

  load_model(model_in, d, n_lines, w, pending);
  int32_t intercept = model_in[d];

epoch_loop:
  for (int e = 0; e < epochs; ++e) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxEpochs
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const Line* copy = data + static_cast<int64_t>(e % n_copies) * n * n_lines;
    int64_t g = 0;  // the pending update's per-sample step (0: none)
  table_init_loop:
    for (int c = 0; c < Shape::kTableSize; ++c) {
#pragma HLS UNROLL
      table[c] = 0;
    }
  row_loop:
    for (int i = 0; i < n; ++i) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxRows
      const uint32_t key = sample_stream_key(seed, e, i);
      const Line* row = copy + static_cast<int64_t>(i) * n_lines;
      uint32_t acc = 0;  // the dot product, wrapping int32
    fused_line_loop:
      for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
#pragma HLS DEPENDENCE variable = w inter false
#pragma HLS DEPENDENCE variable = pending inter false
        Line line = row[l];  // the line's one read
        int32_t first[K], second[K];
#pragma HLS ARRAY_PARTITION variable = first complete
#pragma HLS ARRAY_PARTITION variable = second complete
        decode_line<Bits, E>(line.word, key, l, first, second);
      fused_lane_loop:
        for (int k = 0; k < K; ++k) {
          const int32_t c = pending[l][k];
          const int32_t weight = wrap_sub(w[l][k], Shape::kTable ? table[c] : lane_step(g, c));
          w[l][k] = weight;
          pending[l][k] = static_cast<uint8_t>(second[k]);
          acc += static_cast<uint32_t>(first[k]) * static_cast<uint32_t>(weight >> kDotDrop);
        }
      }
      const int64_t pred = ((int64_t{static_cast<int32_t>(acc)} * kDotMult) >> kDotMultFrac) + (intercept >> kDotDrop);
      const int64_t r = saturate32(pred - labels[i]);
      g = round_shift(r * kDotMult, kUpdateFrac + shift);
      intercept = wrap_sub(intercept, saturate32(round_shift(r * (1 << kDotDrop), shift)));
    step_table_loop:
      for (int c = 0; c < Shape::kTableSize; ++c) {
#pragma HLS UNROLL
        table[c] = code_step(g, c);
      }
    }
    // The last row's update, with the model written out.
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
  flush_loop:
    for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
    flush_lane_loop:
      for (int k = 0; k < K; ++k) {
        const int32_t c = pending[l][k];
        const int32_t weight = wrap_sub(w[l][k], Shape::kTable ? table[c] : lane_step(g, c));
        w[l][k] = weight;
        pending[l][k] = 0;
        if (l * K + k < d) out[l * K + k] = weight;
      }
    }
    out[d] = intercept;
  }
}

/// Values per line of the 32-bit baseline: sixteen Q0.24 positions.
constexpr int kFixed32Lanes = kLineBits / 32;

/**
 * @brief The 32-bit fixed-point baseline engine: least squares over Q0.24 positions.
 *
 * Each value is its scaled position p_j in [0, 2^24] (Q0.24, stored as 32 bits, sixteen
 * per line), the exact arithmetic of sgd.hpp's refetched samples: pred = (sum_j p_j (w_j
 * >> 8) >> 24) + (c >> 8) (int64), r = pred - y_i (saturated), w_j -= sat32(round(r p_j /
 * 2^(16 + shift))), c -= sat32(round(r 2^8 / 2^shift)); one fused pass per row as in
 * engine_least_squares (golden model: reference.sgd_fixed32).
 *
 * @tparam MaxFeatures largest d the on-chip model holds
 * @param data         n rows of ceil(d / 16) lines, uint32 positions, little-endian in the words
 * @param labels       n labels, int32 Q15.16
 * @param model_in     d weights then the intercept, int32 Q7.24
 * @param history      epochs x (d + 1)
 * @param n            rows
 * @param d            features, 1 <= d <= MaxFeatures
 * @param epochs       passes
 * @param step_shift   eta_0 = 2^-step_shift, 1 <= step_shift <= 40
 * @param decay_epochs eta halves every decay_epochs epochs; 0: constant
 */
template <int MaxFeatures>
void engine_fixed32(const Line* data, const int32_t* labels, const int32_t* model_in, int32_t* history, int n, int d,
                    int epochs, int step_shift, int decay_epochs) {
#pragma HLS INLINE
  constexpr int K = kFixed32Lanes;
  constexpr int kMaxLines = (MaxFeatures + K - 1) / K;
  int32_t w[kMaxLines][K];
#pragma HLS ARRAY_PARTITION variable = w dim = 2 complete
  uint32_t pending[kMaxLines][K];  // the previous row's positions
#pragma HLS ARRAY_PARTITION variable = pending dim = 2 complete
  const int n_lines = (d + K - 1) / K;

  load_model(model_in, d, n_lines, w, pending);
  int32_t intercept = model_in[d];

epoch_loop:
  for (int e = 0; e < epochs; ++e) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxEpochs
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    int64_t r = 0;  // the pending update's residual (0: none)
  row_loop:
    for (int i = 0; i < n; ++i) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kTripMaxRows
      const Line* row = data + static_cast<int64_t>(i) * n_lines;
      int64_t acc = 0;
    fused_line_loop:
      for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
#pragma HLS DEPENDENCE variable = w inter false
#pragma HLS DEPENDENCE variable = pending inter false
        Line line = row[l];
      fused_lane_loop:
        for (int k = 0; k < K; ++k) {
          const uint32_t p = static_cast<uint32_t>(line.word[k / 2] >> (32 * (k % 2)));
          const int64_t step = round_shift(r * pending[l][k], kLabelFrac + shift);
          const int32_t weight = wrap_sub(w[l][k], saturate32(step));
          w[l][k] = weight;
          pending[l][k] = p;
          acc += int64_t{p} * (weight >> kDotDrop);
        }
      }
      const int64_t pred = (acc >> kPosFrac) + (intercept >> kDotDrop);
      r = saturate32(pred - labels[i]);
      intercept = wrap_sub(intercept, saturate32(round_shift(r * (1 << kDotDrop), shift)));
    }
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
  flush_loop:
    for (int l = 0; l < n_lines; ++l) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxLines
    flush_lane_loop:
      for (int k = 0; k < K; ++k) {
        const int32_t weight = wrap_sub(w[l][k], saturate32(round_shift(r * pending[l][k], kLabelFrac + shift)));
        w[l][k] = weight;
        pending[l][k] = 0;
        if (l * K + k < d) out[l * K + k] = weight;
      }
    }
    out[d] = intercept;
  }
}

}  // namespace zipml
