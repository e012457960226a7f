// CPU fast path of sgd_linear for plain least squares on AVX-512 (F, BW, VL, DQ): the same
// arithmetic, bit for bit, on 16 values per instruction. Never synthesized; the module
// and tb_sgd run it through fast_sgd_linear, which says whether it covered the call,
// and tb_sgd checks it against the golden vectors. How it is fast:
//  - 2- and 4-bit fields are stored strided (layout.hpp: field_pos), so one byte-to-int32
//    widening plus a shift and a mask yields 16 consecutive codes; the 8-byte tail
//    of a 4-bit index plane is one group of 16 (low and high fields side by side);
//  - rounding bits are used as lane masks: first = idx + r0 is a masked add;
//  - the update w -= round(g c / 2^8) is a per-sample table of 2^b entries, read by
//    one permute for b <= 4 (one multiply for b = 8 while |g| < 2^23, else two; a
//    masked subtract for 1-bit data; a gather from a saturated table in the rare
//    samples whose steps can leave int32);
//  - Double data: the second sample's prediction (PassReport) is accumulated in the
//    update pass, from the weights it loads anyway.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <cstdint>
#include <type_traits>

#include "zipml/format.hpp"
#include "zipml/losses.hpp"
#include "zipml/sgd.hpp"
#include "zipml_cpu/rng_avx512.hpp"
#include "zipml_cpu/sgd_simd.hpp"

#ifdef ZIPML_HAVE_AVX512
#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>
#include <new>
#endif

namespace zipml {
namespace avx512 {

/// Per-feature level tables run the portable kernel (simd::covers_levels).
constexpr bool kLevelTables = false;
/// 3- and 6-bit data run the portable kernel (simd::supports_sgd).
constexpr bool kNaturalWidths = false;

/// The kernels this path covers: simd::supports_sgd without kNaturalWidths.
template <int Bits, Sampling E, class Loss>
constexpr bool supports_sgd() {
  return simd::supports_sgd<Bits, E, Loss, kNaturalWidths>();
}

#ifdef ZIPML_HAVE_AVX512

/// Groups of up to 16 values per line, in visiting order gid = 0..G-1. Index planes
/// 2 or 4 bits wide give 8/W groups per 16 plane bytes; a tail of 8 bytes of 4-bit
/// fields (B % 16 == 8) is one merged group: its low fields in lanes 0-7, its high
/// fields in lanes 8-15. Other widths: K/16 groups of 16 consecutive values.
template <int Bits, Sampling E>
struct Groups {
  static_assert(supports_sgd<Bits, E, SquaredError>(), "groups of whole fields of one code or index per value");
  static constexpr int K = values_per_line(Bits, E);
  static constexpr int W = E == Sampling::Double ? index_bits(Bits, E) : Bits;
  static constexpr bool kStrided = W == 2 || W == 4;
  static constexpr int B = K * W / 8;  // plane bytes
  static constexpr int P = kStrided ? 8 / W : 1;
  static constexpr int kTail = kStrided ? B % 16 : 0;  // plane bytes past the last full chunk
  static constexpr bool kMergedTail = W == 4 && kTail == 8;
  static constexpr int G = kStrided ? B / 16 * P + (kTail == 0 ? 0 : (kMergedTail ? 1 : P)) : K / 16;
  /// Index in the line of the value in `lane` of group `gid`, or -1 for an unused lane.
  static constexpr int value(int gid, int lane) {
    if (!kStrided) return gid * 16 + lane;
    const int t = (gid / P) * 16;  // first plane byte of the group's chunk
    if (kMergedTail && t + 16 > B) return lane < 8 ? t + lane : t + (lane - 8) + B;
    const int valid = B - t < 16 ? B - t : 16;
    return lane < valid ? t + lane + (gid % P) * B : -1;
  }
};

/// One group of up to 16 consecutive values of a line.
struct Group {
  int gid;           ///< visiting order inside the line
  __m512i idx;       ///< interval index (Double) or level code (Naive/Nearest); unused for 1 bit
  __m512i raw;       ///< idx at bit `pos` of each lane, other fields above it (for permute indices: bits 4+ are ignored)
  int pos;           ///< 0, or 2 for the odd fields of 2-bit data
  __mmask16 r0, r1;  ///< Double: rounding bits of the two samples; 1 bit: first and second code
};

inline __mmask16 load_bits16(const uint8_t* plane, int bit) {
  uint16_t m;
  std::memcpy(&m, plane + bit / 8, sizeof m);  // bit is a multiple of 8
  return static_cast<__mmask16>(m);
}

// Inlining is forced: a group visitor that stays a call passes vectors through memory.
#define ZIPML_INLINE __attribute__((always_inline))

/// Sum of the 16 int32 lanes, wrapping like the portable kernel's wrap_add (the add
/// intrinsics work on unsigned lanes; _mm512_reduce_add_epi32 adds signed ones, whose
/// overflow is undefined).
ZIPML_INLINE inline int32_t reduce_add_wrapping(__m512i v) {
  const __m256i a = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i b = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0xB1));
  return _mm_cvtsi128_si32(b);
}

