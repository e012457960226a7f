// Bindings of the training loop's host work in native code: fit()'s set-up passes over
// X (the statistics that the scalings, the conditioning and the initial step come from,
// each in one pass on every core, where NumPy needed six passes and scaled copies), the
// rounding variances of sampled rows, and each epoch's row order and pass loss (in NumPy
// they held the GIL that the next kernel call waited on, and allocated arrays of n).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "checks.hpp"
#include "parallel.hpp"
#include "zipml/losses.hpp"
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

/// For each of the `sets` (origin, weight, root) rows of origin, weight and root ((sets, d)
/// each): the largest sum_j weight_j |x_ij - origin_j| and the largest sum_j (root_j (x_ij -
/// origin_j))^2 over rows [begin, end) of X (d columns), in float32 (lane partial sums):
/// plenty, as the bounds are rounded up to a power of two. (The root is applied before
/// squaring: a feature of a range near float32's smallest would square to 0.) Every set
/// reads the row while it is in L1: one pass over X for all of them.
void widest_row(const float* x, py::ssize_t begin, py::ssize_t end, py::ssize_t d, py::ssize_t sets,
                const float* origin, const float* weight, const float* root, float* out) {
  std::vector<float> most(size_t(2 * sets), 0.0f);  // the part's own maxima: out is shared with other parts
  for (py::ssize_t i = begin; i < end; ++i) {
    const float* row = x + i * d;
    for (py::ssize_t s = 0; s < sets; ++s) {
      const float* o = origin + s * d;
      const float* w = weight + s * d;
      const float* r = root + s * d;
      float sum = 0.0f, squares = 0.0f;
#pragma omp simd reduction(+ : sum, squares)
      for (py::ssize_t j = 0; j < d; ++j) {
        const float t = row[j] - o[j];
        sum += (t < 0.0f ? -t : t) * w[j];
        const float q = t * r[j];
        squares += q * q;
      }
      most[2 * s] = std::max(most[2 * s], sum);
      most[2 * s + 1] = std::max(most[2 * s + 1], squares);
    }
  }
  std::copy(most.begin(), most.end(), out);
}

/// For each row s of origin, weight and root ((sets, d) each): (max_i sum_j weight_sj
/// |x_ij - origin_sj|, max_i sum_j (root_sj (x_ij - origin_sj))^2) over the rows of X, in
/// float32, as row s of a (sets, 2) float64 array; one pass over X on every core.
py::array_t<double> weighted_row_bound(carray<float> X, carray<float> origin, carray<float> weight,
                                       carray<float> root) {
  check_data(X);
  const py::ssize_t n = X.shape(0), d = X.shape(1);
  require(origin.ndim() == 2 && origin.shape(0) >= 1 && origin.shape(1) == d,
          "origin must have shape (sets, " + std::to_string(d) + "), got " + shape_str(origin));
  const py::ssize_t sets = origin.shape(0);
  auto same_shape = [&](const py::array& a, const char* name) {
    require(a.ndim() == 2 && a.shape(0) == sets && a.shape(1) == d,
            std::string(name) + " must have origin's shape " + shape_str(origin) + ", got " + shape_str(a));
  };
  same_shape(weight, "weight");
  same_shape(root, "root");
  const int parts = part_count(n, d);
  std::vector<float> widest(size_t(parts) * 2 * sets, 0.0f);
  const float* x = X.data();
  const float* po = origin.data();
  const float* pw = weight.data();
  const float* ps = root.data();
  {
    py::gil_scoped_release release;
    for_each_part(parts, available_threads(), [&](int p) {
      widest_row(x, n * p / parts, n * (p + 1) / parts, d, sets, po, pw, ps, widest.data() + size_t(p) * 2 * sets);
    });
  }
  py::array_t<double> out({sets, py::ssize_t{2}});
  double* pout = out.mutable_data();
  for (py::ssize_t k = 0; k < 2 * sets; ++k) {
    float most = 0.0f;
    for (int p = 0; p < parts; ++p) most = std::max(most, widest[size_t(p) * 2 * sets + k]);
    pout[k] = double(most);
  }
  return out;
}

