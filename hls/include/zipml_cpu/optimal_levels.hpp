// Variance-optimal quantization levels (host-side algorithm of the module, not a kernel;
// bound as levels_dp and grid_level_columns).
//
// Problem: values x_0 < ... < x_{N-1} with counts c_i; choose s+1 levels, the first at
// x_0 and the last at x_{N-1}, minimising the total variance of stochastic rounding
//   sum_i c_i (L_{j+1} - x_i)(x_i - L_j),   x_i in [L_j, L_{j+1}].
// Between two data points the objective is linear in any one level, so an optimum has
// every level at a data point (or, for the grid method, at a grid point). With prefix
// sums of counts, sums and squares, the cost of an interval [x_a, x_b] is O(1):
//   cost(a, b) = -S2 + (x_a + x_b) S1 - x_a x_b S0     (sums over points a..b).
// f_k(b) = min_{a<b} f_{k-1}(a) + cost(a, b) is solved for k = 1..s.
//
// Speed-up: cost is Monge, cost(a,d) + cost(b,c) >= cost(a,c) + cost(b,d) for
// a <= b <= c <= d (per point the difference is (d-c)(b-a), (u-a)(d-c) or (d-u)(b-a),
// all >= 0), so the smallest minimising a, opt_k(b), is non-decreasing in b and in k:
// opt_{k-1}(b) <= opt_k(b) <= opt_k(b+1). A layer is solved either by divide and conquer
// on b (O(N log N) whatever k) or, where intervals are short (large k), by Knuth's
// window [opt_{k-1}(b), opt_k(b+1)] for b descending (about 2 costs per b once the
// windows are a few points wide, but up to N^2 / (2k^2) for small k), whichever
// costs less. The plain O(s N^2) layer is kept as the oracle the tests compare against.
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace zipml_host {

using real = long double;  // prefix sums of squares cancel; keep 64 mantissa bits

/// Interval costs from prefix sums over "cells" (points, or grid cells with their values).
/// Positions and sums are taken about the smallest value, so that an offset of the data does
/// not enter the sums' cancellation.
struct IntervalCost {
  std::vector<real> pos;         // position of each candidate level, less the smallest value
  std::vector<real> s0, s1, s2;  // prefix sums over cells; cell range of [a, b] is [lo(a), hi(b))
  bool grid;                     // grid: cells a..b-1 lie in [pos_a, pos_b]; points: cells a..b
  std::vector<real> at;          // each candidate's level itself (a data point exactly)

  real operator()(int a, int b) const {
    const int from = a, to = grid ? b : b + 1;
    const real S0 = s0[to] - s0[from], S1 = s1[to] - s1[from], S2 = s2[to] - s2[from];
    const real c = -S2 + (pos[a] + pos[b]) * S1 - pos[a] * pos[b] * S0;
    return c > 0 ? c : 0;  // rounding can leave a tiny negative
  }
  int size() const { return static_cast<int>(pos.size()); }
};

inline IntervalCost point_cost(const double* x, const double* counts, int n) {
  IntervalCost c{std::vector<real>(n), std::vector<real>(n + 1, 0), std::vector<real>(n + 1, 0),
                 std::vector<real>(n + 1, 0), false, std::vector<real>(x, x + n)};
  for (int i = 0; i < n; ++i) {
    const real v = static_cast<real>(x[i]) - x[0], w = counts[i];
    c.pos[i] = v;
    c.s0[i + 1] = c.s0[i] + w;
    c.s1[i + 1] = c.s1[i] + w * v;
    c.s2[i + 1] = c.s2[i] + w * v * v;
  }
  return c;
}

/// Grid of m points (m >= s + 1) evenly spaced over [lo, hi]; each value is put in the cell
/// below it. The candidates are the grid points that can hold an optimal level (below).
/// T: double values with their counts, or uint32_t Q0.24 positions, each counted once
/// (counts unused).
template <class T>
inline IntervalCost grid_cost(const T* x, const double* counts, int n, double lo, double hi, int m, int s) {
  IntervalCost c{std::vector<real>(m), std::vector<real>(m, 0), std::vector<real>(m, 0), std::vector<real>(m, 0),
                 true, std::vector<real>(m)};
  const real span = static_cast<real>(hi) - lo, step = span / (m - 1);
  for (int j = 0; j < m; ++j) {
    c.pos[j] = j == m - 1 ? span : step * j;
    c.at[j] = j == m - 1 ? static_cast<real>(hi) : lo + step * j;
  }
  std::vector<real> b0(m - 1, 0), b1(m - 1, 0), b2(m - 1, 0);
  // The cell in double (a division in long double and floorl took half of the binning): a
  // value that rounding puts in the cell beside its own lies within ~1e-13 of a step of
  // their shared grid point, where its variance is ~0 with either cell's levels.
  const double per_step = hi > lo ? (m - 1) / (hi - lo) : 0.0;
  auto cell_of = [&](double v) {
    const double at = (v - lo) * per_step;  // >= 0: lo is the minimum
    return at < m - 2 ? static_cast<int>(at) : m - 2;
  };
  if constexpr (std::is_same_v<T, uint32_t>) {
    // positions, each counted once: exact integer sums (the long double ones are exact too
    // up to 2^64, but take three x87 additions a value)
    const uint32_t first = static_cast<uint32_t>(lo);  // (lo is the smallest position)
    std::vector<uint64_t> i0(m - 1, 0), i1(m - 1, 0);
    std::vector<unsigned __int128> i2(m - 1, 0);
    for (int i = 0; i < n; ++i) {
      const uint64_t v = x[i] - first;
      const int cell = cell_of(double(x[i]));
      i0[cell] += 1, i1[cell] += v, i2[cell] += v * v;
    }
    for (int j = 0; j < m - 1; ++j) b0[j] = real(i0[j]), b1[j] = real(i1[j]), b2[j] = real(i2[j]);
  } else {
    for (int i = 0; i < n; ++i) {
      const real v = static_cast<real>(x[i]) - lo, w = counts[i];
      const int cell = cell_of(x[i]);
      b0[cell] += w;
      b1[cell] += w * v;
      b2[cell] += w * v * v;
    }
  }
  for (int j = 0; j < m - 1; ++j) {
    c.s0[j + 1] = c.s0[j] + b0[j];
    c.s1[j + 1] = c.s1[j] + b1[j];
    c.s2[j + 1] = c.s2[j] + b2[j];
  }
  // Only the ends of occupied cells are candidates: a level inside a run of empty cells
  // enters the objective linearly, so it can move to the run's end at no loss (and a level
  // that meets another there frees a candidate for elsewhere). Few distinct values (one-hot,
  // counts, small samples) then solve over a handful of points instead of all m.
  std::vector<int> kept{0};
  for (int j = 0; j < m - 1; ++j) {
    if (b0[j] == 0) continue;
    if (kept.back() != j) kept.push_back(j);
    kept.push_back(j + 1);
  }
  if (kept.back() != m - 1) kept.push_back(m - 1);
  // Fewer than s + 1: empty points split the widest gaps (the variance is 0 already), so the
  // solver still returns s + 1 distinct grid points.
  while (static_cast<int>(kept.size()) < s + 1) {
    size_t widest = 0;
    for (size_t i = 1; i + 1 < kept.size(); ++i)
      if (kept[i + 1] - kept[i] > kept[widest + 1] - kept[widest]) widest = i;
    kept.insert(kept.begin() + widest + 1, (kept[widest] + kept[widest + 1]) / 2);
  }
  if (static_cast<int>(kept.size()) == m) return c;
  IntervalCost out{{}, {}, {}, {}, true, {}};
  for (const int j : kept) {
    out.pos.push_back(c.pos[j]);
    out.at.push_back(c.at[j]);
    out.s0.push_back(c.s0[j]);
    out.s1.push_back(c.s1[j]);
    out.s2.push_back(c.s2[j]);
  }
  return out;
}

/// f_{k-1}(a) + cost(a, b) in a form linear in each end, so that a layer costs two
/// multiply-adds per pair:  C(a) + p_a B(b) + A(a) p_b + E(b), with C(a) = f_{k-1}(a) + D(a).
/// Positions are in units of the candidates' span (costs in span^2), so that double holds
/// data of any magnitude (1e-170 or 1e170 would underflow or overflow its squares).
template <class T>
struct LinearCost {
  std::vector<T> p, A, B, D, E;
  explicit LinearCost(const IntervalCost& c) {
    const int n = c.size();
    p.resize(n), A.resize(n), B.resize(n), D.resize(n), E.resize(n);
    const real span = c.pos[n - 1] > 0 ? c.pos[n - 1] : 1;
    auto moments = [&](int cell) {  // S0, S1, S2 up to cell, in the span's units
      return std::array<real, 3>{c.s0[cell], c.s1[cell] / span, c.s2[cell] / (span * span)};
    };
    for (int j = 0; j < n; ++j) {
      const real q = c.pos[j] / span;
      const auto lo = moments(j), hi = moments(c.grid ? j : j + 1);  // as the a end, as the b end
      p[j] = T(q);
      D[j] = T(lo[2] - q * lo[1]);
      A[j] = T(q * lo[0] - lo[1]);
      B[j] = T(hi[1] - q * hi[0]);
      E[j] = T(q * hi[1] - hi[2]);
    }
  }
};

/// Minimise over s intervals with the first level at candidate 0 and the last at
/// candidate N-1 (N >= s + 1). Returns the chosen candidate indices (s + 1 of them).
/// monotone=false: the plain O(s N^2) program in long double (the oracle); true: the
/// layers by divide and conquer or Knuth's window in T: long double for the exact program
/// on data points; double for grid points, whose costs then carry double's rounding of the
/// prefix sums, about 1e-16 N M^2 grid steps squared for N values on M points (under a
/// hundredth of one value's largest rounding variance in a cell, a quarter step squared,
/// up to N = 1e7 at M = 1025).
template <class T = real>
inline std::vector<int> solve(const IntervalCost& cost, int s, bool monotone) {
  const int n = cost.size();
  std::vector<int> idx(s + 1);
  if (n == s + 1) {  // one choice: every candidate
    for (int k = 0; k <= s; ++k) idx[k] = k;
    return idx;
  }
  std::vector<int> args(size_t(s + 1) * n, 0);  // layer k's argmins at k n (one allocation)
  auto arg = [&](int k) { return args.data() + size_t(k) * n; };
  if (!monotone) {
    const real inf = std::numeric_limits<real>::infinity();
    std::vector<real> prev(n, inf), next(n, inf);
    for (int b = 1; b < n; ++b) prev[b] = cost(0, b);
    for (int k = 2; k <= s; ++k) {
      std::fill(next.begin(), next.end(), inf);
      for (int b = k; b < n; ++b) {
        int best = k - 1;
        real value = inf;
        for (int a = k - 1; a < b; ++a) {
          const real v = prev[a] + cost(a, b);
          if (v < value) value = v, best = a;
        }
        next[b] = value, arg(k)[b] = best;
      }
      std::swap(prev, next);
    }
  } else {
    const LinearCost<T> lin(cost);
    const T inf = std::numeric_limits<T>::infinity();
    std::vector<T> f(n, inf), C(n, inf);
    // Layer k's last interval ends at b <= n - 1 - (s - k) (s - k levels follow it); one
    // more b is kept for the next layer's lower bound.
    auto top = [&](int k) { return std::min(n - 1, n - (s - k)); };
    for (int b = 1; b <= top(1); ++b) f[b] = lin.D[0] + lin.p[0] * lin.B[b] + lin.A[0] * lin.p[b] + lin.E[b];
    const double log_n = std::log2(double(n));
    for (int k = 2; k <= s; ++k) {
      for (int a = k - 1; a <= top(k - 1); ++a) C[a] = f[a] + lin.D[a];
      const int hi = top(k);
      int* const cur = arg(k);
      const int* const last = arg(k - 1);
      const int reach = top(k - 1);  // opt_{k-1} is non-decreasing: past its reach, its last value bounds it
      auto lower = [&](int b) { return std::max(k - 1, last[std::min(b, reach)]); };
      auto pair = [&](int a, int b) { return C[a] + lin.p[a] * lin.B[b] + lin.A[a] * lin.p[b]; };  // less E(b)
      auto best_for = [&](int b, int from, int to) {  // smallest argmin over a in [from, to]
        int best = std::min(from, to);  // (rounding could leave the bounds crossed)
        T value = inf;
        for (int a = best; a <= to; ++a) {
          const T v = pair(a, b);
          const bool less = v < value;  // branch-free: the windows are a few points wide
          best = less ? a : best, value = less ? v : value;
        }
        f[b] = value + lin.E[b];
        cur[b] = best;
        return best;
      };
      if (2.0 * k * k * log_n >= n) {  // Knuth's window
        for (int b = hi, upper = hi - 1; b >= k; --b) {
          const int from = lower(b), to = std::min(upper, b - 1);
          if (from + 3 < n) {
            // The window's end waits on b + 1's answer, its start does not: the running
            // argmins of its first four points are found before the end is known (nearly
            // every window is that short), which takes the costs off that chain. Points
            // past b - 1 are evaluated but never chosen (the end is at most b - 1).
            int run[4] = {from, 0, 0, 0};
            T low[4] = {pair(from, b), 0, 0, 0};
            for (int i = 1; i < 4; ++i) {
              const int a = from + i;
              const T v = pair(a, b);
              const bool less = v < low[i - 1];
              run[i] = less ? a : run[i - 1], low[i] = less ? v : low[i - 1];
            }
            if (to >= from && to - from < 4) {
              f[b] = low[to - from] + lin.E[b];
              upper = cur[b] = run[to - from];
              continue;
            }
          }
          upper = best_for(b, from, to);
        }
      } else {  // divide and conquer on b, the window also bounded below by the last layer
        struct Task { int lo, hi, optlo, opthi; };
        std::vector<Task> stack{{k, hi, k - 1, hi - 1}};
        while (!stack.empty()) {
          const Task t = stack.back();
          stack.pop_back();
          if (t.lo > t.hi) continue;
          const int mid = (t.lo + t.hi) / 2;
          const int best = best_for(mid, std::max(t.optlo, lower(mid)), std::min(mid - 1, t.opthi));
          stack.push_back({t.lo, mid - 1, t.optlo, best});
          stack.push_back({mid + 1, t.hi, best, t.opthi});
        }
      }
    }
  }
  idx[s] = n - 1;
  for (int k = s; k >= 2; --k) idx[k - 1] = arg(k)[idx[k]];
  idx[0] = 0;
  return idx;
}

}  // namespace zipml_host
