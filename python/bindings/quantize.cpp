// Bindings of the quantizer (hls/include/zipml/quantize.hpp): scaled positions and
// packed quantized copies, on the CPU fast path (quantize_fast.hpp: AVX-512 or AVX2) where
// it covers the call.
#include <algorithm>
#include <string>

#include "checks.hpp"
#include "parallel.hpp"
#include "zipml/quantize.hpp"
#include "zipml_cpu/dispatch.hpp"
#include "zipml_cpu/quantize_fast.hpp"

namespace zipml_py {
namespace {

using zipml::Sampling;

py::array_t<uint64_t> quantize(carray<float> X, carray<float> lo, carray<float> inv, py::object levels, int bits,
                               int sampling, uint32_t seed, int n_copies, int samples, bool portable,
                               py::object rows) {
  check_matrix(X, lo, inv);
  py::ssize_t n = X.shape(0);
  const py::ssize_t d = X.shape(1);
  require(n_copies >= 1, "n_copies must be >= 1, got " + std::to_string(n_copies));
  carray<int64_t> order;
  const int64_t* porder = check_rows(rows, n, order);
  py::array_t<uint64_t> out;
  zipml::dispatch_quantize(bits, sampling, samples, [&](auto b, auto e, auto m) {
    constexpr int B = decltype(b)::value;
    constexpr Sampling E = decltype(e)::value;
    constexpr int M = decltype(m)::value;
    const uint32_t* table = nullptr;
    carray<uint32_t> lev;
    if (!levels.is_none()) {
      lev = check_level_tables(levels, d, 1 << B);
      table = lev.data();
    }
    const py::ssize_t row_words = py::ssize_t(zipml::lines_per_row(int(d), B, E, M)) * zipml::kLineWords;
    out = py::array_t<uint64_t>({py::ssize_t(n_copies), n, row_words});
    const float* x = X.data();
    const float* plo = lo.data();
    const float* pinv = inv.data();
    uint64_t* po = out.mutable_data();
    py::gil_scoped_release release;
    // Rows split among the cores: each row's draws depend on its index only, so any split
    // gives the same bits.
    auto part = [&](int begin, int end) {
      if (portable || !zipml::fast_quantize_matrix<B, E, M>(x, int(n), int(d), plo, pinv, table, seed, n_copies, po,
                                                            porder, begin, end))
        zipml::quantize_matrix<B, E, M>(x, int(n), int(d), plo, pinv, table, seed, n_copies, po, porder, begin, end);
    };
    const int parts = int(std::clamp<py::ssize_t>(n / 4096, 1, available_threads()));
    for_each_part(parts, parts, [&](int t) { part(int(n * t / parts), int(n * (t + 1) / parts)); });
  });
  return out;
}

py::array_t<uint32_t> positions(carray<float> X, carray<float> lo, carray<float> inv) {
  check_matrix(X, lo, inv);
  const py::ssize_t n = X.shape(0), d = X.shape(1);
  py::array_t<uint32_t> out({n, d});
  const float* x = X.data();
  const float* plo = lo.data();
  const float* pinv = inv.data();
  uint32_t* po = out.mutable_data();
  py::gil_scoped_release release;
  for (py::ssize_t i = 0; i < n; ++i)
    for (py::ssize_t j = 0; j < d; ++j) po[i * d + j] = zipml::scaled_position(x[i * d + j], plo[j], pinv[j]);
  return out;
}

}  // namespace

void bind_quantize(py::module_& m) {
  const std::string quantize_doc = fill(R"pbdoc(
Quantize the rows of X into n_copies independent packed copies (quantize_matrix).

Each value becomes its Q0.24 position p = clamp((x - lo) * inv, 0, 1) * 2^24, is rounded
to one of the 2^bits levels of its feature (stochastically, or to the nearest level; double:
once, stochastically, to the grid 4x finer, stored as index + 2 fraction bits from which the
SGD kernel draws its samples) with the counter-based draws of (seed, sample, copy, row), and
is packed into 512-bit lines.

Parameters: X float32 (n, d); lo, inv float32 (d,): per-feature minimum and 1/(max - min)
(0 for a constant feature); levels None (uniform levels) or uint32 (d, 2^bits): strictly
increasing Q0.24 level positions from 0 to 2^24; bits one of constants()['supported_bits'];
sampling a Sampling value ({samplings}); seed uint32; n_copies >= 1;
samples: samples per value of multi, one of constants()['multi_samples'] (ignored
otherwise); portable: skip the CPU fast path (AVX-512 or AVX2, info()['fast_quantize']; same bits); rows: None, or int64 row
indices of X: output row i quantizes X[rows[i]] with the draws of output row i (an epoch's
row order without a reordered copy of X).

Returns uint64 (n_copies, n, words): n = len(rows) or X's rows, words = lines per row * 8.
)pbdoc",
                                        {{"samplings", sampling_list(zipml::kSamplings)}});
  m.def("quantize", &quantize, py::arg("X"), py::arg("lo"), py::arg("inv"), py::arg("levels"), py::arg("bits"),
        py::arg("sampling"), py::arg("seed"), py::arg("n_copies"), py::arg("samples") = 2,
        py::arg("portable") = false, py::arg("rows") = py::none(), quantize_doc.c_str());
  m.def("positions", &positions, py::arg("X"), py::arg("lo"), py::arg("inv"), R"pbdoc(
Q0.24 positions of the values of X after per-feature min/max scaling (scaled_position).

p = clamp((x - lo) * inv, 0, 1) * 2^24 in float32, truncated to an integer; X float32 (n, d),
lo and inv float32 (d,). Returns uint32 (n, d).
)pbdoc");
}

}  // namespace zipml_py
