// pybind11 glue: exposes hls/include/zipml as zipml_hls._kernels. Every size and
// limit is checked here before a kernel runs; long runs release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "zipml/format.hpp"
#include "zipml/quantize.hpp"
#include "zipml/quantize_avx512.hpp"
#include "zipml/rng.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_avx512.hpp"
#include "optimal_levels.hpp"

namespace py = pybind11;
using zipml::Encoding;

namespace {

constexpr int kMaxFeatures = 65536;  // on-chip model size of the CPU build
template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <int B>
using BitsTag = std::integral_constant<int, B>;
template <Encoding E>
using EncTag = std::integral_constant<Encoding, E>;

// Calls f(BitsTag, EncTag) for the runtime (bits, encoding) pair.
template <class F>
void dispatch(int bits, int encoding, F&& f) {
  auto with_enc = [&](auto b) {
    switch (encoding) {
      case 0: return f(b, EncTag<Encoding::Double>{});
      case 1: return f(b, EncTag<Encoding::Naive>{});
      case 2: return f(b, EncTag<Encoding::Nearest>{});
      default: throw py::value_error("encoding must be 0 (double), 1 (naive) or 2 (nearest), got " + std::to_string(encoding));
    }
  };
  switch (bits) {
    case 1: return with_enc(BitsTag<1>{});
    case 2: return with_enc(BitsTag<2>{});
    case 3: return with_enc(BitsTag<3>{});
    case 4: return with_enc(BitsTag<4>{});
    case 6: return with_enc(BitsTag<6>{});
    case 8: return with_enc(BitsTag<8>{});
    default: throw py::value_error("bits must be 1, 2, 3, 4, 6 or 8, got " + std::to_string(bits));
  }
}

void require(bool ok, const std::string& what) {
  if (!ok) throw py::value_error(what);
}

std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

void require_shape1(const py::array& a, py::ssize_t n, const char* name) {
  require(a.ndim() == 1 && a.shape(0) == n,
          std::string(name) + " must have shape (" + std::to_string(n) + ",), got " + shape_str(a));
}

void check_features(py::ssize_t d) {
  require(d >= 1 && d <= kMaxFeatures, "n_features must be in [1, " + std::to_string(kMaxFeatures) +
                                           "] (the kernel's compile-time maximum), got " + std::to_string(d));
}

void check_schedule(int epochs, int step_shift, int decay_epochs) {
  require(epochs >= 1, "epochs must be >= 1, got " + std::to_string(epochs));
  require(step_shift >= 1 && step_shift <= zipml::kMaxShift,
          "step_shift must be in [1, 40], got " + std::to_string(step_shift));
  require(decay_epochs >= 0, "decay_epochs must be >= 0, got " + std::to_string(decay_epochs));
}

// Calls f(BitsTag, MTag) for Multi data with m samples (the compiled sample counts).
template <class F>
void dispatch_multi(int bits, int samples, F&& f) {
  dispatch(bits, 0, [&](auto b, auto) {
    switch (samples) {
      case 4: return f(b, std::integral_constant<int, 4>{});
      case 6: return f(b, std::integral_constant<int, 6>{});
      case 8: return f(b, std::integral_constant<int, 8>{});
      default: throw py::value_error("multi sampling stores 4, 6 or 8 samples, got " + std::to_string(samples));
    }
  });
}

// Sizes shared by the quantized SGD entry points: data (copies, samples, words), one
// label per sample, d + 1 initial model values, and the schedule.
void check_sgd_inputs(const py::array& data, const py::array& labels, const py::array& model_in, int d, int epochs,
                      int step_shift, int decay_epochs) {
  check_features(d);
  check_schedule(epochs, step_shift, decay_epochs);
  require(data.ndim() == 3, "data must be 3-D (copies, samples, words), got " + shape_str(data));
  require(data.shape(0) >= 1 && data.shape(1) >= 1 && data.shape(1) <= INT32_MAX,
          "data must hold at least one copy and one sample");
  require_shape1(labels, data.shape(1), "labels");
  require_shape1(model_in, d + 1, "model_in");
}

py::array_t<uint64_t> quantize(carray<float> X, carray<float> lo, carray<float> inv, py::object levels,
                               int bits, int encoding, uint32_t seed, int n_copies, int samples, bool portable) {
  require(X.ndim() == 2, "X must be 2-D, got shape " + shape_str(X));
  const py::ssize_t n = X.shape(0), d = X.shape(1);
  require(n >= 1 && n <= INT32_MAX, "n_samples must be in [1, 2^31), got " + std::to_string(n));
  require(d >= 1 && d <= INT32_MAX, "n_features must be in [1, 2^31), got " + std::to_string(d));
  require_shape1(lo, d, "lo");
  require_shape1(inv, d, "inv");
  require(n_copies >= 1, "n_copies must be >= 1, got " + std::to_string(n_copies));
  py::array_t<uint64_t> out;
  auto run = [&](auto b, auto e, auto m) {
    constexpr int B = decltype(b)::value;
    constexpr Encoding E = decltype(e)::value;
    constexpr int M = decltype(m)::value;
    const uint32_t* table = nullptr;
    carray<uint32_t> lev;
    if (!levels.is_none()) {
      lev = carray<uint32_t>::ensure(levels);
      require(lev && lev.ndim() == 2 && lev.shape(0) == d && lev.shape(1) == (1 << B),
              "levels must have shape (" + std::to_string(d) + ", " + std::to_string(1 << B) + ")");
      const uint32_t* t = lev.data();
      for (py::ssize_t j = 0; j < d; ++j, t += (1 << B)) {
        require(t[0] == 0 && t[(1 << B) - 1] == zipml::kPosOne,
                "levels of feature " + std::to_string(j) + " must start at 0 and end at 2^24");
        for (int k = 1; k < (1 << B); ++k)
          require(t[k] > t[k - 1], "levels of feature " + std::to_string(j) + " must be strictly increasing");
      }
      table = lev.data();
    }
    const py::ssize_t row_words = py::ssize_t(zipml::lines_per_row(int(d), B, E, M)) * zipml::kLineWords;
    out = py::array_t<uint64_t>({py::ssize_t(n_copies), n, row_words});
    const float* x = X.data();
    const float* plo = lo.data();
    const float* pinv = inv.data();
    uint64_t* po = out.mutable_data();
    py::gil_scoped_release release;
#ifdef ZIPML_HAVE_AVX512_QUANTIZE
    // the fast path: uniform levels, 1, 2, 4, 8 bits, at most two samples
    if constexpr ((B & (B - 1)) == 0 && E != Encoding::Multi) {
      if (!portable && table == nullptr) {
        zipml::avx512::quantize_matrix<B, E>(x, int(n), int(d), plo, pinv, seed, n_copies, po);
        return;
      }
    }
#endif
    zipml::quantize_matrix<B, E, M>(x, int(n), int(d), plo, pinv, table, seed, n_copies, po);
  };
  if (encoding == 3) {
    dispatch_multi(bits, samples, [&](auto b, auto m) { run(b, EncTag<Encoding::Multi>{}, m); });
  } else {
    dispatch(bits, encoding, [&](auto b, auto e) { run(b, e, std::integral_constant<int, 2>{}); });
  }
  return out;
}

py::array_t<int32_t> sgd_quantized(carray<uint64_t> data, carray<int32_t> labels, int d, int bits, int encoding,
                                   int epochs, int step_shift, int decay_epochs, int32_t dot_mult,
                                   carray<int32_t> model_in, py::object values, bool portable, int loss,
                                   int model_bits, int grad_bits, uint32_t seed, py::object full,
                                   py::object refetches) {
  check_sgd_inputs(data, labels, model_in, d, epochs, step_shift, decay_epochs);
  const py::ssize_t n_copies = data.shape(0), n = data.shape(1);
  require(dot_mult > 0, "dot_mult must be positive, got " + std::to_string(dot_mult));
  require(loss == 0 || loss == 1, "loss must be 0 (squared error) or 1 (hinge), got " + std::to_string(loss));
  require(model_bits == 0 || (model_bits >= 2 && model_bits <= 24),
          "model_bits must be 0 (full precision) or in [2, 24], got " + std::to_string(model_bits));
  require(grad_bits == 0 || (grad_bits >= 2 && grad_bits <= 24),
          "grad_bits must be 0 (full precision) or in [2, 24], got " + std::to_string(grad_bits));
  zipml::SgdOptions opt;
  opt.loss = static_cast<zipml::Loss>(loss);
  opt.model_bits = model_bits;
  opt.grad_bits = grad_bits;
  opt.seed = seed;
  carray<uint32_t> full_arr;
  if (!full.is_none()) {
    require(loss == 1, "full-precision rows (refetching) are used by the hinge loss only");
    full_arr = carray<uint32_t>::ensure(full);
    require(full_arr && full_arr.ndim() == 2 && full_arr.shape(0) == data.shape(1) && full_arr.shape(1) == d,
            "full must have shape (" + std::to_string(data.shape(1)) + ", " + std::to_string(d) + ")");
    opt.full = full_arr.data();
  }
  py::array_t<int32_t> counts;
  if (!refetches.is_none()) {
    counts = py::array_t<int32_t>::ensure(refetches);
    require(counts && counts.ndim() == 1 && counts.shape(0) == epochs && counts.writeable() &&
                (counts.flags() & py::array::c_style),
            "refetches must be a writeable int32 array of shape (" + std::to_string(epochs) + ",)");
    opt.refetches = counts.mutable_data();
  }
  const bool plain = loss == 0 && model_bits == 0 && grad_bits == 0;
  py::array_t<int32_t> history({py::ssize_t(epochs), py::ssize_t(d) + 1});
  dispatch(bits, encoding, [&](auto b, auto e) {
    constexpr int B = decltype(b)::value;
    constexpr Encoding E = decltype(e)::value;
    const py::ssize_t row_words = py::ssize_t(zipml::lines_per_row(d, B, E)) * zipml::kLineWords;
    require(data.shape(2) == row_words, "data rows must have " + std::to_string(row_words) +
                                            " words for d=" + std::to_string(d) + ", got " +
                                            std::to_string(data.shape(2)));
    carray<int32_t> table;
    const int32_t* pv = nullptr;
    if (!values.is_none()) {
      table = carray<int32_t>::ensure(values);
      require(table && table.ndim() == 2 && table.shape(0) == d && table.shape(1) == (1 << B),
              "values must have shape (" + std::to_string(d) + ", " + std::to_string(1 << B) + ")");
      pv = table.data();
    }
    const uint64_t* pd = data.data();
    const int32_t* py_ = labels.data();
    const int32_t* pm = model_in.data();
    int32_t* ph = history.mutable_data();
    py::gil_scoped_release release;
#ifdef ZIPML_HAVE_AVX512
    if constexpr ((B & (B - 1)) == 0) {  // the fast path: uniform levels, 1, 2, 4, 8 bits
      if (!portable && pv == nullptr && plain) {
        zipml::avx512::sgd_least_squares<B, E, kMaxFeatures>(pd, py_, int(n), d, int(n_copies), epochs, step_shift,
                                                             decay_epochs, dot_mult, pm, ph);
        return;
      }
    }
#endif
    zipml::sgd_linear<B, E, kMaxFeatures>(pd, py_, int(n), d, int(n_copies), epochs, step_shift, decay_epochs,
                                          dot_mult, pv, pm, ph, opt);
  });
  return history;
}

py::array_t<int32_t> sgd_logistic(carray<uint64_t> data, carray<int32_t> labels, int d, int bits, int encoding,
                                  int samples, int epochs, int step_shift, int decay_epochs, int32_t dot_mult,
                                  carray<int64_t> coef, int32_t range_q16, carray<int32_t> model_in) {
  check_sgd_inputs(data, labels, model_in, d, epochs, step_shift, decay_epochs);
  const py::ssize_t n_copies = data.shape(0), n = data.shape(1);
  require_shape1(coef, samples, "coef");
  require(range_q16 > 0 && range_q16 <= (32 << 16), "range_q16 must be in (0, 32 * 2^16]");
  require(dot_mult > 0, "dot_mult must be positive, got " + std::to_string(dot_mult));
  py::array_t<int32_t> history({py::ssize_t(epochs), py::ssize_t(d) + 1});
  auto run_logistic = [&](auto b, auto e, auto m) {
    constexpr int B = decltype(b)::value;
    constexpr Encoding E = decltype(e)::value;
    constexpr int M = decltype(m)::value;
    const py::ssize_t row_words = py::ssize_t(zipml::lines_per_row(d, B, E, M)) * zipml::kLineWords;
    require(data.shape(2) == row_words, "data rows must have " + std::to_string(row_words) + " words for d=" +
                                            std::to_string(d) + ", got " + std::to_string(data.shape(2)));
    const uint64_t* pd = data.data();
    const int32_t* py_ = labels.data();
    const int64_t* pc = coef.data();
    const int32_t* pm = model_in.data();
    int32_t* ph = history.mutable_data();
    py::gil_scoped_release release;
    zipml::sgd_logistic<B, E, M, kMaxFeatures>(pd, py_, int(n), d, int(n_copies), epochs, step_shift, decay_epochs,
                                            dot_mult, pc, range_q16, pm, ph);
  };
  require(encoding == 1 || encoding == 2 || encoding == 3,
          "logistic data must be multi (3), naive (1) or nearest (2), got encoding " + std::to_string(encoding));
  dispatch_multi(bits, samples, [&](auto b, auto m) {
    if (encoding == 1) return run_logistic(b, EncTag<Encoding::Naive>{}, m);
    if (encoding == 2) return run_logistic(b, EncTag<Encoding::Nearest>{}, m);
    run_logistic(b, EncTag<Encoding::Multi>{}, m);
  });
  return history;
}

py::array_t<float> sgd_fp32(carray<float> X, carray<float> y, int epochs, int step_shift, int decay_epochs,
                            carray<float> model_in, int loss) {
  require(loss >= 0 && loss <= 2, "loss must be 0 (squared error), 1 (hinge) or 2 (logistic), got " +
                                      std::to_string(loss));
  require(X.ndim() == 2, "X must be 2-D, got shape " + shape_str(X));
  const py::ssize_t n = X.shape(0), d = X.shape(1);
  require(n >= 1 && n <= INT32_MAX, "n_samples must be in [1, 2^31), got " + std::to_string(n));
  check_features(d);
  check_schedule(epochs, step_shift, decay_epochs);
  require_shape1(y, n, "y");
  require_shape1(model_in, d + 1, "model_in");
  py::array_t<float> history({py::ssize_t(epochs), d + 1});
  const float* px = X.data();
  const float* py_ = y.data();
  const float* pm = model_in.data();
  float* ph = history.mutable_data();
  py::gil_scoped_release release;
  zipml::sgd_fp32<kMaxFeatures>(px, d, py_, int(n), int(d), epochs, step_shift, decay_epochs, pm, ph,
                                static_cast<zipml::Loss>(loss));
  return history;
}

// Levels minimising total rounding variance: indices into the candidates (points, or
// grid_size grid points over [x_0, x_{n-1}]) and their positions.
py::tuple levels_dp(carray<double> x, carray<double> counts, int s, int grid_size, bool monotone) {
  require(x.ndim() == 1 && x.shape(0) >= 2, "x must be 1-D with at least 2 values");
  const py::ssize_t n = x.shape(0);
  require_shape1(counts, n, "counts");
  require(n <= INT32_MAX, "too many values");
  require(s >= 1, "s must be >= 1");
  const int candidates = grid_size > 0 ? grid_size : int(n);
  require(candidates >= s + 1, "need at least s + 1 candidate levels");
  const double* px = x.data();
  const double* pc = counts.data();
  for (py::ssize_t i = 1; i < n; ++i) require(px[i] > px[i - 1], "x must be strictly increasing");
  std::vector<int> idx;
  std::vector<long double> pos;
  {
    py::gil_scoped_release release;
    const zipml_host::IntervalCost cost = grid_size > 0
        ? zipml_host::grid_cost(px, pc, int(n), px[0], px[n - 1], grid_size)
        : zipml_host::point_cost(px, pc, int(n));
    idx = zipml_host::solve(cost, s, monotone);
    pos.assign(cost.pos.begin(), cost.pos.end());
  }
  py::array_t<double> levels(s + 1);
  double* pl = levels.mutable_data();
  for (int k = 0; k <= s; ++k) pl[k] = static_cast<double>(pos[idx[k]]);
  return py::make_tuple(levels);
}

// Grid-method levels for every column of an (n, d) matrix of Q0.24 positions, without
// sorting: each column is binned straight into the grid cells. Row j: s+1 levels.
py::array_t<double> grid_level_columns(carray<uint32_t> positions, int s, int grid_size) {
  require(positions.ndim() == 2, "positions must be 2-D");
  require(s >= 1 && grid_size >= s + 1, "need s >= 1 and grid_size >= s + 1");
  const py::ssize_t n = positions.shape(0), d = positions.shape(1);
  require(n >= 1 && n <= INT32_MAX, "need 1 to 2^31 - 1 rows");
  py::array_t<double> out({d, py::ssize_t(s) + 1});
  const uint32_t* p = positions.data();
  double* po = out.mutable_data();
  py::gil_scoped_release release;
  std::vector<double> col(n), ones(n, 1.0);
  for (py::ssize_t j = 0; j < d; ++j) {
    double lo = p[j], hi = p[j];
    for (py::ssize_t i = 0; i < n; ++i) {
      col[i] = p[i * d + j];
      lo = col[i] < lo ? col[i] : lo;
      hi = col[i] > hi ? col[i] : hi;
    }
    double* row = po + j * (s + 1);
    if (hi == lo) {  // constant column: any levels; the caller makes them distinct
      for (int k = 0; k <= s; ++k) row[k] = lo;
      continue;
    }
    const zipml_host::IntervalCost cost = zipml_host::grid_cost(col.data(), ones.data(), int(n), lo, hi, grid_size);
    const std::vector<int> idx = zipml_host::solve(cost, s, true);
    for (int k = 0; k <= s; ++k) row[k] = static_cast<double>(cost.pos[idx[k]]);
  }
  return out;
}

// Streaming read of a buffer (the roofline): sums its 64-bit words, GIL released.
uint64_t stream_read(carray<uint64_t> buffer) {
  const uint64_t* p = buffer.data();
  const py::ssize_t n = buffer.size();
  py::gil_scoped_release release;
  uint64_t acc = 0;
#pragma omp simd reduction(+ : acc)
  for (py::ssize_t i = 0; i < n; ++i) acc += p[i];
  return acc;
}

// Draws of one stream, for checking the RNG against its NumPy twin.
py::array_t<uint32_t> draws(uint32_t seed, uint32_t a, uint32_t b, uint32_t c, py::ssize_t count) {
  require(count >= 0 && count <= (py::ssize_t(1) << 32), "count must be in [0, 2^32]");
  py::array_t<uint32_t> out(count);
  const uint32_t key = zipml::stream_key(seed, a, b, c);
  uint32_t* p = out.mutable_data();
  for (py::ssize_t i = 0; i < count; ++i) p[i] = zipml::draw(key, uint32_t(i));
  return out;
}

py::dict info() {
  py::dict d;
  d["max_features"] = kMaxFeatures;
  d["bits"] = py::make_tuple(1, 2, 3, 4, 6, 8);
  d["encodings"] = py::make_tuple("double", "naive", "nearest");
  py::dict vpl;
  for (int b : {1, 2, 3, 4, 6, 8}) {
    vpl[py::str("double/" + std::to_string(b))] = zipml::values_per_line(b, Encoding::Double);
    vpl[py::str("naive/" + std::to_string(b))] = zipml::values_per_line(b, Encoding::Naive);
  }
  d["values_per_line"] = vpl;
  d["compiler"] = std::string(__VERSION__);
  d["cxx_flags"] = std::string(ZIPML_CXX_FLAGS);
  d["native"] = bool(ZIPML_NATIVE);
  std::string fast;
#ifdef ZIPML_HAVE_AVX512
  fast += "avx512 SGD";
#endif
#ifdef ZIPML_HAVE_AVX512_QUANTIZE
  fast += std::string(fast.empty() ? "" : " and ") + "avx512 quantizer";
#endif
  d["fast_path"] = fast.empty() ? std::string("none (portable kernels)")
                                : fast + " (uniform levels at 1, 2, 4, 8 bits; others run the portable kernels)";
#if defined(__AVX512F__)
  d["isa"] = "avx512";
#elif defined(__AVX2__)
  d["isa"] = "avx2";
#elif defined(__SSE2__)
  d["isa"] = "sse2";
#else
  d["isa"] = "generic";
#endif
  return d;
}

}  // namespace

