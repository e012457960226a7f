// Bindings of the variance-optimal level solver (hls/include/zipml_cpu/optimal_levels.hpp).
#include <algorithm>
#include <string>
#include <vector>

#include "checks.hpp"
#include "parallel.hpp"
#include "zipml_cpu/optimal_levels.hpp"

namespace zipml_py {
namespace {

py::tuple levels_dp(carray<double> x, carray<double> counts, int s, int grid_size, bool monotone) {
  require(x.ndim() == 1 && x.shape(0) >= 2, "x must be 1-D with at least 2 values");
  const py::ssize_t n = x.shape(0);
  require_shape1(counts, n, "counts");
  require(n <= INT32_MAX, "too many values");
  require(s >= 1, "s must be >= 1, got " + std::to_string(s));
  const int candidates = grid_size > 0 ? grid_size : int(n);
  require(candidates >= s + 1, "need at least s + 1 candidate levels");
  const double* px = x.data();
  const double* pc = counts.data();
  for (py::ssize_t i = 1; i < n; ++i)
    if (!(px[i] > px[i - 1])) fail("x must be strictly increasing");  // NaN fails too
  std::vector<int> idx;
  std::vector<long double> levels_at;
  {
    py::gil_scoped_release release;
    const zipml_host::IntervalCost cost = grid_size > 0
        ? zipml_host::grid_cost(px, pc, int(n), px[0], px[n - 1], grid_size, s)
        : zipml_host::point_cost(px, pc, int(n));
    idx = grid_size > 0 ? zipml_host::solve<double>(cost, s, monotone) : zipml_host::solve(cost, s, monotone);
    for (const int j : idx) levels_at.push_back(cost.at[j]);
  }
  py::array_t<double> levels(s + 1);
  double* pl = levels.mutable_data();
  for (int k = 0; k <= s; ++k) pl[k] = static_cast<double>(levels_at[k]);
  return py::make_tuple(levels);
}

py::array_t<double> grid_level_columns(carray<uint32_t> positions, int s, int grid_size) {
  require(positions.ndim() == 2, "positions must be 2-D, got shape " + shape_str(positions));
  require(s >= 1 && grid_size >= s + 1, "need s >= 1 and grid_size >= s + 1");
  const py::ssize_t n = positions.shape(0), d = positions.shape(1);
  require(n >= 1 && n <= INT32_MAX, "need 1 to 2^31 - 1 rows");
  py::array_t<double> out({d, py::ssize_t(s) + 1});
  const uint32_t* p = positions.data();
  double* po = out.mutable_data();
  py::gil_scoped_release release;
  // Columns are copied out kBlock at a time, a row's 64-byte line each (one column at a
  // time would fetch a line per value from a matrix far larger than the caches); blocks go
  // to the cores in turn, each thread with one buffer of kBlock columns.
  constexpr py::ssize_t kBlock = 16;
  const py::ssize_t blocks = (d + kBlock - 1) / kBlock;
  const int threads = int(std::min<py::ssize_t>(available_threads(), blocks));
  for_each_part(threads, threads, [&](int t) {
    std::vector<uint32_t> cols(size_t(kBlock) * n);
    for (py::ssize_t j0 = t * kBlock; j0 < d; j0 += threads * kBlock) {
      const py::ssize_t width = std::min(kBlock, d - j0);
      for (py::ssize_t i = 0; i < n; ++i)
        for (py::ssize_t b = 0; b < width; ++b) cols[b * n + i] = p[i * d + j0 + b];
      for (py::ssize_t b = 0; b < width; ++b) {
        const uint32_t* col = cols.data() + b * n;
        const auto [lo, hi] = std::minmax_element(col, col + n);
        double* row = po + (j0 + b) * (s + 1);
        if (*hi == *lo) {  // constant column: any levels; the caller makes them distinct
          for (int k = 0; k <= s; ++k) row[k] = *lo;
          continue;
        }
        const zipml_host::IntervalCost cost = zipml_host::grid_cost(col, nullptr, int(n), *lo, *hi, grid_size, s);
        const std::vector<int> idx = zipml_host::solve<double>(cost, s, true);
        for (int k = 0; k <= s; ++k) row[k] = static_cast<double>(cost.at[idx[k]]);
      }
    }
  });
  return out;
}

}  // namespace

void bind_levels(py::module_& m) {
  m.def("levels_dp", &levels_dp, py::arg("x"), py::arg("counts"), py::arg("s"), py::arg("grid_size"),
        py::arg("monotone"), R"pbdoc(
Levels minimising the total variance of stochastic rounding (exact dynamic program).

Chooses s + 1 levels, the first at x[0] and the last at x[-1], minimising
sum_i counts_i (L_{j+1} - x_i)(x_i - L_j) over the values x (float64, strictly
increasing, at least 2) with weights counts (float64, same shape). grid_size 0: levels
at data points (O(s N log N) with monotone=True, O(s N^2) without: the oracle);
grid_size > 0: levels on grid_size evenly spaced points of [x[0], x[-1]].
Returns (levels float64 (s + 1,),).
)pbdoc");
  m.def("grid_level_columns", &grid_level_columns, py::arg("positions"), py::arg("s"), py::arg("grid_size"),
        R"pbdoc(
Grid-method optimal levels for every column of a matrix of positions, without sorting.

positions uint32 (n, d) Q0.24 (from positions()); each column is binned straight into
grid_size cells over its own [min, max] and solved as levels_dp with monotone=True, the
columns shared among the cores (the result does not depend on their number).
A constant column gets s + 1 equal levels (the caller makes them distinct).
Returns float64 (d, s + 1).
)pbdoc");
}

}  // namespace zipml_py