/// The rows of an n-row epoch in visiting order: the permutation that sorts the draws of
/// stream (kStreamOrder, epoch, 0), ties by row (spec/rng.py's epoch_order). A stable LSD
/// radix sort of the rows by their 32-bit draws, three passes of 11 bits: rows enter in
/// order, so equal draws stay by row, as the golden model's sort of (draw, row) pairs
/// leaves them; three linear passes instead of a comparison sort's log2(n).
py::array_t<int64_t> epoch_order(uint32_t seed, uint32_t epoch, py::ssize_t n) {
  require(n >= 0 && n <= INT32_MAX, "n must be in [0, 2^31), got " + std::to_string(n));
  py::array_t<int64_t> out(n);
  int64_t* po = out.mutable_data();
  py::gil_scoped_release release;
  const uint32_t key = zipml::stream_key(seed, zipml::kStreamOrder, epoch, 0);
  constexpr int kDigit = 11, kBuckets = 1 << kDigit, kPasses = (32 + kDigit - 1) / kDigit;
  const std::size_t count = static_cast<std::size_t>(n);
  // (draw, row) pairs, and the buckets of every digit counted in one pass over the draws
  std::vector<uint64_t> a(count), b(count);
  std::vector<std::array<uint32_t, kBuckets>> start(kPasses, std::array<uint32_t, kBuckets>{});
  for (std::size_t i = 0; i < count; ++i) {
    const uint32_t r = zipml::draw(key, uint32_t(i));
    a[i] = (uint64_t(r) << 32) | uint64_t(i);
    for (int p = 0; p < kPasses; ++p) ++start[p][(r >> (p * kDigit)) & (kBuckets - 1)];
  }
  for (int p = 0; p < kPasses; ++p) {  // counts -> first slot of each bucket
    uint32_t sum = 0;
    for (uint32_t& c : start[p]) sum += std::exchange(c, sum);
  }
  for (int p = 0; p < kPasses; ++p) {
    const int shift = 32 + p * kDigit;
    for (const uint64_t v : a) b[start[p][(v >> shift) & (kBuckets - 1)]++] = v;
    a.swap(b);
  }
  for (std::size_t i = 0; i < count; ++i) po[i] = int64_t(a[i] & 0xFFFFFFFFu);
  return out;
}


