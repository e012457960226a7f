// Bindings for checks and measurements: the RNG's draws, a streaming read (the
// roofline of the benchmarks) and what this build was compiled with.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "checks.hpp"
#include "zipml/format.hpp"
#include "zipml/losses.hpp"
#include "zipml/rng.hpp"
#include "zipml/sgd.hpp"
#include "zipml_cpu/dispatch.hpp"
#include "zipml_cpu/quantize_fast.hpp"
#include "zipml_cpu/sgd_fast.hpp"
#include "zipml_cpu/sgd_logistic_avx2.hpp"

namespace zipml_py {
namespace {

using zipml::Sampling;

py::array_t<uint32_t> draws(uint32_t seed, uint32_t a, uint32_t b, uint32_t c, py::ssize_t count) {
  require(count >= 0 && count <= (py::ssize_t(1) << 32), "count must be in [0, 2^32], got " + std::to_string(count));
  py::array_t<uint32_t> out(count);
  const uint32_t key = zipml::stream_key(seed, a, b, c);
  uint32_t* p = out.mutable_data();
  for (py::ssize_t i = 0; i < count; ++i) p[i] = zipml::draw(key, uint32_t(i));
  return out;
}

uint64_t stream_read(carray<uint64_t> buffer) {
  const uint64_t* p = buffer.data();
  const py::ssize_t n = buffer.size();
  py::gil_scoped_release release;
  uint64_t acc = 0;
#pragma omp simd reduction(+ : acc)
  for (py::ssize_t i = 0; i < n; ++i) acc += p[i];
  return acc;
}

/// What a fast path covers, from its supports_* predicate: "1, 2, 4, 8 bits x double,
/// naive, nearest", groups of samplings with the same bit widths joined by "; ", or ""
/// where it covers nothing. covered(BitsTag, SamplingTag) -> bool.
template <class Covered>
std::string coverage(Covered covered) {
  std::vector<std::pair<std::string, std::string>> groups;  // (bit widths, samplings)
  zipml::for_each_sampling<zipml::kSamplings>([&](auto e) {
    std::string bits;
    zipml::for_each_bits([&](auto b) {
      if (covered(b, e)) bits += (bits.empty() ? "" : ", ") + std::to_string(decltype(b)::value);
    });
    if (bits.empty()) return;
    const std::string name = zipml::sampling_name(decltype(e)::value);
    auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == bits; });
    if (group == groups.end())
      groups.emplace_back(bits, name);
    else
      group->second += ", " + name;
  });
  std::string text;
  for (const auto& group : groups) text += (text.empty() ? "" : "; ") + group.first + " bits x " + group.second;
  return text;
}

/// The fast paths this build has and what each covers (uniform levels, level tables where
/// the SGD path has kFastSgdTables, and for the SGD a full-precision model and gradient, or
/// on the AVX2 path their rounding onto a grid),
/// from fast_sgd_supports (the SGD fast path of sgd_fast.hpp: AVX-512 or AVX2),
/// avx2::supports_logistic (sgd_logistic_avx2.hpp) and fast_quantize_supports (the
/// quantizer fast path of quantize_fast.hpp: AVX-512 or AVX2).
std::string fast_path() {
  std::string fast;
#if defined(ZIPML_HAVE_AVX512) || defined(ZIPML_HAVE_AVX2)
  zipml::for_each_loss(zipml::LinearLosses{}, [&](auto loss) {
    using Loss = decltype(loss);
    const std::string covered = coverage(
        [](auto b, auto e) { return zipml::fast_sgd_supports<decltype(b)::value, decltype(e)::value, Loss>(); });
    if (!covered.empty())
      fast += std::string(fast.empty() ? "" : ", ") + zipml::kFastSgd + " SGD (" + Loss::kName + ": " + covered + ")";
  });
#ifdef ZIPML_HAVE_AVX2
  fast += " (refetching with level tables runs the portable kernel)";
#endif
#endif
  if (std::string(zipml::avx2::kFastLogistic) != "none") {
    const std::string covered = coverage(
        [](auto b, auto e) { return zipml::avx2::supports_logistic<decltype(b)::value, decltype(e)::value>(); });
    fast += std::string(fast.empty() ? "" : ", ") + zipml::avx2::kFastLogistic + " SGD (" +
            zipml::Logistic::kName + ": " + covered + ")";
  }
#if defined(ZIPML_HAVE_AVX512_QUANTIZE) || defined(ZIPML_HAVE_AVX2_QUANTIZE)
  const std::string covered = coverage([](auto b, auto e) {
    return zipml::fast_quantize_supports<decltype(b)::value, decltype(e)::value>();
  });
  if (!covered.empty())
    fast += std::string(fast.empty() ? "" : ", ") + zipml::kFastQuantize + " quantizer (" + covered + ")";
#endif
  const std::string levels = zipml::kFastSgdTables ? "with uniform levels (the SGD also with level tables)"
                                                    : "with uniform levels";
  return fast.empty() ? std::string("none (portable kernels)")
                      : fast + "; " + levels + " (and for the SGD a full-precision model and gradient" +
                               (std::string(zipml::kFastSgd) == "avx2" ? ", or with double data either rounded onto a grid" : "") +
                               "); every other call runs the portable kernels";
}

py::dict info() {
  py::dict d;
  // What the CLI's `info` prints besides the build facts: limits and formats of this build.
  d["max_features"] = kMaxFeatures;
  py::list bits, samplings;
  for (int b : zipml::kSupportedBits) bits.append(b);
  for (Sampling e : zipml::kLinearSamplings) samplings.append(zipml::sampling_name(e));
  d["bits"] = py::tuple(bits);
  d["samplings"] = py::tuple(samplings);
  // Build facts.
  d["compiler"] = std::string(__VERSION__);
  d["cxx_flags"] = std::string(ZIPML_CXX_FLAGS);
  d["native"] = bool(ZIPML_NATIVE);
  d["fast_path"] = fast_path();
  d["fast_sgd"] = std::string(zipml::kFastSgd);  // the SGD fast path's instruction set, or "none"
  d["fast_quantize"] = std::string(zipml::kFastQuantize);  // the quantizer's, or "none"
  d["fast_logistic"] = std::string(zipml::avx2::kFastLogistic);  // sgd_logistic's, or "none"
  d["fast_sgd_tables"] = zipml::kFastSgdTables;  // whether it also runs per-feature level tables
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

void bind_diagnostics(py::module_& m) {
  m.def("draws", &draws, py::arg("seed"), py::arg("a"), py::arg("b"), py::arg("c"), py::arg("count"), R"pbdoc(
Draws 0..count-1 of the counter-based stream (a, b, c) under seed (rng.hpp).

draw(key, i) = mix32(key ^ i * index_mul), key = stream_key(seed, a, b, c); for checking
the RNG against its NumPy twin. Returns uint32 (count,).
)pbdoc");
  m.def("stream_read", &stream_read, py::arg("buffer"), R"pbdoc(
Sum of the 64-bit words of buffer, read once front to back with the GIL released: the
memory read bandwidth the benchmarks compare the kernels with (the roofline).
)pbdoc");
  m.def("info", &info, R"pbdoc(
What this build was compiled with: compiler, cxx_flags, native (-march=native), isa,
fast_path (the CPU fast paths and the formats each covers), and for the command line's
`info`: max_features, bits (the supported bit widths) and samplings (those of training:
sgd_linear's). Every other constant is in constants().
)pbdoc");
}

}  // namespace zipml_py