/// The word moves of resolve_line for lines of K values whose index plane is W bits wide:
/// _mm512_permutex2var_epi16 indices (over the 64 words of two vectors) that bring the K
/// bits at one bit position of a line or of its threshold string to another (both
/// multiples of 16; other words are don't-cares), and the words of the two planes.
template <int K, int W>
struct PlaneMoves {
  static constexpr int A = K * W;  // bit of the first fraction plane (f0; f1 follows at A + K)
  __m512i f1_to_f0, f0_to_f1, t_to_f0[2], t_to_f1[2];
  __m512i lane_mul = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                        _mm512_set1_epi32(static_cast<int>(kIndexMul)));  // lane * kIndexMul
  __mmask32 plane0, plane1;
  static __m512i move(int from, int to) {
    alignas(64) int16_t idx[32];
    for (int o = 0; o < 32; ++o) {
      const int src = o - to / 16 + from / 16;
      idx[o] = static_cast<int16_t>(o >= to / 16 && o < (to + K) / 16 && src >= 0 && src < 64 ? src : 0);
    }
    return _mm512_load_si512(idx);
  }
  static __mmask32 words(int from) {  // (no plane past the line: lines of one code per value have none)
    return from / 16 + K / 16 > 32 ? 0 : static_cast<__mmask32>(((uint64_t{1} << (K / 16)) - 1) << (from / 16));
  }
  PlaneMoves()
      : f1_to_f0(move(A + K, A)),
        f0_to_f1(move(A, A + K)),
        t_to_f0{move(0, A), move(K, A)},
        t_to_f1{move(2 * K, A + K), move(3 * K, A + K)},
        plane0(words(A)),
        plane1(words(A + K)) {}
};

/// t < f as bit logic on whole vectors (resample.hpp: resampled_up).
ZIPML_INLINE inline __m512i resampled_up512(__m512i f0, __m512i f1, __m512i t0, __m512i t1) {
  const __m512i high = _mm512_andnot_si512(t1, f1);                               // f1 & ~t1
  const __m512i tie = _mm512_andnot_si512(_mm512_xor_si512(f1, t1), _mm512_andnot_si512(t0, f0));
  return _mm512_or_si512(high, tie);
}

/// Double: the threshold draws of a row of n_lines lines (key: sample_stream_key), in
/// `out` (n_lines * threshold_words(K) of them, rounded up to whole vectors).
template <int K, int W>
ZIPML_INLINE inline void row_thresholds(uint32_t key, int n_lines, const PlaneMoves<K, W>& mv, uint32_t* out) {
  const __m512i keys = _mm512_set1_epi32(static_cast<int>(key));
  for (int first = 0; first < n_lines * threshold_words(K); first += 16) {  // index * kIndexMul as an add
    const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(uint32_t(first) * kIndexMul)), mv.lane_mul);
    _mm512_store_si512(out + first, mix32x16(_mm512_xor_si512(keys, index)));
  }
}

/// Double: a line with both samples drawn (resample.hpp) from its threshold draws `t`
/// (row_thresholds), written to `out` in the layout of index plus one rounding-bit plane
/// per sample, the planes where the fraction planes were: t < f on whole vectors, the
/// planes brought together by word permutes.
template <int K, int W>
ZIPML_INLINE inline void resolve_line(const uint64_t* line_words, const uint32_t* t, const PlaneMoves<K, W>& mv,
                                      uint64_t* out) {
  static_assert(threshold_words(K) <= 32, "the threshold draws fit two vectors");
  const __m512i ta = _mm512_loadu_si512(t);
  const __m512i tb = threshold_words(K) > 16 ? _mm512_loadu_si512(t + 16) : _mm512_setzero_si512();
  const __m512i line = _mm512_loadu_si512(line_words);
  const __m512i r0 = resampled_up512(line, _mm512_permutexvar_epi16(mv.f1_to_f0, line),
                                     _mm512_permutex2var_epi16(ta, mv.t_to_f0[0], tb),
                                     _mm512_permutex2var_epi16(ta, mv.t_to_f0[1], tb));
  const __m512i r1 = resampled_up512(_mm512_permutexvar_epi16(mv.f0_to_f1, line), line,
                                     _mm512_permutex2var_epi16(ta, mv.t_to_f1[0], tb),
                                     _mm512_permutex2var_epi16(ta, mv.t_to_f1[1], tb));
  _mm512_store_si512(out, _mm512_mask_blend_epi16(mv.plane1, _mm512_mask_blend_epi16(mv.plane0, line, r0), r1));
}

