// C-simulation from Python: the synthesis tops of hls/kernels/zipml_tops.cpp, compiled
// into this module as they are (the same translation unit Vitis reads) and called by
// name, so pytest checks the functions Vitis would synthesize, not only the templates.
#include <cstring>
#include <string>
#include <vector>

#include "../../hls/kernels/zipml_tops.hpp"
#include "checks.hpp"

namespace zipml_py {
namespace {

const zipml_tops::QuantizedTopEntry& find_top(const std::string& name) {
  for (const auto& top : zipml_tops::kQuantizedTops)
    if (name == top.name) return top;
  std::string names;
  for (const auto& top : zipml_tops::kQuantizedTops) names += (names.empty() ? "" : ", ") + std::string(top.name);
  throw py::value_error("no quantized top named '" + name + "'; the tops are " + names);
}

// The tops hold at most kMaxFeatures weights on chip: a larger d would overrun them.
void check_top_features(py::ssize_t d) {
  require(d >= 1 && d <= zipml_tops::kMaxFeatures, "d must be in [1, " + std::to_string(zipml_tops::kMaxFeatures) +
                                                       "] (the synthesized model size), got " + std::to_string(d));
}

// The tops read whole lines: a uint64 buffer is a zipml::Line array (eight words each).
const zipml::Line* as_lines(const uint64_t* words) { return reinterpret_cast<const zipml::Line*>(words); }

py::list tops() {
  py::list out;
  for (const auto& top : zipml_tops::kQuantizedTops)
    out.append(py::dict(py::arg("name") = top.name, py::arg("bits") = top.bits,
                        py::arg("sampling") = zipml::sampling_name(top.sampling)));
  return out;
}

py::array_t<int32_t> run_top(const std::string& name, carray<uint64_t> data, carray<int32_t> labels,
                             carray<int32_t> model_in, int d, int epochs, int step_shift, int decay_epochs,
                             uint32_t seed) {
  const auto& top = find_top(name);
  check_top_features(d);
  check_sgd_inputs(data, labels, model_in, d, epochs, step_shift, decay_epochs, 1);
  check_row_words(data, d, top.bits, top.sampling);
  py::array_t<int32_t> history({py::ssize_t(epochs), py::ssize_t(d) + 1});
  const int n_copies = int(data.shape(0)), n = int(data.shape(1));
  const zipml::Line* pd = as_lines(data.data());
  const int32_t* pl = labels.data();
  const int32_t* pm = model_in.data();
  int32_t* ph = history.mutable_data();
  py::gil_scoped_release release;
  top.fn(pd, pl, pm, ph, n, d, n_copies, epochs, step_shift, decay_epochs, seed);
  return history;
}

py::array_t<int32_t> run_fixed32_top(carray<uint32_t> positions, carray<int32_t> labels, carray<int32_t> model_in,
                                     int epochs, int step_shift, int decay_epochs) {
  require(positions.ndim() == 2, "positions must be 2-D, got shape " + shape_str(positions));
  const py::ssize_t n = positions.shape(0), d = positions.shape(1);
  require(n >= 1 && n <= INT32_MAX, "n_samples must be in [1, 2^31), got " + std::to_string(n));
  check_top_features(d);
  check_schedule(epochs, step_shift, decay_epochs);
  require_shape1(labels, n, "labels");
  require_shape1(model_in, d + 1, "model_in");
  const uint32_t* p = positions.data();
  for (py::ssize_t i = 0; i < n * d; ++i)  // (the message only on failure)
    if (p[i] > zipml::kPosOne) fail("positions must be Q0.24 values in [0, 2^24], got " + std::to_string(p[i]));
  // Rows laid out as the top reads them: sixteen positions per line, zeros after d.
  constexpr int K = zipml::kFixed32Lanes;
  const py::ssize_t n_lines = (d + K - 1) / K;
  std::vector<zipml::Line> lines(static_cast<size_t>(n * n_lines), zipml::Line{});
  for (py::ssize_t i = 0; i < n; ++i)
    for (py::ssize_t j = 0; j < d; ++j)
      lines[i * n_lines + j / K].word[(j % K) / 2] |= uint64_t{p[i * d + j]} << (32 * (j % 2));
  py::array_t<int32_t> history({py::ssize_t(epochs), d + 1});
  const int32_t* pl = labels.data();
  const int32_t* pm = model_in.data();
  int32_t* ph = history.mutable_data();
  py::gil_scoped_release release;
  zipml_sgd_fixed32(lines.data(), pl, pm, ph, int(n), int(d), epochs, step_shift, decay_epochs);
  return history;
}

}  // namespace

void bind_tops(py::module_& m) {
  m.def("tops", &tops, R"pbdoc(
The quantized synthesis tops of hls/kernels/zipml_tops.cpp: a list of dicts with their
name, bits and sampling (plain least squares on uniform levels).
)pbdoc");
  m.def("run_top", &run_top, py::arg("name"), py::arg("data"), py::arg("labels"), py::arg("model_in"), py::arg("d"),
        py::arg("epochs"), py::arg("step_shift"), py::arg("decay_epochs"), py::arg("seed") = 0u, R"pbdoc(
Call the quantized top `name` as a host would (C simulation): data uint64 (copies, n,
words) in the top's format, labels int32 Q16 (n,), model_in int32 Q24 (d + 1,), d at most
the synthesized model size; seed: the kernel's draws of Double data's samples (uint32).
The top's dot_mult is round(2^24 / (2^bits - 1)), built in. Returns the model history
int32 (epochs, d + 1).
)pbdoc");
  m.def("run_fixed32_top", &run_fixed32_top, py::arg("positions"), py::arg("labels"), py::arg("model_in"),
        py::arg("epochs"), py::arg("step_shift"), py::arg("decay_epochs"), R"pbdoc(
Call the 32-bit fixed-point baseline top zipml_sgd_fixed32 (C simulation) on Q0.24
positions (n, d) uint32 in [0, 2^24], laid out here sixteen per 512-bit line as its
interface expects; labels int32 Q16 (n,), model_in int32 Q24 (d + 1,). Returns the model
history int32 (epochs, d + 1).
)pbdoc");
}

}  // namespace zipml_py
