// Shared input checks of the bindings: every size and limit is checked here before a
// kernel runs, and a bad value raises ValueError naming the parameter, the value and
// what is allowed. The kernels themselves never see unchecked input.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "zipml/format.hpp"

namespace zipml_py {

namespace py = pybind11;

constexpr int kMaxFeatures = 65536;  // on-chip model size of the CPU build

/// A C-contiguous array of T; other dtypes and layouts are converted on the way in.
template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

inline void require(bool ok, const std::string& what) {
  if (!ok) throw py::value_error(what);
}

/// ValueError(what): for checks inside loops, which build their message only on failure.
[[noreturn]] inline void fail(const std::string& what) { throw py::value_error(what); }

inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

inline void require_shape1(const py::array& a, py::ssize_t n, const char* name) {
  require(a.ndim() == 1 && a.shape(0) == n,
          std::string(name) + " must have shape (" + std::to_string(n) + ",), got " + shape_str(a));
}

/// X: 2-D with 1 to 2^31 - 1 rows and columns, and per-feature lo and inv of its width.
inline void check_matrix(const py::array& X, const py::array& lo, const py::array& inv) {
  require(X.ndim() == 2, "X must be 2-D, got shape " + shape_str(X));
  require(X.shape(0) >= 1 && X.shape(0) <= INT32_MAX,
          "n_samples must be in [1, 2^31), got " + std::to_string(X.shape(0)));
  require(X.shape(1) >= 1 && X.shape(1) <= INT32_MAX,
          "n_features must be in [1, 2^31), got " + std::to_string(X.shape(1)));
  require_shape1(lo, X.shape(1), "lo");
  require_shape1(inv, X.shape(1), "inv");
}

/// Per-feature level tables: (d, levels) uint32 Q0.24 positions, each strictly increasing
/// from 0 to 2^24 (optimal levels). Returns the checked C array.
inline carray<uint32_t> check_level_tables(const py::object& levels, py::ssize_t d, int count) {
  auto lev = carray<uint32_t>::ensure(levels);
  require(lev && lev.ndim() == 2 && lev.shape(0) == d && lev.shape(1) == count,
          "levels must have shape (" + std::to_string(d) + ", " + std::to_string(count) + ")");
  const uint32_t* t = lev.data();
  for (py::ssize_t j = 0; j < d; ++j, t += count) {
    if (t[0] != 0 || t[count - 1] != zipml::kPosOne)
      fail("levels of feature " + std::to_string(j) + " must start at 0 and end at 2^24");
    for (int k = 1; k < count; ++k)
      if (t[k] <= t[k - 1]) fail("levels of feature " + std::to_string(j) + " must be strictly increasing");
  }
  return lev;
}

inline void check_features(py::ssize_t d) {
  require(d >= 1 && d <= kMaxFeatures, "n_features must be in [1, " + std::to_string(kMaxFeatures) +
                                           "] (the kernel's compile-time maximum), got " + std::to_string(d));
}

inline void check_schedule(int epochs, int step_shift, int decay_epochs) {
  require(epochs >= 1, "epochs must be >= 1, got " + std::to_string(epochs));
  require(step_shift >= 1 && step_shift <= zipml::kMaxShift,
          "step_shift must be in [1, " + std::to_string(zipml::kMaxShift) + "], got " + std::to_string(step_shift));
  require(decay_epochs >= 0, "decay_epochs must be >= 0, got " + std::to_string(decay_epochs));
}

/// Sizes shared by the quantized SGD entry points: data (copies, samples, words), one
/// label per sample, d + 1 initial model values, the schedule and dot_mult.
inline void check_sgd_inputs(const py::array& data, const py::array& labels, const py::array& model_in, int d,
                             int epochs, int step_shift, int decay_epochs, int32_t dot_mult, py::ssize_t samples = -1) {
  check_features(d);
  check_schedule(epochs, step_shift, decay_epochs);
  require(data.ndim() == 3, "data must be 3-D (copies, samples, words), got " + shape_str(data));
  require(data.shape(0) >= 1 && data.shape(1) >= 1 && data.shape(1) <= INT32_MAX,
          "data must hold at least one copy and one sample");
  require_shape1(labels, samples < 0 ? data.shape(1) : samples, "labels");
  require_shape1(model_in, d + 1, "model_in");
  require(dot_mult > 0, "dot_mult must be positive, got " + std::to_string(dot_mult));
}

/// The packed rows of `data` have the words of d values in format (bits, e, m).
inline void check_row_words(const py::array& data, int d, int bits, zipml::Sampling e, int m = 2) {
  const py::ssize_t words = py::ssize_t(zipml::lines_per_row(d, bits, e, m)) * zipml::kLineWords;
  require(data.shape(2) == words, "data rows must have " + std::to_string(words) + " words for d=" +
                                      std::to_string(d) + ", got " + std::to_string(data.shape(2)));
}

/// "double, naive, nearest": the names of a list of samplings (kSamplings or a kernel's),
/// for docstrings.
template <std::size_t N>
std::string sampling_list(const zipml::Sampling (&list)[N], const char* last_sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < N; ++i)
    s += (i == 0 ? "" : (i + 1 == N ? last_sep : ", ")) + std::string(zipml::sampling_name(list[i]));
  return s;
}

/// `doc` with every "{key}" replaced by its value: docstrings that name the samplings or
/// losses of a list take them from the list.
inline std::string fill(std::string doc, std::initializer_list<std::pair<const char*, std::string>> values) {
  for (const auto& [key, value] : values) {
    const std::string field = std::string("{") + key + "}";
    for (std::size_t at = doc.find(field); at != std::string::npos; at = doc.find(field, at + value.size()))
      doc.replace(at, field.size(), value);
  }
  return doc;
}

/// Row indices `rows` (None, or a 1-D array of rows of an n-row X, each in [0, n)), kept
/// alive in `holder`: returns the pointer for the kernels (nullptr for None) and sets n to
/// the number of rows they visit.
inline const int64_t* check_rows(const py::object& rows, py::ssize_t& n, carray<int64_t>& holder) {
  if (rows.is_none()) return nullptr;
  holder = carray<int64_t>::ensure(rows);
  require(holder && holder.ndim() == 1 && holder.shape(0) >= 1 && holder.shape(0) <= INT32_MAX,
          "rows must be a 1-D array of 1 to 2^31 - 1 row indices");
  const int64_t* p = holder.data();
  for (py::ssize_t i = 0; i < holder.shape(0); ++i)
    if (p[i] < 0 || p[i] >= n)  // (the message only on failure: building it per row cost 5 ms per 65536 rows)
      fail("rows[" + std::to_string(i) + "] = " + std::to_string(p[i]) + " is not a row of X (0 to " +
           std::to_string(n - 1) + ")");
  n = holder.shape(0);
  return p;
}

void bind_quantize(py::module_& m);
void bind_sgd(py::module_& m);
void bind_levels(py::module_& m);
void bind_diagnostics(py::module_& m);
void bind_tops(py::module_& m);
void bind_host(py::module_& m);

}  // namespace zipml_py