/// Calls f(Group) for every group of a line, in any order (groups are disjoint). Double
/// lines come resolved (resolve_line): the index plane, then each sample's rounding bits.
template <int Bits, Sampling E, class F>
ZIPML_INLINE inline void for_each_group(const uint64_t* line_words, F&& f) {
  constexpr int K = values_per_line(Bits, E);
  constexpr int W = E == Sampling::Double ? index_bits(Bits, E) : Bits;
  const uint8_t* line = reinterpret_cast<const uint8_t*>(line_words);  // little-endian host
  const uint8_t* r0 = line + K * W / 8;
  const uint8_t* r1 = r0 + K / 8;
  const bool dbl = E == Sampling::Double;
  if (W == 1) {  // 1-bit data: codes are 0/1, carried as masks in r0 (first) and r1 (second)
    for (int base = 0; base < K; base += 16) {
      Group g{base / 16, _mm512_setzero_si512(), _mm512_setzero_si512(), 0, 0, 0};
      const __mmask16 stored = load_bits16(line, base);
      if (dbl) {  // index 1 has fraction 0 (the top level): code = index | rounding bit
        g.r0 = stored | load_bits16(r0, base), g.r1 = stored | load_bits16(r1, base);
      } else {
        g.r0 = g.r1 = stored;
      }
      f(g);
    }
  } else if (W == 8) {
    for (int base = 0; base < K; base += 16) {
      const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(line + base)));
      Group g{base / 16, idx, idx, 0, 0, 0};
      if (dbl) g.r0 = load_bits16(r0, base), g.r1 = load_bits16(r1, base);
      f(g);
    }
  } else {  // W = 2 or 4: byte t holds values t + m*B, m < 8/W
    constexpr int B = K * W / 8;
    // One chunk of 16 plane bytes (`Full`) or the tail of B % 16 bytes.
    auto chunk = [&](int t, auto full) ZIPML_INLINE {
      constexpr bool kFull = decltype(full)::value;
      const __mmask16 lanes = kFull ? __mmask16(0xFFFF) : __mmask16((1u << (B % 16)) - 1);
      const __m512i bytes = _mm512_cvtepu8_epi32(kFull ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(line + t))
                                                       : _mm_maskz_loadu_epi8(lanes, line + t));
      for (int m = 0; m < 8 / W; ++m) {
        const int base = t + m * B;
        const __m512i shifted = m == 0 ? bytes : _mm512_srli_epi32(bytes, m * W);
        // the top field of a byte needs no mask
        const __m512i idx = m == 8 / W - 1 ? shifted : _mm512_and_si512(shifted, _mm512_set1_epi32((1 << W) - 1));
        // 2-bit fields: one shift per two fields, the permute's 4 index bits hold both
        const int pos = W == 2 ? (m % 2) * 2 : 0;
        const __m512i raw = W == 2 ? (m < 2 ? bytes : _mm512_srli_epi32(bytes, 4)) : shifted;
        Group g{(t / 16) * (8 / W) + m, idx, raw, pos, 0, 0};
        if (dbl) {
          g.r0 = kFull ? load_bits16(r0, base) : __mmask16(load_bits16(r0, base) & lanes);
          g.r1 = kFull ? load_bits16(r1, base) : __mmask16(load_bits16(r1, base) & lanes);
        }
        f(g);
      }
    };
    for (int t = 0; t + 16 <= B; t += 16) chunk(t, std::true_type{});
    if (Groups<Bits, E>::kMergedTail) {
      // 8 plane bytes in both halves, the low fields shifted by 0 and the high ones by 4
      constexpr int t = B / 16 * 16;
      uint64_t eight;
      std::memcpy(&eight, line + t, sizeof eight);
      const __m512i bytes = _mm512_cvtepu8_epi32(_mm_set1_epi64x(static_cast<long long>(eight)));
      const __m512i raw =
          _mm512_srlv_epi32(bytes, _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4));
      Group g{Groups<Bits, E>::G - 1, _mm512_and_si512(raw, _mm512_set1_epi32(15)), raw, 0, 0, 0};
      if (dbl) {
        g.r0 = static_cast<__mmask16>(r0[t / 8] | (r0[(t + B) / 8] << 8));
        g.r1 = static_cast<__mmask16>(r1[t / 8] | (r1[(t + B) / 8] << 8));
      }
      f(g);
    } else if (B % 16 != 0) {
      chunk(B / 16 * 16, std::false_type{});
    }
  }
}

