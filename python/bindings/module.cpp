// pybind11 glue: exposes hls/include/zipml as zipml_hls._kernels. This file holds the
// module, the enums and the constants of the specification; the bindings live in one
// file per group (quantize, sgd, levels, diagnostics), their checks in checks.hpp, and
// the runtime -> compile-time dispatch in hls/include/zipml_cpu/dispatch.hpp.
#include <string>

#include "checks.hpp"
#include "zipml/format.hpp"
#include "zipml/losses.hpp"
#include "zipml/rng.hpp"
#include "zipml_cpu/dispatch.hpp"

namespace zipml_py {
namespace {

using zipml::Sampling;

py::dict constants() {
  py::dict c;
  c["line_bits"] = zipml::kLineBits;
  c["line_words"] = zipml::kLineWords;
  c["lane_multiple"] = zipml::kLaneMultiple;
  c["pos_frac"] = zipml::kPosFrac;
  c["label_frac"] = zipml::kLabelFrac;
  c["model_frac"] = zipml::kModelFrac;
  c["dot_drop"] = zipml::kDotDrop;
  c["dot_mult_frac"] = zipml::kDotMultFrac;
  c["update_frac"] = zipml::kUpdateFrac;
  c["max_shift"] = zipml::kMaxShift;
  c["level_value_frac"] = zipml::kLevelValueFrac;
  c["table_dot_mult"] = zipml::kTableDotMult;
  c["poly_frac"] = zipml::kPolyFrac;
  py::list bits, samples;
  for (int b : zipml::kSupportedBits) bits.append(b);
  for (int m : zipml::kMultiSamples) samples.append(m);
  c["supported_bits"] = py::tuple(bits);
  c["multi_samples"] = py::tuple(samples);
  c["stream_data"] = zipml::kStreamData;
  c["stream_model"] = zipml::kStreamModel;
  c["stream_grad"] = zipml::kStreamGrad;
  c["mix_mul1"] = zipml::kMixMul1;
  c["mix_mul2"] = zipml::kMixMul2;
  c["index_mul"] = zipml::kIndexMul;
  c["key_seed_xor"] = zipml::kKeySeedXor;
  c["max_features"] = kMaxFeatures;
  py::dict vpl;
  for (int b : zipml::kSupportedBits) {
    for (Sampling e : {Sampling::Double, Sampling::Naive, Sampling::Nearest})
      vpl[py::str(std::string(zipml::sampling_name(e)) + "/" + std::to_string(b))] = zipml::values_per_line(b, e);
    for (int m : zipml::kMultiSamples)
      vpl[py::str("multi" + std::to_string(m) + "/" + std::to_string(b))] =
          zipml::values_per_line(b, Sampling::Multi, m);
  }
  c["values_per_line"] = vpl;
  return c;
}

}  // namespace
}  // namespace zipml_py

PYBIND11_MODULE(_kernels, m) {
  namespace py = pybind11;
  namespace zp = zipml_py;
  m.doc() = R"pbdoc(
zipml-hls kernels (hls/include/zipml) compiled for this CPU.

quantize / positions: stochastic quantization into packed 512-bit lines; sgd_linear,
sgd_logistic, sgd_fp32: the SGD kernels; levels_dp, grid_level_columns: variance-optimal
levels; draws, stream_read, info: checks and measurements; constants, Sampling, Loss: the
number formats, RNG constants and ids the Python mirror must agree with. Every input is
checked: bad values raise ValueError or TypeError.
)pbdoc";
  py::enum_<zipml::Sampling> sampling(m, "Sampling", "How a quantized value is stored (format.hpp).");
  for (zipml::Sampling e : {zipml::Sampling::Double, zipml::Sampling::Naive, zipml::Sampling::Nearest,
                            zipml::Sampling::Multi})
    sampling.value(zipml::sampling_name(e), e);
  py::enum_<zipml::LossId> loss(m, "Loss", "Loss ids of the SGD kernels (losses.hpp).");
  for (const auto& [id, name] : zipml::loss_names(zipml::Losses{})) loss.value(name, id);
  m.def("constants", &zp::constants, R"pbdoc(
Every constant of the specification that the Python side mirrors (format.hpp, rng.hpp):
line layout, fixed-point fractions, limits, the supported bit widths and Multi sample
counts, RNG stream ids and multipliers, the CPU build's max_features, and values_per_line
keyed "sampling/bits" (double, naive, nearest) and "multi{M}/bits".
)pbdoc");
  zp::bind_quantize(m);
  zp::bind_sgd(m);
  zp::bind_levels(m);
  zp::bind_diagnostics(m);
}