/// The sum of a[0..n), n <= 128, as NumPy adds a block in its pairwise summation: in
/// order below 8 values, else in 8 lanes added pairwise, then the rest in order.
double block_sum(const double* a, py::ssize_t n) {
  if (n < 8) {
    double sum = 0.0;
    for (py::ssize_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  double r[8];
  std::copy(a, a + 8, r);
  py::ssize_t i = 8;
  for (; i < n - n % 8; i += 8)
    for (int k = 0; k < 8; ++k) r[k] += a[i + k];
  double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; ++i) sum += a[i];
  return sum;
}

/// The sums of K series of n values in NumPy's order (pairwise_sum in its loops: halves
/// split at a multiple of 8 down to blocks of at most 128, each added by block_sum), so
/// that each equals np.sum (and divided by n, np.mean) of the series as a contiguous
/// float64 array, bit for bit. fill(first, count, out) writes values [first, first +
/// count) of series k to out[k]: the values are made a block at a time, never stored whole.
template <int K, class Fill>
std::array<double, K> pairwise_sums(py::ssize_t first, py::ssize_t n, const Fill& fill) {
  std::array<double, K> sums;
  if (n <= 128) {
    double values[K][128];
    fill(first, n, values);
    for (int k = 0; k < K; ++k) sums[k] = block_sum(values[k], n);
    return sums;
  }
  const py::ssize_t half = n / 2 - (n / 2) % 8;
  const std::array<double, K> left = pairwise_sums<K>(first, half, fill);
  const std::array<double, K> right = pairwise_sums<K>(first + half, n - half, fill);
  for (int k = 0; k < K; ++k) sums[k] = left[k] + right[k];
  return sums;
}

/// Variance (L_k+1 - a)(a - L_k) of stochastic rounding of a in [0, 1] to levels k / s, in
/// float32 (1/s rounded to float32 once: `inv_s`).
inline float level_variance(float a, float s, float inv_s) {
  const float k = std::min(std::floor(a * s), s - 1.0f) / s;
  return (k + inv_s - a) * (a - k);
}

/// Variances of stochastic rounding of a in [0, 1] between the levels t[0..s] (Q0.24
/// positions, strictly increasing from 0 to 2^24), in float64: at the levels (`coarse`)
/// and at double data's fine grid, each interval cut into 2^kFractionBits (`fine`), as
/// the quantizer cuts it. Computed in Q0.24 units (a 2^24 is exact), scaled by 2^-48.
inline void table_variances(float a, const uint32_t* t, int s, double& coarse, double& fine) {
  const double p = double(a) * double(zipml::kPosOne);
  const uint32_t* right = std::upper_bound(t + 1, t + s, p, [](double v, uint32_t level) { return v < double(level); });
  const double left = double(right[-1]), width = double(*right) - left, off = p - left;
  const double step = width / double(1 << zipml::kFractionBits);
  const double points = std::min(std::floor(off / step), double((1 << zipml::kFractionBits) - 1));
  const double rest = off - points * step;
  constexpr double kUnit2 = 1.0 / (double(zipml::kPosOne) * double(zipml::kPosOne));
  coarse = (width - off) * off * kUnit2;
  fine = (step - rest) * rest * kUnit2;
}

/// The rounding variances of rows `rows` of X at `bits` bits, X scaled as FeatureScaling
/// does (float32 (x - lo) inv, clipped to [0, 1]): per feature the mean variance at the
/// levels (`mean`) and at double data's fine grid (`stored`), float64 sums over the rows in
/// order, and the largest float64 sum of a row's variances at the levels (pairwise, as
/// np.sum). Uniform levels (`levels` None): the same bits as those NumPy expressions over
/// the scaled rows; level tables (`levels`, (d, 2^bits) Q0.24): table_variances.
py::tuple rounding_stats(carray<float> X, py::object rows, carray<float> lo, carray<float> inv, int bits,
                         py::object levels) {
  check_matrix(X, lo, inv);
  require(bits >= 1 && bits <= 8, "bits must be in [1, 8], got " + std::to_string(bits));
  const py::ssize_t n_rows = X.shape(0), d = X.shape(1);
  py::ssize_t m = n_rows;
  carray<int64_t> holder;
  const int64_t* picked = check_rows(rows, m, holder);
  const int n_levels = 1 << bits;
  carray<uint32_t> tables;
  const uint32_t* table = nullptr;
  if (!levels.is_none()) {
    tables = check_level_tables(levels, d, n_levels);
    table = tables.data();
  }
  py::array_t<double> mean(d), stored(d);
  double row_max = 0.0;
  {
    const float* x = X.data();
    const float* plo = lo.data();
    const float* pinv = inv.data();
    double* pm = mean.mutable_data();
    double* ps = stored.mutable_data();
    py::gil_scoped_release release;
    const float s = float(n_levels - 1), fine = float((n_levels - 1) << zipml::kFractionBits);
    const float inv_s = float(1.0 / s), inv_fine = float(1.0 / fine);
    std::fill(pm, pm + d, 0.0);
    std::fill(ps, ps + d, 0.0);
    std::vector<double> row(d);
    for (py::ssize_t i = 0; i < m; ++i) {
      const float* xi = x + (picked ? picked[i] : i) * d;
      for (py::ssize_t j = 0; j < d; ++j) {
        float a = (xi[j] - plo[j]) * pinv[j];
        a = a < 0.0f ? 0.0f : (a > 1.0f ? 1.0f : a);
        double at_fine;
        if (table) {
          table_variances(a, table + j * n_levels, n_levels - 1, row[j], at_fine);
        } else {
          row[j] = double(level_variance(a, s, inv_s));
          at_fine = double(level_variance(a, fine, inv_fine));
        }
        pm[j] += row[j];
        ps[j] += at_fine;
      }
      const double total = pairwise_sums<1>(0, d, [&](py::ssize_t first, py::ssize_t count, double(&out)[1][128]) {
        std::copy(row.data() + first, row.data() + first + count, out[0]);
      })[0];
      row_max = i == 0 ? total : std::max(row_max, total);
    }
    for (py::ssize_t j = 0; j < d; ++j) {
      pm[j] /= double(m);
      ps[j] /= double(m);
    }
  }
  return py::make_tuple(mean, row_max, stored);
}

// The pass loss's terms exactly as NumPy evaluates spec.losses (each product and sum
// rounded on its own: no fused multiply-add), so that loss_curve_ keeps its bits.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

/// log(1 + exp(t)) as np.logaddexp(0, t) computes it.
double softplus(double t) {
  if (t == 0.0) return 0.693147180559945309417232121458176568;  // log 2
  const double tmp = -t;
  if (tmp > 0) return std::log1p(std::exp(-tmp));
  if (tmp <= 0) return t + std::log1p(std::exp(tmp));
  return tmp;  // NaN
}

/// Samples [first, first + count) of a pass (sample i: label labels[rows[i]] or
/// labels[i], predictions p[i] of its first and second sample, all times `unit`):
/// spec.losses' pass_estimate into est and, for losses with a second sample, pass_noise
/// into noise (else 0); each times the weight u (and u^2) of the row where `weights` is given.
template <class T>
void pass_terms(zipml::LossId loss, const T* p, const T* labels, const int64_t* rows, const double* weights,
                double unit, py::ssize_t first, py::ssize_t count, double* est, double* noise) {
  for (py::ssize_t i = first; i < first + count; ++i) {
    const py::ssize_t r = rows ? rows[i] : i;
    const double y = double(labels[r]) * unit, f1 = double(p[2 * i]) * unit, f2 = double(p[2 * i + 1]) * unit;
    double u1 = 0.0, u2 = 0.0;
    switch (loss) {
      case zipml::LossId::SquaredError:
        u1 = f1 - y;
        u2 = f2 - y;
        break;
      case zipml::LossId::Hinge:
      case zipml::LossId::SquaredHinge: {
        const double t1 = 1.0 - y * f1, t2 = 1.0 - y * f2;
        u1 = 0.0 >= t1 ? 0.0 : t1;  // np.maximum(0, t): NaN stays NaN
        u2 = 0.0 >= t2 ? 0.0 : t2;
        break;
      }
      case zipml::LossId::Logistic:
        break;
    }
    double e, v = 0.0;
    if (loss == zipml::LossId::Hinge) {
      e = u1;
    } else if (loss == zipml::LossId::Logistic) {
      e = softplus(-y * f1);
    } else {
      e = 0.5 * u1 * u2;
      const double spread = 0.5 * ((u1 - u2) * (u1 - u2));
      v = 0.25 * (2.0 * u1 * u2 * spread + spread * spread);
    }
    if (weights) {
      const double w = weights[r];
      e *= w;
      v = v * w * w;
    }
    est[i - first] = e;
    noise[i - first] = v;
  }
}

#pragma GCC pop_options

/// The training loss of a pass from the predictions the kernel made (spec.losses'
/// pass_estimate and pass_noise): (mean estimate, its standard error).
template <class T>
py::tuple pass_loss_of(const py::array& predictions, const py::array& labels, zipml::LossId loss,
                       const py::object& rows, const py::object& weights, double unit) {
  const auto p = carray<T>::ensure(predictions);
  const auto y = carray<T>::ensure(labels);
  require(p.ndim() == 2 && p.shape(1) == 2 && p.shape(0) >= 1,
          "predictions must have shape (n, 2) with n >= 1, got " + shape_str(predictions));
  require(y.ndim() == 1 && y.shape(0) >= 1, "labels must be 1-D and not empty, got shape " + shape_str(labels));
  const py::ssize_t n = p.shape(0);
  py::ssize_t visited = y.shape(0);
  carray<int64_t> order;
  const int64_t* r = check_rows(rows, visited, order);
  require(visited == n, "predictions have " + std::to_string(n) + " samples, the pass visits " +
                            std::to_string(visited) + " rows");
  carray<double> u;
  if (!weights.is_none()) {
    u = carray<double>::ensure(weights);
    require(u && u.ndim() == 1 && u.shape(0) == y.shape(0),
            "weights must have one value per label (" + std::to_string(y.shape(0)) + ")");
  }
  const T* pp = p.data();
  const T* py_ = y.data();
  const double* pu = weights.is_none() ? nullptr : u.data();
  std::array<double, 2> sums;  // of the estimates and of the noise terms
  {
    py::gil_scoped_release release;
    sums = pairwise_sums<2>(0, n, [&](py::ssize_t first, py::ssize_t count, double(&out)[2][128]) {
      pass_terms(loss, pp, py_, r, pu, unit, first, count, out[0], out[1]);
    });
  }
  return py::make_tuple(sums[0] / double(n), std::sqrt(std::max(sums[1], 0.0)) / double(n));
}

py::tuple pass_loss(const py::array& predictions, const py::array& labels, int loss, const py::object& rows,
                    const py::object& weights) {
  require(loss >= 0 && loss <= 3, "loss must be a loss id in [0, 3], got " + std::to_string(loss));
  const auto id = static_cast<zipml::LossId>(loss);
  if (predictions.dtype().is(py::dtype::of<int32_t>()))
    return pass_loss_of<int32_t>(predictions, labels, id, rows, weights, 1.0 / double(1 << zipml::kLabelFrac));
  require(predictions.dtype().is(py::dtype::of<float>()),
          "predictions must be int32 (Q16, the quantized kernels') or float32 (the fp32 kernel's)");
  return pass_loss_of<float>(predictions, labels, id, rows, weights, 1.0);
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
  m.def("weighted_row_bound", &weighted_row_bound, py::arg("X"), py::arg("origin"), py::arg("weight"),
        py::arg("root"), R"pbdoc(
For each row s of origin, weight and root: (max over rows i of sum_j weight[s, j] *
|X[i, j] - origin[s, j]|, max over rows i of sum_j (root[s, j] * (X[i, j] - origin[s, j]))^2),
as row s of a (sets, 2) float64 array; one pass over X on every core.

X float32 (n, d); origin, weight, root float32 (sets, d), sets >= 1. In float32 (lane partial sums).
)pbdoc");
  m.def("epoch_order", &epoch_order, py::arg("seed"), py::arg("epoch"), py::arg("n"), R"pbdoc(
The rows of epoch ``epoch`` of an n-row data set in visiting order (int64, a permutation).

The order that sorts draw(stream_key(seed, STREAM_ORDER, epoch, 0), row) over the rows,
ties by row: the same permutation as the golden model's spec.rng.epoch_order.
)pbdoc");
  m.def("rounding_stats", &rounding_stats, py::arg("X"), py::arg("rows"), py::arg("lo"), py::arg("inv"),
        py::arg("bits"), py::arg("levels") = py::none(), R"pbdoc(
Rounding variances of rows of X at ``bits`` bits: (mean, row_max, stored).

X float32 (n, d), scaled as FeatureScaling does: float32 a = clip((x - lo) inv, 0, 1);
rows: int64 row indices to use (None: every row). Per value the variance
(L_k+1 - a)(a - L_k) of stochastic rounding to levels k / s (s = 2^bits - 1), in float32;
mean, stored: float64 (d,) per-feature means of it at the levels and at double data's
fine grid (s 2^FRACTION_BITS); row_max: the largest float64 sum over a row at the levels.
Sums in NumPy's order: the same bits as NumPy's float32 expressions with .mean(axis=0,
dtype=float64) and .sum(axis=1, dtype=float64).max(). levels: per-feature level tables,
uint32 (d, 2^bits) Q0.24 positions strictly increasing from 0 to 2^24 (None: uniform
levels); each value's variances are then those between its table's levels and on the fine
grid that cuts each of their intervals into 2^FRACTION_BITS, as the quantizer does, in
float64 (levels L_k = table_k / 2^24).
)pbdoc");
  m.def("pass_loss", &pass_loss, py::arg("predictions"), py::arg("labels"), py::arg("loss"),
        py::arg("rows") = py::none(), py::arg("weights") = py::none(), R"pbdoc(
The training loss of a kernel pass from its predictions: (mean, standard error).

predictions: (n, 2), the kernel's predictions from each sample's first and second
sample (int32 Q16, or float32 from the fp32 kernel); labels: the kernel's labels (int32
Q16, or float32) in X's order; loss: a loss id (spec.losses); rows: the n rows the pass
visited (None: every row in order); weights: float64 sample weights in X's order, or
None. mean: the mean over the pass of spec.losses' pass_estimate (times each row's
weight); standard error: sqrt(max(sum of pass_noise (times the weight squared), 0)) / n.
In float64 with NumPy's summation order: the same bits as those NumPy expressions.
)pbdoc");
}

}  // namespace zipml_py
