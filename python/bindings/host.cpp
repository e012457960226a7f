// Bindings of the training loop's host work in native code: fit()'s set-up passes over
// X (the statistics that the scalings, the conditioning and the initial step come from,
// each in one pass on every core, where NumPy needed six passes and scaled copies), and
// each epoch's row order (in NumPy it held the GIL that the next kernel call waited on).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "checks.hpp"
#include "parallel.hpp"
#include "zipml/rng.hpp"

namespace zipml_py {
namespace {

/// Parts of a pass: rows of 2048 or more, at most 64 parts and 2^20 / d (each part keeps
/// 24 bytes per feature). Parts are cut by the shape alone, so the float64 sums (added
/// part by part, in order) are the same on any number of cores.
int part_count(py::ssize_t n, py::ssize_t d) {
  const py::ssize_t most = std::clamp<py::ssize_t>((py::ssize_t(1) << 20) / d, 1, 64);
  return int(std::clamp<py::ssize_t>((n + 2047) / 2048, 1, most));
}

void check_data(const py::array& X) {
  require(X.ndim() == 2 && X.shape(0) >= 1 && X.shape(1) >= 1,
          "X must be 2-D with at least one row and one column, got shape " + shape_str(X));
}

/// Rows [begin, end) of X (d columns) into per-feature min, max and the sums of x - x_0j
/// and of its square (x_0j: the first row of X).
void summarize_rows(const float* x, py::ssize_t begin, py::ssize_t end, py::ssize_t d, float* lo, float* hi,
                    double* sums, double* squares) {
  std::copy(x + begin * d, x + (begin + 1) * d, lo);
  std::copy(x + begin * d, x + (begin + 1) * d, hi);
  std::fill(sums, sums + d, 0.0);
  std::fill(squares, squares + d, 0.0);
  for (py::ssize_t i = begin; i < end; ++i) {
    const float* row = x + i * d;
#pragma omp simd
    for (py::ssize_t j = 0; j < d; ++j) {
      const float v = row[j];
      lo[j] = v < lo[j] ? v : lo[j];
      hi[j] = v > hi[j] ? v : hi[j];
      const double t = double(v) - double(x[j]);  // a NaN or infinity makes the sums non-finite
      sums[j] += t;
      squares[j] += t * t;
    }
  }
}

/// Per feature j of X (float32, n x d): min, max, mean and variance (float64, divided by
/// n), and whether every value is finite. Sums are of x - x_0j (the first row), which
/// keeps a large offset from cancelling the variance.
py::tuple feature_summary(carray<float> X) {
  check_data(X);
  const py::ssize_t n = X.shape(0), d = X.shape(1);
  const int parts = part_count(n, d);
  py::array_t<float> lo(d), hi(d);
  py::array_t<double> mean(d), var(d);
  bool finite = true;
  {
    const float* x = X.data();
    py::gil_scoped_release release;
    std::vector<float> lows(std::size_t(parts) * d), highs(std::size_t(parts) * d);
    std::vector<double> sums(std::size_t(parts) * d), squares(std::size_t(parts) * d);
    for_each_part(parts, available_threads(), [&](int p) {
      const py::ssize_t begin = n * p / parts, end = n * (p + 1) / parts;
      float* pl = lows.data() + std::size_t(p) * d;
      float* ph = highs.data() + std::size_t(p) * d;
      double* s1 = sums.data() + std::size_t(p) * d;
      double* s2 = squares.data() + std::size_t(p) * d;
      summarize_rows(x, begin, end, d, pl, ph, s1, s2);
    });
    float* plo = lo.mutable_data();
    float* phi = hi.mutable_data();
    double* pm = mean.mutable_data();
    double* pv = var.mutable_data();
    for (py::ssize_t j = 0; j < d; ++j) {
      double s1 = 0.0, s2 = 0.0;
      float l = lows[j], h = highs[j];
      for (int p = 0; p < parts; ++p) {
        s1 += sums[std::size_t(p) * d + j];
        s2 += squares[std::size_t(p) * d + j];
        l = std::min(l, lows[std::size_t(p) * d + j]);
        h = std::max(h, highs[std::size_t(p) * d + j]);
      }
      finite = finite && std::isfinite(s1) && std::isfinite(s2);
      const double m = s1 / double(n);
      plo[j] = l;
      phi[j] = h;
      pm[j] = double(x[j]) + m;
      pv[j] = std::max(s2 / double(n) - m * m, 0.0);
    }
  }
  return py::make_tuple(lo, hi, mean, var, finite);
}

/// max over rows [begin, end) of X (d columns) of sum_j weight_j |x_ij - origin_j|, in
/// float32 (lane partial sums): plenty, as the bound is rounded up to a power of two.
float widest_row(const float* x, py::ssize_t begin, py::ssize_t end, py::ssize_t d, const float* origin,
                 const float* weight) {
  float most = 0.0f;
  for (py::ssize_t i = begin; i < end; ++i) {
    const float* row = x + i * d;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (py::ssize_t j = 0; j < d; ++j) {
      const float t = row[j] - origin[j];
      sum += (t < 0.0f ? -t : t) * weight[j];
    }
    most = std::max(most, sum);
  }
  return most;
}

/// max_i sum_j weight_j |x_ij - origin_j| over the rows of X, in float32, on every core.
double weighted_row_bound(carray<float> X, carray<float> origin, carray<float> weight) {
  check_data(X);
  const py::ssize_t n = X.shape(0), d = X.shape(1);
  require_shape1(origin, d, "origin");
  require_shape1(weight, d, "weight");
  const int parts = part_count(n, d);
  std::vector<float> widest(parts, 0.0f);
  const float* x = X.data();
  const float* po = origin.data();
  const float* pw = weight.data();
  py::gil_scoped_release release;
  for_each_part(parts, available_threads(),
                [&](int p) { widest[p] = widest_row(x, n * p / parts, n * (p + 1) / parts, d, po, pw); });
  return double(*std::max_element(widest.begin(), widest.end()));
}

/// The rows of an n-row epoch in visiting order: the permutation that sorts the draws of
/// stream (kStreamOrder, epoch, 0), ties by row (spec/rng.py's epoch_order).
py::array_t<int64_t> epoch_order(uint32_t seed, uint32_t epoch, py::ssize_t n) {
  require(n >= 0 && n <= INT32_MAX, "n must be in [0, 2^31), got " + std::to_string(n));
  py::array_t<int64_t> out(n);
  int64_t* po = out.mutable_data();
  py::gil_scoped_release release;
  const uint32_t key = zipml::stream_key(seed, zipml::kStreamOrder, epoch, 0);
  std::vector<uint64_t> pairs(static_cast<std::size_t>(n));  // (draw, row): one sort, no ties left
  for (py::ssize_t i = 0; i < n; ++i) pairs[i] = (uint64_t(zipml::draw(key, uint32_t(i))) << 32) | uint64_t(i);
  std::sort(pairs.begin(), pairs.end());
  for (py::ssize_t i = 0; i < n; ++i) po[i] = int64_t(pairs[i] & 0xFFFFFFFFu);
  return out;
}

}  // namespace

void bind_host(py::module_& m) {
  m.def("feature_summary", &feature_summary, py::arg("X"), R"pbdoc(
Per-feature statistics of X in one pass on every core: (lo, hi, mean, var, finite).

X float32 (n, d). lo, hi: float32 (d,) minimum and maximum; mean, var: float64 (d,) mean
and variance (the sum of squared deviations over n), from sums of x - X[0, j] added in
parts cut by X's shape alone, so the same on any number of cores; finite: False if X holds a NaN or
an infinity (then lo, hi, mean and var mean nothing).
)pbdoc");
  m.def("weighted_row_bound", &weighted_row_bound, py::arg("X"), py::arg("origin"), py::arg("weight"), R"pbdoc(
max over rows i of sum_j weight[j] * |X[i, j] - origin[j]|, in one pass on every core.

X float32 (n, d); origin, weight float32 (d,). In float32 (lane partial sums).
)pbdoc");
  m.def("epoch_order", &epoch_order, py::arg("seed"), py::arg("epoch"), py::arg("n"), R"pbdoc(
The rows of epoch ``epoch`` of an n-row data set in visiting order (int64, a permutation).

The order that sorts draw(stream_key(seed, STREAM_ORDER, epoch, 0), row) over the rows,
ties by row: the same permutation as the golden model's spec.rng.epoch_order.
)pbdoc");
}

}  // namespace zipml_py