/// conditioned_step(g, v, q) of 16 lanes (v: centred values, |v| <= 255; q: exponents),
/// in 32-bit lanes where |g| 2^q_max < 2^23 (`narrow`: then |g 2^q v| < 2^31), else
/// exactly in 64-bit lanes (|g v| < 2^55 for codes: no cap needed) and saturated back.
ZIPML_INLINE inline __m512i conditioned_steps(int64_t g, bool narrow, __m512i v, __m512i q) {
  if (narrow) {
    const __m512i gq = _mm512_sllv_epi32(_mm512_set1_epi32(static_cast<int32_t>(g)), q);
    return _mm512_srai_epi32(_mm512_add_epi32(_mm512_mullo_epi32(gq, v), _mm512_set1_epi32(1 << (kUpdateFrac - 1))),
                             kUpdateFrac);
  }
  const __m512i g64 = _mm512_set1_epi64(g), eight = _mm512_set1_epi64(kUpdateFrac), zero = _mm512_setzero_si512();
  auto half = [&](__m256i v8, __m256i q8) ZIPML_INLINE {
    const __m512i x = _mm512_mullo_epi64(_mm512_cvtepi32_epi64(v8), g64);
    const __m512i qq = _mm512_cvtepu32_epi64(q8);
    const __m512i right = _mm512_max_epi64(_mm512_sub_epi64(eight, qq), zero);  // 8 - q where q < 8
    const __m512i left = _mm512_max_epi64(_mm512_sub_epi64(qq, eight), zero);   // q - 8 where q >= 8
    const __m512i half_ulp = _mm512_srli_epi64(_mm512_sllv_epi64(_mm512_set1_epi64(1), right), 1);
    const __m512i r = _mm512_sllv_epi64(_mm512_srav_epi64(_mm512_add_epi64(x, half_ulp), right), left);
    return _mm512_cvtsepi64_epi32(r);
  };
  const __m256i lo = half(_mm512_castsi512_si256(v), _mm512_castsi512_si256(q));
  const __m256i hi = half(_mm512_extracti64x4_epi64(v, 1), _mm512_extracti64x4_epi64(q, 1));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/// AVX-512 twin of zipml::sgd_linear with uniform levels (same parameters without
/// `values`, same results); `feature_shifts`, `centers`, `seed`, `full` (the hinge's
/// refetch positions) and `stored_variance` as SgdOptions's, `rows` as sgd_epochs's
/// (kConditioned: feature_shifts or centers is non-null; a null one counts as all 0);
/// `reg`: sample weights only (Regularization; the penalties run the portable kernel).
template <int Bits, Sampling E, class Loss, int MaxFeatures, bool kConditioned>
void sgd_linear_lanes(const uint64_t* data, const int32_t* labels, int n, int d, int n_copies, int epochs,
                      int step_shift, int decay_epochs, int32_t dot_mult, const int32_t* model_in, int32_t* history,
                      const uint8_t* feature_shifts, const int32_t* centers, uint32_t seed, const uint32_t* full,
                      const PassReport& report, const int64_t* rows, const int32_t* stored_variance,
                      const Regularization& reg) {
  constexpr int K = values_per_line(Bits, E);
  constexpr int S = max_code(Bits);
  constexpr bool kDouble = E == Sampling::Double;
  using Gr = Groups<Bits, E>;
  constexpr int G = Gr::G;
  static_assert(supports_sgd<Bits, E, Loss>(), "the AVX-512 SGD covers the linear losses on 1, 2, 4, 8 bits");
  static_assert(MaxFeatures > 0, "MaxFeatures must be positive");
  // The model in group slots: 16 aligned lanes per group, so every load and store is
  // a whole aligned vector; lanes past a partial group hold 0 and see code 0.
  // Heap, not stack (too large for some thread stacks) and not thread_local (its address
  // lookup ends up inside the inner loop). CPU-only code: the synthesized kernel keeps
  // the model in on-chip arrays.
  // Per-feature step exponents and centers (kConditioned) in the same slots, after the model.
  const int n_lines_alloc = lines_per_row(d, Bits, E);
  const size_t slots = size_t(16) * G * n_lines_alloc;
  std::unique_ptr<int32_t, decltype(&std::free)> storage(
      static_cast<int32_t*>(std::aligned_alloc(64, sizeof(int32_t) * slots * (kConditioned ? 3 : 1))), &std::free);
  if (storage == nullptr) throw std::bad_alloc();
  int32_t* const w = storage.get();
  int32_t* const exponents = kConditioned ? w + slots : nullptr;
  int32_t* const center_codes = kConditioned ? w + 2 * slots : nullptr;
  auto slot = [](int l, int gid) { return (l * G + gid) * 16; };

  const int n_lines = lines_per_row(d, Bits, E);
  const int64_t row_words = static_cast<int64_t>(n_lines) * kLineWords;
  int pmax = 0;
  for (int l = 0; l < n_lines; ++l)
    for (int gid = 0; gid < G; ++gid)
      for (int lane = 0; lane < 16; ++lane) {
        const int j = l * K + Gr::value(gid, lane);
        const bool feature = Gr::value(gid, lane) >= 0 && j < d;
        w[slot(l, gid) + lane] = feature ? model_in[j] : 0;
        if (kConditioned) {
          const int p = feature && feature_shifts != nullptr ? feature_shifts[j] : 0;
          exponents[slot(l, gid) + lane] = p;
          center_codes[slot(l, gid) + lane] = feature && centers != nullptr ? centers[j] : 0;
          pmax = p > pmax ? p : pmax;
        }
      }
  int32_t intercept = model_in[d];
  const __m512i one = _mm512_set1_epi32(1);
  // Refetching (the hinge with `full`): the feature of each slot (-1 in padding lanes),
  // so a refetched row's full-precision positions are gathered into slot order, and
  // l1 = sum_j |w_j| (the band's width), kept for the next row: summed in the fused
  // update, or by a pass over the slots.
  const bool refetching = Loss::kRefetch && full != nullptr;
  std::vector<int32_t> slot_feature;
  if (refetching) {
    slot_feature.assign(slots, -1);
    for (int l = 0; l < n_lines; ++l)
      for (int gid = 0; gid < G; ++gid)
        for (int lane = 0; lane < 16; ++lane) {
          const int j = l * K + Gr::value(gid, lane);
          if (Gr::value(gid, lane) >= 0 && j < d) slot_feature[slot(l, gid) + lane] = j;
        }
  }
  // A refetched row's positions p_j - m_j * dot_mult in slot order (Q0.24, |.| < 2^25; 0 in
  // padding lanes), gathered once for its dot product and its update.
  std::vector<int32_t> centred_row(refetching ? slots : 0);
  auto gather_row = [&](const uint32_t* p) {
    const __m512i dot_mult_v = _mm512_set1_epi32(dot_mult);
    for (size_t k = 0; k < slots; k += 16) {
      const __m512i feature = _mm512_loadu_si512(slot_feature.data() + k);
      const __mmask16 valid = _mm512_cmpge_epi32_mask(feature, _mm512_setzero_si512());
      __m512i c = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, feature, p, 4);
      if (kConditioned) c = _mm512_sub_epi32(c, _mm512_mullo_epi32(_mm512_load_si512(center_codes + k), dot_mult_v));
      _mm512_storeu_si512(centred_row.data() + k, c);
    }
  };
  // sum_j (p_j - m_j dot_mult) (w_j >> 8), exact in int64 (sgd.hpp's refetch_dot_loop)
  auto refetch_dot = [&]() {
    __m512i sum = _mm512_setzero_si512();
    for (size_t k = 0; k < slots; k += 16) {
      const __m512i c = _mm512_loadu_si512(centred_row.data() + k);
      const __m512i wd = _mm512_srai_epi32(_mm512_load_si512(w + k), kDotDrop);
      sum = _mm512_add_epi64(sum, _mm512_mul_epi32(c, wd));  // even lanes, then odd lanes
      sum = _mm512_add_epi64(sum, _mm512_mul_epi32(_mm512_srli_epi64(c, 32), _mm512_srli_epi64(wd, 32)));
    }
    return static_cast<int64_t>(_mm512_reduce_add_epi64(sum));
  };
  // w_j -= sat32(round(r (p_j - m_j dot_mult) 2^q_j / 2^(16 + shift))) (sgd.hpp's refetch_update_loop)
  auto refetch_update = [&](int64_t r, int shift) {
    const __m512i r64 = _mm512_set1_epi64(r), base = _mm512_set1_epi64(kLabelFrac + shift);
    const __m512i one64 = _mm512_set1_epi64(1);
    auto steps = [&](__m256i c8, __m256i q8) ZIPML_INLINE {
      const __m512i s = _mm512_sub_epi64(base, _mm512_cvtepi32_epi64(q8));
      const __m512i x = _mm512_add_epi64(_mm512_mullo_epi64(_mm512_cvtepi32_epi64(c8), r64),
                                         _mm512_sllv_epi64(one64, _mm512_sub_epi64(s, one64)));
      return _mm512_cvtsepi64_epi32(_mm512_srav_epi64(x, s));
    };
    for (size_t k = 0; k < slots; k += 16) {
      const __m512i c = _mm512_loadu_si512(centred_row.data() + k);
      const __m512i q = kConditioned ? _mm512_load_si512(exponents + k) : _mm512_setzero_si512();
      const __m256i low = steps(_mm512_castsi512_si256(c), _mm512_castsi512_si256(q));
      const __m256i high = steps(_mm512_extracti64x4_epi64(c, 1), _mm512_extracti64x4_epi64(q, 1));
      _mm512_store_si512(w + k, _mm512_sub_epi32(_mm512_load_si512(w + k),
                                                 _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1)));
    }
  };
  // sum of |w| over 16 int32 lanes into 8 int64 lanes (|INT32_MIN| = 2^31: read unsigned)
  auto add_abs = [](__m512i sum, __m512i v) ZIPML_INLINE {
    const __m512i a = _mm512_abs_epi32(v);
    sum = _mm512_add_epi64(sum, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(a)));
    return _mm512_add_epi64(sum, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(a, 1)));
  };
  auto model_l1 = [&]() {
    __m512i sum = _mm512_setzero_si512();
    for (size_t k = 0; k < slots; k += 16) sum = add_abs(sum, _mm512_load_si512(w + k));
    return static_cast<int64_t>(_mm512_reduce_add_epi64(sum));
  };
  // The stored-rounding correction (SgdOptions::stored_variance): each slot's variance and
  // step exponent (0 in padding lanes, whose weights stay 0), applied every kCorrectionRows
  // samples by one pass over the slots (`correct`, below).
  std::vector<int32_t> slot_variance, slot_exponent;
  if (stored_variance != nullptr) {
    slot_variance.assign(slots, 0);
    slot_exponent.assign(slots, 0);
    for (int l = 0; l < n_lines; ++l)
      for (int gid = 0; gid < G; ++gid)
        for (int lane = 0; lane < 16; ++lane) {
          const int j = l * K + Gr::value(gid, lane);
          if (Gr::value(gid, lane) < 0 || j >= d) continue;
          slot_variance[slot(l, gid) + lane] = stored_variance[j];
          slot_exponent[slot(l, gid) + lane] = feature_shifts != nullptr ? feature_shifts[j] : 0;
        }
  }
  // stored_rounding_corrected (sgd.hpp) over every slot, 8 weights per 64-bit vector
  auto correct = [&](int count, int shift) {
    const __m512i base = _mm512_set1_epi64(kVarianceFrac + shift), one64 = _mm512_set1_epi64(1);
    const __m512i lo = _mm512_set1_epi64(INT32_MIN), hi = _mm512_set1_epi64(INT32_MAX);
    const __m512i count64 = _mm512_set1_epi64(count), limit = _mm512_set1_epi64(62);
    auto steps = [&](__m256i w8, __m256i v8, __m256i q8) ZIPML_INLINE {
      const __m512i s = _mm512_sub_epi64(base, _mm512_cvtepi32_epi64(q8));
      const __mmask8 live = _mm512_cmple_epi64_mask(s, limit);
      const __m512i pull = _mm512_mullo_epi64(_mm512_cvtepi32_epi64(w8),
                                              _mm512_mullo_epi64(_mm512_cvtepi32_epi64(v8), count64));
      const __m512i half = _mm512_sllv_epi64(one64, _mm512_sub_epi64(s, one64));
      __m512i step = _mm512_maskz_mov_epi64(live, _mm512_srav_epi64(_mm512_add_epi64(pull, half), s));
      step = _mm512_min_epi64(_mm512_max_epi64(step, lo), hi);
      return _mm512_cvtepi64_epi32(step);
    };
    for (size_t k = 0; k < slots; k += 16) {
      const __m512i wv = _mm512_load_si512(w + k);
      const __m512i vv = _mm512_loadu_si512(slot_variance.data() + k);
      const __m512i qv = _mm512_loadu_si512(slot_exponent.data() + k);
      const __m256i low = steps(_mm512_castsi512_si256(wv), _mm512_castsi512_si256(vv), _mm512_castsi512_si256(qv));
      const __m256i high = steps(_mm512_extracti64x4_epi64(wv, 1), _mm512_extracti64x4_epi64(vv, 1),
                                 _mm512_extracti64x4_epi64(qv, 1));
      _mm512_store_si512(w + k, _mm512_add_epi32(wv, _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1)));
    }
  };

  // Double: the lines of the current row and the next with both samples drawn (resolved
  // while the next row's dot product reads them, kept for its update).
  std::unique_ptr<uint64_t, decltype(&std::free)> resolved(
      kDouble ? static_cast<uint64_t*>(std::aligned_alloc(64, sizeof(uint64_t) * 2 * kLineWords * n_lines)) : nullptr,
      &std::free);
  if (kDouble && resolved == nullptr) throw std::bad_alloc();
  const PlaneMoves<K, Gr::W> moves;
  // one row's threshold draws, in whole vectors, and a vector of slack for the last line's loads
  const size_t threshold_slots = (size_t(n_lines) * threshold_words(K) + 15) / 16 * 16 + 32;
  std::unique_ptr<uint32_t, decltype(&std::free)> thresholds(
      kDouble ? static_cast<uint32_t*>(std::aligned_alloc(64, sizeof(uint32_t) * threshold_slots)) : nullptr, &std::free);
  if (kDouble && thresholds == nullptr) throw std::bad_alloc();
  if (kDouble) std::memset(thresholds.get(), 0, sizeof(uint32_t) * threshold_slots);  // the slack is read, unused
  auto resolved_line = [&](int buffer, int l) ZIPML_INLINE { return resolved.get() + (buffer * n_lines + l) * kLineWords; };

  // Double: draws the samples of a whole row into `buffer`, before its lines are read (a
  // line read right after its wide store would wait on store forwarding).
  auto resolve_row = [&](const uint64_t* row, uint32_t key, int buffer) {
    if constexpr (kDouble) {
      row_thresholds<K, Gr::W>(key, n_lines, moves, thresholds.get());
      for (int l = 0; l < n_lines; ++l)
        resolve_line<K, Gr::W>(row + l * kLineWords, thresholds.get() + l * threshold_words(K), moves,
                               resolved_line(buffer, l));
    }
  };

  // The dot product of line l of a row (Double: its resolved line in `buffer`) against
  // the current model.
  auto dot_line = [&](const uint64_t* row, int buffer, int l, __m512i acc) ZIPML_INLINE {
    for_each_group<Bits, E>(kDouble ? resolved_line(buffer, l) : row + l * kLineWords, [&](const Group& g) ZIPML_INLINE {
      const __m512i wd = _mm512_srai_epi32(_mm512_load_si512(w + slot(l, g.gid)), kDotDrop);
      if (Bits > 1) acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(g.idx, wd));
      if (kDouble || Bits == 1) acc = _mm512_mask_add_epi32(acc, g.r0, acc, wd);
      if (kConditioned)  // centred values: minus center * w
        acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_load_si512(center_codes + slot(l, g.gid)), wd));
    });
    return acc;
  };

  // code_step(g, c) of a sample whose steps can leave int32; entry S + 1 only for a
  // malformed line (a fraction on the top index, which this path does not clamp:
  // FORMATS.md sec. 5), so that its gather stays inside the table
  alignas(64) int32_t wide_steps[S + 2];
  EpochCounts counts;
  for (int e = 0; e < epochs; ++e) {
    const int shift = epoch_shift(step_shift, decay_epochs, e);
    const uint64_t* copy = data + static_cast<int64_t>(e % n_copies) * n * row_words;
    __m512i acc = _mm512_setzero_si512();
    int current = 0;  // the resolved-bits buffer of row i
    auto row_of = [&](int i) ZIPML_INLINE { return copy + (rows == nullptr ? int64_t{i} : rows[i]) * row_words; };
    resolve_row(row_of(0), sample_stream_key(seed, e, 0), current);
    for (int l = 0; l < n_lines; ++l) acc = dot_line(row_of(0), current, l, acc);
    int64_t l1 = refetching ? model_l1() : 0;
    for (int i = 0; i < n; ++i, current ^= 1) {
      const uint64_t* row = row_of(i);
      const uint64_t* next = i + 1 < n ? row_of(i + 1) : nullptr;
      const uint64_t* after_next = i + 2 < n ? row_of(i + 2) : nullptr;
      if (rows != nullptr && n_lines <= 16 && i + 4 < n) {  // short rows in a random order: whole rows ahead
        const uint64_t* ahead = row_of(i + 4);
        for (int l = 0; l < n_lines; ++l) __builtin_prefetch(ahead + l * kLineWords, 0, 3);
      }
      if (next != nullptr) resolve_row(next, sample_stream_key(seed, e, i + 1), current ^ 1);
      if (refetching && next != nullptr) {  // the next row's full-precision positions, in case it is refetched
        const char* ahead = reinterpret_cast<const char*>(full + (rows == nullptr ? int64_t{i} + 1 : rows[i + 1]) * d);
        for (int64_t b = 0; b < int64_t{d} * 4; b += 64) __builtin_prefetch(ahead + b, 0, 0);
      }
      int64_t pred = linear_prediction(reduce_add_wrapping(acc), intercept, dot_mult);
      // Refetching (sgd.hpp): where the margin test could go either way, the exact
      // prediction from the row's full-precision positions decides, and steps the model.
      bool refetch = false;
      if (refetching) {
        if (in_refetch_band(labels[i], pred, ((l1 >> kDotDrop) * dot_mult) >> kDotMultFrac)) {
          refetch = true;
          ++counts.refetched;
          gather_row(full + (rows == nullptr ? int64_t{i} : rows[i]) * d);
          pred = (refetch_dot() >> kPosFrac) + (intercept >> kDotDrop);
        }
      }
      bool weight_saturated = false;
      const int64_t r = reg.weighted(Loss::residual_q16(pred, labels[i]), i, weight_saturated);
      const SampleStep st = residual_step(r, dot_mult, shift, S, pmax);
      if (st.saturated || weight_saturated) ++counts.saturated;
      if (refetch || r == 0) {  // no step from the row's codes: only row i+1's dot product
        if (refetch) {
          refetch_update(r, shift);
          l1 = model_l1();
        }
        acc = _mm512_setzero_si512();
        if (next != nullptr)
          for (int l = 0; l < n_lines; ++l) {
            if (after_next != nullptr) __builtin_prefetch(after_next + l * kLineWords, 0, 3);
            acc = dot_line(next, current ^ 1, l, acc);
          }
        report_predictions(report, i, pred, pred);
      } else {
        // round(g c / 2^8) = (g c + 2^7) >> 8 in 32-bit lanes when |g| < 2^23 (then
        // |g c| + 2^7 < 2^31 for c <= 255). Otherwise, while |g| < 2^31, with g = 256 gh + gl
        // (0 <= gl < 256), floor((g c + 128) / 256) = gh c + floor((gl c + 128) / 256)
        // exactly, and |gh c| < 2^31, gl c + 128 < 2^16. b = 8 computes it per value; b <= 4
        // reads a table. Larger |g| (a diverging run): the saturated steps from a table.
        const bool narrow = st.g > -(1 << 23) && st.g < (1 << 23);
        const bool narrow_conditioned = st.g > -(int64_t{1} << (23 - pmax)) && st.g < (int64_t{1} << (23 - pmax));
        const bool wide = st.g <= INT32_MIN || st.g > INT32_MAX;
        if (wide && !kConditioned)  // the conditioned update computes its steps per lane
          for (int c = 0; c <= S + 1; ++c) wide_steps[c] = code_step(st.g, c);
        const int32_t g32 = static_cast<int32_t>(st.g);  // used only when not wide
        const __m512i gv = _mm512_set1_epi32(g32);
        const __m512i gh = _mm512_set1_epi32(g32 >> 8), gl = _mm512_set1_epi32(g32 & 0xFF);
        const __m512i half = _mm512_set1_epi32(1 << (kUpdateFrac - 1));
        auto code_steps = [&](__m512i c) ZIPML_INLINE {
          if (wide) return _mm512_i32gather_epi32(c, wide_steps, 4);
          if (narrow) return _mm512_srai_epi32(_mm512_add_epi32(_mm512_mullo_epi32(gv, c), half), kUpdateFrac);
          const __m512i low = _mm512_srli_epi32(_mm512_add_epi32(_mm512_mullo_epi32(gl, c), half), kUpdateFrac);
          return _mm512_add_epi32(_mm512_mullo_epi32(gh, c), low);
        };
        // b <= 4: a permute of the steps of codes 0..15 indexed by Group::raw + rounding bit;
        // entry x holds step[(x >> pos) & S], so the index needs no mask (and 2-bit data no
        // shift per field). Computed in registers: the row's first update waits for it.
        const __m512i lane_ids = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m512i field = _mm512_set1_epi32(S < 16 ? S : 15);
        const __m512i table_pos0 = code_steps(_mm512_and_si512(lane_ids, field));
        const __m512i table_pos2 = code_steps(_mm512_and_si512(_mm512_srli_epi32(lane_ids, 2), field));
        const __m512i four = _mm512_set1_epi32(4);
        const __m512i gv1 = _mm512_set1_epi32(code_step(st.g, 1));  // 1-bit data
        auto delta_of = [&](const Group& g) ZIPML_INLINE {
          if (S >= 16) return code_steps(kDouble ? _mm512_mask_add_epi32(g.idx, g.r1, g.idx, one) : g.idx);
          const __m512i code = kDouble ? _mm512_mask_add_epi32(g.raw, g.r1, g.raw, g.pos == 0 ? one : four) : g.raw;
          return _mm512_permutexvar_epi32(code, g.pos == 0 ? table_pos0 : table_pos2);
        };
        // One pass over the model per row: update line l with row i, then take line l of
        // row i+1's dot product against the updated weights (same result as two passes).
        acc = _mm512_setzero_si512();
        __m512i acc2 = _mm512_setzero_si512();  // Double: the second sample's dot product
        __m512i l1_sum = _mm512_setzero_si512();  // refetching: sum |w| of the updated model
        for (int l = 0; l < n_lines; ++l) {
          for_each_group<Bits, E>(kDouble ? resolved_line(current, l) : row + l * kLineWords,
                                  [&](const Group& g) ZIPML_INLINE {
            int32_t* ws = w + slot(l, g.gid);
            const __m512i wv = _mm512_load_si512(ws);
            const __m512i cc = kConditioned ? _mm512_load_si512(center_codes + slot(l, g.gid)) : __m512i{};
            if (kDouble) {
              const __m512i wd = _mm512_srai_epi32(wv, kDotDrop);
              if (Bits > 1) acc2 = _mm512_add_epi32(acc2, _mm512_mullo_epi32(g.idx, wd));
              acc2 = _mm512_mask_add_epi32(acc2, g.r1, acc2, wd);
              if (kConditioned) acc2 = _mm512_sub_epi32(acc2, _mm512_mullo_epi32(cc, wd));
            }
            __m512i out;
            if (kConditioned) {  // one rounding of g (second - m) 2^q: conditioned_step
              const __m512i second = Bits == 1 ? _mm512_maskz_mov_epi32(g.r1, one)
                                               : (kDouble ? _mm512_mask_add_epi32(g.idx, g.r1, g.idx, one) : g.idx);
              const __m512i exponent = _mm512_load_si512(exponents + slot(l, g.gid));
              out = _mm512_sub_epi32(wv, conditioned_steps(st.g, narrow_conditioned, _mm512_sub_epi32(second, cc),
                                                           exponent));
            } else if (Bits == 1) {  // the step of code 0 is 0: subtract the step of code 1 where the second code is 1
              out = _mm512_mask_sub_epi32(wv, g.r1, wv, gv1);
            } else {
              out = _mm512_sub_epi32(wv, delta_of(g));
            }
            _mm512_store_si512(ws, out);
            if constexpr (Loss::kRefetch) l1_sum = add_abs(l1_sum, out);
          });
          if (next != nullptr) {
            if (after_next != nullptr) __builtin_prefetch(after_next + l * kLineWords, 0, 3);  // one pass ahead
            acc = dot_line(next, current ^ 1, l, acc);
          }
        }
        if (refetching) l1 = static_cast<int64_t>(_mm512_reduce_add_epi64(l1_sum));
        const int64_t second =
            kDouble && Loss::kSecondSample ? linear_prediction(reduce_add_wrapping(acc2), intercept, dot_mult) : pred;
        report_predictions(report, i, pred, second);
      }
      intercept = wrap_sub(intercept, st.dc);
      if (stored_variance != nullptr && ((i + 1) % kCorrectionRows == 0 || i + 1 == n)) {
        correct(i % kCorrectionRows + 1, shift);
        if (refetching) l1 = model_l1();
        if (next != nullptr) {  // row i+1's dot product was taken before the correction: again
          acc = _mm512_setzero_si512();
          for (int l = 0; l < n_lines; ++l) acc = dot_line(next, current ^ 1, l, acc);
        }
      }
    }
    counts.flush(report, e);
    int32_t* out = history + static_cast<int64_t>(e) * (d + 1);
    for (int l = 0; l < n_lines; ++l)
      for (int gid = 0; gid < G; ++gid)
        for (int lane = 0; lane < 16; ++lane) {
          const int j = l * K + Gr::value(gid, lane);
          if (Gr::value(gid, lane) >= 0 && j < d) out[j] = w[slot(l, gid) + lane];
        }
    out[d] = intercept;
  }
}