PYBIND11_MODULE(_kernels, m) {
  m.doc() = "zipml-hls kernels (hls/include/zipml) compiled for this CPU";
  m.def("quantize", &quantize, py::arg("X"), py::arg("lo"), py::arg("inv"), py::arg("levels"), py::arg("bits"),
        py::arg("encoding"), py::arg("seed"), py::arg("n_copies"), py::arg("samples") = 2, py::arg("portable") = false);
  m.def("sgd_quantized", &sgd_quantized, py::arg("data"), py::arg("labels"), py::arg("d"), py::arg("bits"),
        py::arg("encoding"), py::arg("epochs"), py::arg("step_shift"), py::arg("decay_epochs"),
        py::arg("dot_mult"), py::arg("model_in"), py::arg("values") = py::none(), py::arg("portable") = false,
        py::arg("loss") = 0, py::arg("model_bits") = 0, py::arg("grad_bits") = 0, py::arg("seed") = 0,
        py::arg("full") = py::none(), py::arg("refetches") = py::none());
  m.def("sgd_logistic", &sgd_logistic, py::arg("data"), py::arg("labels"), py::arg("d"), py::arg("bits"),
        py::arg("encoding"), py::arg("samples"), py::arg("epochs"), py::arg("step_shift"), py::arg("decay_epochs"),
        py::arg("dot_mult"), py::arg("coef"), py::arg("range_q16"), py::arg("model_in"));
  m.def("sgd_fp32", &sgd_fp32, py::arg("X"), py::arg("y"), py::arg("epochs"), py::arg("step_shift"),
        py::arg("decay_epochs"), py::arg("model_in"), py::arg("loss") = 0);
  m.def("draws", &draws, py::arg("seed"), py::arg("a"), py::arg("b"), py::arg("c"), py::arg("count"));
  m.def("levels_dp", &levels_dp, py::arg("x"), py::arg("counts"), py::arg("s"), py::arg("grid_size"),
        py::arg("monotone"));
  m.def("grid_level_columns", &grid_level_columns, py::arg("positions"), py::arg("s"), py::arg("grid_size"));
  m.def("stream_read", &stream_read, py::arg("buffer"));
  m.def("info", &info);
}
