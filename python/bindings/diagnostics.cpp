// Bindings for checks and measurements: the RNG's draws, a streaming read (the
// roofline of the benchmarks) and what this build was compiled with.
#include <string>

#include "checks.hpp"
#include "zipml/format.hpp"
#include "zipml/rng.hpp"
#include "zipml_cpu/quantize_avx512.hpp"
#include "zipml_cpu/sgd_avx512.hpp"

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

py::dict info() {
  py::dict d;
  d["max_features"] = kMaxFeatures;
  py::list bits;
  for (int b : zipml::kSupportedBits) bits.append(b);
  d["bits"] = py::tuple(bits);
  d["samplings"] = py::make_tuple(zipml::sampling_name(Sampling::Double), zipml::sampling_name(Sampling::Naive),
                                  zipml::sampling_name(Sampling::Nearest));
  py::dict vpl;
  for (int b : zipml::kSupportedBits) {
    vpl[py::str("double/" + std::to_string(b))] = zipml::values_per_line(b, Sampling::Double);
    vpl[py::str("naive/" + std::to_string(b))] = zipml::values_per_line(b, Sampling::Naive);
  }
  d["values_per_line"] = vpl;
  d["compiler"] = std::string(__VERSION__);
  d["cxx_flags"] = std::string(ZIPML_CXX_FLAGS);
  d["native"] = bool(ZIPML_NATIVE);
  std::string fast;
#ifdef ZIPML_HAVE_AVX512
  fast += "avx512 SGD";
#endif
#ifdef ZIPML_HAVE_AVX512_QUANTIZE
  fast += std::string(fast.empty() ? "" : " and ") + "avx512 quantizer";
#endif
  d["fast_path"] = fast.empty() ? std::string("none (portable kernels)")
                                : fast + " (uniform levels at 1, 2, 4, 8 bits; others run the portable kernels)";
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
What this build was compiled with: max_features, bits, samplings, values_per_line
("sampling/bits"), compiler, cxx_flags, native, fast_path and isa.
)pbdoc");
}

}  // namespace zipml_py