#undef ZIPML_INLINE
#endif  // ZIPML_HAVE_AVX512

/**
 * @brief Runs the AVX-512 SGD where this build has it and it covers the call
 * (supports_sgd, simd::covers_options and covers_levels: uniform levels only, kLevelTables);
 * otherwise does nothing.
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
#ifdef ZIPML_HAVE_AVX512
  if constexpr (supports_sgd<Bits, E, Loss>()) {
    if (simd::covers_options(opt) && simd::covers_levels<kLevelTables>(values, d, max_code(Bits) + 1)) {
      if (opt.feature_shifts != nullptr || opt.centers != nullptr)
        sgd_linear_lanes<Bits, E, Loss, MaxFeatures, true>(data, labels, n, d, n_copies, epochs, step_shift,
                                                           decay_epochs, dot_mult, model_in, history, opt.feature_shifts,
                                                           opt.centers, opt.seed, opt.full, report, rows,
                                                           opt.stored_variance, opt.reg);
      else
        sgd_linear_lanes<Bits, E, Loss, MaxFeatures, false>(data, labels, n, d, n_copies, epochs, step_shift,
                                                            decay_epochs, dot_mult, model_in, history, nullptr, nullptr,
                                                            opt.seed, opt.full, report, rows, opt.stored_variance,
                                                            opt.reg);
      return true;
    }
  }
#endif
  return false;
}

}  // namespace avx512
}  // namespace zipml
