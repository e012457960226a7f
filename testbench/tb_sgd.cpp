// Testbench: sgd_least_squares model history against the golden model, bit for bit;
// where the build targets AVX-512, the CPU fast path is checked against the same vectors.
#include <cstdio>

#include "vectors.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_avx512.hpp"

namespace {
constexpr int kMaxFeatures = 1024;  // testbench build of the on-chip model
}

int main(int argc, char** argv) {
  return tb::run(argc, argv, "tb_sgd", [](const std::string& dir, int& passed, int& failed) {
    for (const tb::Case& c : tb::read_index(dir, "sgd")) {
      const int n = int(c["n"]), d = int(c["d"]), epochs = int(c["epochs"]);
      const auto data = tb::read_array<uint64_t>(c.dir + "/data.u64");
      const auto labels = tb::read_array<int32_t>(c.dir + "/labels.i32");
      const auto model_in = tb::read_array<int32_t>(c.dir + "/model_in.i32");
      const auto want = tb::read_array<int32_t>(c.dir + "/expected.i32");
      std::vector<int32_t> values;
      if (c["tables"]) values = tb::read_array<int32_t>(c.dir + "/values.i32");
      std::vector<int32_t> got(size_t(epochs) * (d + 1), 0);
      for (const bool fast : {false, true}) {
#ifndef ZIPML_HAVE_AVX512
        if (fast) continue;
#endif
        // the fast path covers uniform levels at 1, 2, 4, 8 bits
        if (fast && (c["tables"] || (c["bits"] & (c["bits"] - 1)))) continue;
        const bool known = d <= kMaxFeatures && tb::dispatch(int(c["bits"]), int(c["encoding"]), [&](auto b, auto e) {
          constexpr int B = decltype(b)::value;
          constexpr zipml::Encoding E = decltype(e)::value;
          const int* table = values.empty() ? nullptr : values.data();
          auto args = [&](auto kernel, auto... extra) {
            kernel(data.data(), labels.data(), n, d, int(c["n_copies"]), epochs, int(c["step_shift"]),
                   int(c["decay_epochs"]), int32_t(c["dot_mult"]), extra..., model_in.data(), got.data());
          };
#ifdef ZIPML_HAVE_AVX512
          if constexpr ((B & (B - 1)) == 0) {
            if (fast) return args(zipml::avx512::sgd_least_squares<B, E, kMaxFeatures>);
          }
#endif
          args(zipml::sgd_least_squares<B, E, kMaxFeatures>, table);
        });
        const size_t bad = known ? tb::mismatches(got, want) : want.size() + 1;
        if (bad)
          std::printf("FAIL %s (%s): %zu of %zu model values differ\n", c.dir.c_str(), fast ? "avx512" : "portable",
                      bad, want.size());
        (bad ? failed : passed) += 1;
      }
    }
  });
}
