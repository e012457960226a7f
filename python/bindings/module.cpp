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

/// {name: {"id", "refetch", "second_sample", "linear"}} for every loss policy of Losses:
/// its id, kRefetch, kSecondSample and whether it is a loss of sgd_linear.
template <class... Loss>
py::dict losses(zipml::TypeList<Loss...>) {
  py::dict out;
  auto add = [&](auto loss) {
    using L = decltype(loss);
    py::dict entry;
    entry["id"] = static_cast<int>(L::kId);
    entry["refetch"] = L::kRefetch;
    entry["second_sample"] = L::kSecondSample;
    entry["linear"] = zipml::Contains<zipml::LinearLosses, L>::value;
    out[L::kName] = entry;
  };
  (add(Loss{}), ...);
  return out;
}

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
  c["max_feature_shift"] = zipml::kMaxFeatureShift;
  c["level_value_frac"] = zipml::kLevelValueFrac;
  c["table_dot_mult"] = zipml::kTableDotMult;
  c["table_dot_drop"] = zipml::kTableDotDrop;
  c["table_dot_frac"] = zipml::kTableDotFrac;
  c["max_table_value"] = zipml::kMaxTableValue;
  c["poly_frac"] = zipml::kPolyFrac;
  c["weight_frac"] = zipml::kWeightFrac;
  c["penalty_frac"] = zipml::kPenaltyFrac;
  py::list bits, samples;
  for (int b : zipml::kSupportedBits) bits.append(b);
  for (int m : zipml::kMultiSamples) samples.append(m);
  c["supported_bits"] = py::tuple(bits);
  c["multi_samples"] = py::tuple(samples);
  c["stream_data"] = zipml::kStreamData;
  c["stream_model"] = zipml::kStreamModel;
  c["stream_grad"] = zipml::kStreamGrad;
  c["stream_sample"] = zipml::kStreamSample;
  c["stream_order"] = zipml::kStreamOrder;
  c["fraction_bits"] = zipml::kFractionBits;
  c["mix_mul1"] = zipml::kMixMul1;
  c["mix_mul2"] = zipml::kMixMul2;
  c["index_mul"] = zipml::kIndexMul;
  c["key_seed_xor"] = zipml::kKeySeedXor;
  c["max_features"] = kMaxFeatures;
  py::dict vpl;
  for (int b : zipml::kSupportedBits) {
    for (Sampling e : zipml::kSamplings) {
      const std::string name = zipml::sampling_name(e);
      if (zipml::variable_samples(e)) {
        for (int m : zipml::kMultiSamples)
          vpl[py::str(name + std::to_string(m) + "/" + std::to_string(b))] = zipml::values_per_line(b, e, m);
      } else {
        vpl[py::str(name + "/" + std::to_string(b))] = zipml::values_per_line(b, e);
      }
    }
  }
  c["values_per_line"] = vpl;
  c["losses"] = losses(zipml::Losses{});
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
  for (zipml::Sampling e : zipml::kSamplings) sampling.value(zipml::sampling_name(e), e);
  py::enum_<zipml::LossId> loss(m, "Loss", "Loss ids of the SGD kernels (losses.hpp).");
  for (const auto& [id, name] : zipml::loss_names(zipml::Losses{})) loss.value(name, id);
  m.def("constants", &zp::constants, R"pbdoc(
Every constant of the specification that the Python side mirrors (format.hpp, rng.hpp,
losses.hpp): line layout, fixed-point fractions, limits, the supported bit widths and Multi
sample counts, RNG stream ids and multipliers, the CPU build's max_features,
values_per_line keyed "sampling/bits" for each sampling with a fixed sample count and
"multi{M}/bits" for each M, and losses: {name: {"id", "refetch", "second_sample",
"linear"}} for every loss (its id, whether sgd_linear refetches for it, whether its loss
estimate uses the second sample's prediction, whether sgd_linear takes it).
)pbdoc");
  zp::bind_quantize(m);
  zp::bind_sgd(m);
  zp::bind_levels(m);
  zp::bind_diagnostics(m);
  zp::bind_tops(m);
  zp::bind_host(m);
}
